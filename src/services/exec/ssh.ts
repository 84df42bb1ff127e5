import type { CallOptions, ExecResult, ExecTransport, SourceName } from '../types.js';
import { LocalTransport } from './local.js';

/**
 * Run commands on another host through the system `ssh`, so the operator's ~/.ssh/config, known_hosts and
 * agent apply. BatchMode=yes: ssh fails at once instead of prompting for a password or a host key.
 */

export interface SshTransportOptions {
  /** A host as ssh knows it, e.g. `barman@backup1` or an alias from ~/.ssh/config. */
  host: string;
  port?: number;
  /** Extra ssh arguments, e.g. ["-i", "/path/key"] or ["-o", "ProxyJump=bastion"]. */
  options?: string[];
  source?: SourceName;
  timeoutMs?: number;
  /** Seconds ssh waits for the TCP connection (ConnectTimeout); default 10. */
  connectTimeoutSeconds?: number;
}

/** Quote one word for a POSIX shell: safe as is, or in single quotes with each ' written as '\''. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The ssh argv for running `argv` remotely (pure; exported for tests). ssh joins its trailing arguments into one
 * string for the remote shell, so every word is quoted here and passed as a single argument.
 */
export function sshArgv(options: SshTransportOptions, argv: string[]): string[] {
  return [
    'ssh',
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${options.connectTimeoutSeconds ?? 10}`,
    ...(options.port ? ['-p', String(options.port)] : []),
    ...(options.options ?? []),
    '--',
    options.host,
    argv.map(shellQuote).join(' '),
  ];
}

export class SshTransport implements ExecTransport {
  readonly description: string;
  private readonly local: LocalTransport;

  constructor(private readonly options: SshTransportOptions) {
    this.description = `ssh ${options.host}${options.port ? `:${options.port}` : ''}`;
    this.local = new LocalTransport({
      ...(options.source ? { source: options.source } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  }

  private fixExitCode(result: ExecResult): ExecResult {
    // 255 is ssh's own failure (connection, authentication), not the remote command's: say so.
    if (result.code === 255 && !result.stdout) {
      return { ...result, stderr: `ssh to ${this.options.host} failed: ${result.stderr.trim() || 'exit 255'}` };
    }
    return result;
  }

  async exec(argv: string[], options: CallOptions = {}): Promise<ExecResult> {
    return this.fixExitCode(await this.local.exec(sshArgv(this.options, argv), options));
  }

  async stream(argv: string[], onLine: (line: string) => void, options: CallOptions = {}): Promise<ExecResult> {
    return this.fixExitCode(await this.local.stream(sshArgv(this.options, argv), onLine, options));
  }
}
