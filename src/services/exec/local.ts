import { execFile, spawn } from 'node:child_process';
import readline from 'node:readline';
import { timeoutError } from '../errors.js';
import type { CallOptions, ExecResult, ExecTransport, SourceName } from '../types.js';
import { ServiceError } from '../types.js';

/**
 * Run commands on this machine, optionally as another OS account: through `setpriv` when we are root (no
 * PAM, no password, exact uid/gid/groups), else through `sudo -n -u` (which fails at once instead of
 * prompting when a password would be needed). The environment is minimal and PATH starts with /usr/bin.
 */

export const EXEC_PATH = '/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin';
const DEFAULT_TIMEOUT_MS = 30_000;
/** Output kept per stream; a runaway command must not eat the cockpit's memory. */
const OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024;

export interface LocalTransportOptions {
  /** Run as this account. */
  user?: string;
  /** Which source to name in errors (barman, archive-log). */
  source?: SourceName;
  timeoutMs?: number;
  /** For tests: pretend we are (not) root. */
  asRoot?: boolean;
}

interface Account {
  name: string;
  gid: string;
  home: string;
}

function lookupAccount(user: string): Promise<Account | undefined> {
  return new Promise((resolve) => {
    execFile('getent', ['passwd', user], { env: { PATH: EXEC_PATH }, timeout: 5000 }, (error, stdout) => {
      if (error) return resolve(undefined);
      const fields = stdout.trim().split(':');
      resolve(fields.length >= 6 ? { name: fields[0] as string, gid: fields[3] as string, home: fields[5] as string } : undefined);
    });
  });
}

/** The argv that runs `argv` as `user` (pure; exported for tests). */
export function runAsArgv(argv: string[], user: string | undefined, asRoot: boolean, account?: { gid?: string; home?: string }): string[] {
  const env = ['env', `PATH=${EXEC_PATH}`, 'LANG=C.UTF-8', ...(account?.home ? [`HOME=${account.home}`] : [])];
  if (!user) return argv;
  if (asRoot) return ['setpriv', `--reuid=${user}`, `--regid=${account?.gid ?? user}`, '--init-groups', '--', ...env, ...argv];
  return ['sudo', '-n', '-u', user, '--', ...env, ...argv];
}

export class LocalTransport implements ExecTransport {
  readonly description: string;
  private account: Promise<Account | undefined> | undefined;
  private readonly source: SourceName;

  constructor(private readonly options: LocalTransportOptions = {}) {
    this.description = options.user ? `local (as ${options.user})` : 'local';
    this.source = options.source ?? 'barman';
  }

  private async commandLine(argv: string[]): Promise<string[]> {
    if (argv.length === 0) throw new ServiceError(this.source, 'failed', 'no command given to the local transport');
    const user = this.options.user;
    if (!user) return argv;
    this.account ??= lookupAccount(user);
    const account = await this.account;
    if (!account) throw new ServiceError(this.source, 'failed', `cannot run as ${user}: there is no such account on this machine`, this.description);
    const asRoot = this.options.asRoot ?? process.getuid?.() === 0;
    return runAsArgv(argv, user, asRoot, account);
  }

  exec(argv: string[], options: CallOptions = {}): Promise<ExecResult> {
    return this.run(argv, undefined, options);
  }

  stream(argv: string[], onLine: (line: string) => void, options: CallOptions = {}): Promise<ExecResult> {
    return this.run(argv, onLine, { ...options, timeoutMs: options.timeoutMs ?? Number.POSITIVE_INFINITY });
  }

  private async run(argv: string[], onLine: ((line: string) => void) | undefined, options: CallOptions): Promise<ExecResult> {
    options.signal?.throwIfAborted();
    const line = await this.commandLine(argv);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const shown = argv.join(' ');
    return new Promise<ExecResult>((resolve, reject) => {
      const child = spawn(line[0] as string, line.slice(1), {
        env: { PATH: EXEC_PATH, LANG: 'C.UTF-8', HOME: process.env.HOME ?? '/' },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so that a timeout kills sudo/setpriv and everything under them.
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      let settled = false;
      let timedOut = false;
      const kill = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            timedOut = true;
            kill();
          }, timeoutMs)
        : undefined;
      const onAbort = () => kill();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const finish = (result: ExecResult | Error) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      if (onLine) {
        readline.createInterface({ input: child.stdout }).on('line', (text) => {
          try {
            onLine(text);
          } catch {
            // a listener's failure doesn't stop the stream
          }
        });
      } else {
        child.stdout.on('data', (chunk: Buffer) => {
          if (stdout.length < OUTPUT_LIMIT_BYTES) stdout += chunk.toString();
        });
      }
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < OUTPUT_LIMIT_BYTES) stderr += chunk.toString();
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        const missing = error.code === 'ENOENT';
        finish(
          new ServiceError(
            this.source,
            'failed',
            missing ? `${line[0]} is not installed or not on PATH (${EXEC_PATH}) on ${this.description}` : `cannot run ${shown} on ${this.description}: ${error.message}`,
            this.description,
            { cause: error },
          ),
        );
      });
      child.on('close', (code, signal) => {
        if (timedOut) return finish(timeoutError(this.source, `${shown} on ${this.description}`, this.description, timeoutMs));
        if (options.signal?.aborted && !onLine) return finish(options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted'));
        finish({ code: code ?? (signal ? 128 : 1), stdout, stderr });
      });
    });
  }
}
