import fs from 'node:fs/promises';
import type { ClusterConfig, ExecTransportConfig } from '../config/schema.js';
import { createTransport } from './exec/transport.js';
import type { CallOptions, ExecTransport } from './types.js';
import { ServiceError } from './types.js';

/** The archive log of a member (what its archive_command wrote), read as its last N lines through a transport. */

const DEFAULT_TIMEOUT_MS = 5000;

export function archiveLogPath(template: string, member: string): string {
  return template.replaceAll('{member}', member);
}

export class ArchiveLogReader {
  private readonly transports = new Map<string, ExecTransport>();

  constructor(
    private readonly config: NonNullable<ClusterConfig['archiveLog']>,
    private readonly options: { timeoutMs?: number; transportFor?: (config: ExecTransportConfig) => ExecTransport } = {},
  ) {}

  static fromConfig(config: NonNullable<ClusterConfig['archiveLog']>): ArchiveLogReader {
    return new ArchiveLogReader(config);
  }

  /** The transport that reaches a member's files: its own from `members`, else the common one. */
  transportFor(member: string): ExecTransport {
    let transport = this.transports.get(member);
    if (!transport) {
      const config = this.config.members?.[member] ?? this.config.transport;
      transport = this.options.transportFor ? this.options.transportFor(config) : createTransport(config, { source: 'archive-log' });
      this.transports.set(member, transport);
    }
    return transport;
  }

  /**
   * A file this process can read itself (local transport, no other account): its tail is read directly,
   * without a `tail` process every poll. Only the last 64 KiB are read, however large the log grows.
   */
  private async readLocally(path: string, lines: number): Promise<string[]> {
    let handle;
    try {
      handle = await fs.open(path, 'r');
    } catch (error) {
      throw new ServiceError('archive-log', 'failed', `cannot read the archive log ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'local', { cause: error });
    }
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const all = buffer.toString('utf8').replace(/\n$/, '').split('\n');
      if (length < size) all.shift(); // a line cut by the window
      return all.filter((line, i) => line !== '' || i > 0).slice(-lines);
    } finally {
      await handle.close();
    }
  }

  /** The last `lines` lines of the member's archive log (oldest first). */
  async tail(member: string, lines: number, options: CallOptions = {}): Promise<string[]> {
    if (!Number.isInteger(lines) || lines < 1) throw new RangeError(`lines must be a positive whole number, got ${lines}`);
    const path = archiveLogPath(this.config.path, member);
    const config = this.config.members?.[member] ?? this.config.transport;
    if (!this.options.transportFor && config.kind === 'local' && !config.user) {
      const text = await this.readLocally(path, lines);
      return text.length === 1 && text[0] === '' ? [] : text;
    }
    const transport = this.transportFor(member);
    let result;
    try {
      result = await transport.exec(['tail', '-n', String(lines), '--', path], { ...options, timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    } catch (error) {
      if (error instanceof ServiceError && error.source !== 'archive-log') throw new ServiceError('archive-log', error.kind, error.message, error.endpoint, { cause: error });
      throw error;
    }
    if (result.code !== 0) {
      const said = result.stderr.trim().split('\n')[0] ?? '';
      throw new ServiceError('archive-log', 'failed', `tail of ${member}'s archive log ${path} exited ${result.code} on ${transport.description}${said ? `: ${said}` : ''}`, transport.description);
    }
    const text = result.stdout.replace(/\n$/, '');
    return text === '' ? [] : text.split('\n');
  }
}
