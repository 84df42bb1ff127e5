import { formatBytes } from '../util/units.js';
import type { MemberSession, OpsContext } from './context.js';
import type { ProgressEvent } from './types.js';

/**
 * The bytes of a base backup being taken from a member (a Barman backup, a replica's reinit), read from
 * that member's pg_stat_progress_basebackup. One reader per step: it remembers the last figure so that a
 * poll only yields progress when the bytes moved, and the most copied (for the step's summary).
 */

export interface BasebackupSample {
  phase: string;
  bytes: number;
  totalBytes?: number;
}

const QUERY = 'SELECT phase, backup_streamed::float8 AS streamed, backup_total::float8 AS total FROM pg_stat_progress_basebackup';

export class BasebackupProgress {
  private lastBytes = -1;
  /** The most bytes seen streamed. */
  maxBytes = 0;
  /** The phase last read ("streaming database files", "waiting for wal archiving to finish", …). */
  phase: string | undefined;
  private session: MemberSession | undefined;

  constructor(
    private readonly context: Pick<OpsContext, 'memberQuery' | 'memberSession'>,
    private readonly member: { name: string; host?: string | undefined; port?: number | undefined },
    private readonly stepId: string,
    /** The progress line: "base backup streaming: 1.2 GB of 3.0 GB". */
    private readonly describe: (sample: BasebackupSample) => string = (s) => `base backup ${s.phase}: ${formatBytes(s.bytes)}${s.totalBytes ? ` of ${formatBytes(s.totalBytes)}` : ''}`,
    /** Poll on one kept connection (when the context offers one) instead of a connection per read: then close() it. */
    private readonly keepConnection = false,
  ) {}

  /** Close the kept connection (a no-op without one). */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.close().catch(() => undefined);
  }

  /** One read; a progress event when the bytes moved since the last one, else undefined (also on a read error). */
  async poll(signal: AbortSignal): Promise<ProgressEvent | undefined> {
    const { host, port, name } = this.member;
    if (!host || !port) return undefined;
    const target = { name, host, port };
    if (this.keepConnection && this.context.memberSession) this.session ??= this.context.memberSession(target);
    const options = { signal, timeoutMs: 3000 };
    const rows = await (this.session ? this.session.query(QUERY, options) : this.context.memberQuery(target, QUERY, options)).catch(() => []);
    const row = rows[0];
    if (!row) return undefined;
    this.phase = String(row.phase);
    const bytes = Number(row.streamed ?? 0);
    if (bytes === this.lastBytes) return undefined;
    this.lastBytes = bytes;
    this.maxBytes = Math.max(this.maxBytes, bytes);
    const totalBytes = row.total === null || row.total === undefined ? undefined : Number(row.total);
    const sample: BasebackupSample = { phase: String(row.phase), bytes, ...(totalBytes ? { totalBytes } : {}) };
    return {
      type: 'progress',
      stepId: this.stepId,
      bytes,
      ...(totalBytes ? { totalBytes, fraction: Math.min(1, bytes / totalBytes) } : {}),
      message: this.describe(sample),
    };
  }
}
