import '../util/zod-setup.js';
import * as z from 'zod/mini';
import type { ClusterConfig } from '../config/schema.js';
import { describeIssues } from './errors.js';
import { createTransport } from './exec/transport.js';
import type { BarmanBackup, BarmanCheck, BarmanServerStatus, CallOptions, ExecResult, ExecTransport } from './types.js';
import { ServiceError } from './types.js';

/**
 * Barman adapter: `barman [-c config] -f json <command> <server>` through an exec transport (`-f json` is a
 * global option, before the command). list-backups, show-backup, status, check → normalized results.
 * `barman check` exits 1 when a check fails: that is a result (ok: false), not an error.
 */

const numberish = z.union([z.number(), z.string()]);

const listedBackupSchema = z.looseObject({
  backup_id: z.string(),
  status: z.string(),
  backup_name: z.nullish(z.string()),
  begin_time: z.nullish(z.string()),
  begin_time_timestamp: z.nullish(numberish),
  end_time: z.nullish(z.string()),
  end_time_timestamp: z.nullish(numberish),
  size_bytes: z.nullish(numberish),
  wal_size_bytes: z.nullish(numberish),
  error: z.nullish(z.string()),
});

export const barmanListBackupsSchema = z.record(z.string(), z.array(listedBackupSchema));

const baseBackupInformationSchema = z.looseObject({
  begin_time: z.nullish(z.string()),
  begin_time_timestamp: z.nullish(numberish),
  end_time: z.nullish(z.string()),
  end_time_timestamp: z.nullish(numberish),
  begin_wal: z.nullish(z.string()),
  end_wal: z.nullish(z.string()),
  begin_lsn: z.nullish(z.string()),
  end_lsn: z.nullish(z.string()),
  timeline: z.nullish(numberish),
  disk_usage_bytes: z.nullish(numberish),
  disk_usage_with_wals_bytes: z.nullish(numberish),
  copy_time_seconds: z.nullish(numberish),
});

const shownBackupSchema = z.looseObject({
  backup_id: z.string(),
  status: z.string(),
  base_backup_information: z.nullish(baseBackupInformationSchema),
  wal_information: z.nullish(z.looseObject({ disk_usage_bytes: z.nullish(numberish) })),
  error: z.nullish(z.string()),
});

export const barmanShowBackupSchema = z.record(z.string(), shownBackupSchema);

export const barmanStatusSchema = z.record(z.string(), z.record(z.string(), z.looseObject({ description: z.nullish(z.string()), message: z.unknown() })));

/** `show-servers`: only the directories the state fingerprint needs. */
export const barmanShowServersSchema = z.record(
  z.string(),
  z.looseObject({ basebackups_directory: z.string(), wals_directory: z.string() }),
);

/** Where Barman keeps one server's backups and WAL (from `barman show-servers`). */
export interface BarmanServerPaths {
  basebackupsDirectory: string;
  walsDirectory: string;
}

/**
 * A cheap fingerprint of what `list-backups` reports, read without Barman: `backups` changes when a backup
 * starts, ends, fails or is deleted (the base directory and each backup.info), `wals` when Barman files WAL
 * (xlog.db; it moves the WAL sizes).
 */
export interface BarmanStateFingerprint {
  backups: string;
  wals: string;
}

/**
 * One `stat` through the transport (sh and GNU stat on the Barman host): the base directory, every
 * backup.info (name, size, mtime to the nanosecond) and xlog.db. Exit 3 when the base directory is gone.
 */
const FINGERPRINT_SCRIPT = 'cd "$1" 2>/dev/null || exit 3; stat -c "%n %s %y" . ./*/backup.info 2>/dev/null; echo "--"; stat -c "%s %y" "$2/xlog.db" 2>/dev/null; exit 0';

export const barmanCheckSchema = z.record(z.string(), z.record(z.string(), z.looseObject({ status: z.string(), hint: z.nullish(z.string()) })));

function num(value: number | string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** An epoch-seconds field (Barman writes them as strings) → ISO; else the text field if it parses as a date. */
function isoTime(timestamp: number | string | null | undefined, text: string | null | undefined): string | undefined {
  const epoch = num(timestamp);
  if (epoch !== undefined) return new Date(epoch * 1000).toISOString();
  if (text) {
    const parsed = Date.parse(text);
    if (!Number.isNaN(parsed)) return new Date(parsed).toISOString();
  }
  return undefined;
}

function serverEntry<T>(data: Record<string, T>, server: string, what: string): T {
  const entry = data[server];
  if (entry === undefined) throw new ServiceError('barman', 'malformed', `barman ${what} answered no entry for server ${server} (it has: ${Object.keys(data).join(', ') || 'nothing'})`);
  return entry;
}

export function normalizeListBackups(data: z.infer<typeof barmanListBackupsSchema>, server: string): BarmanBackup[] {
  return serverEntry(data, server, 'list-backups').map((b) => {
    const backup: BarmanBackup = { id: b.backup_id, status: b.status };
    const begin = isoTime(b.begin_time_timestamp, b.begin_time);
    if (begin) backup.beginTime = begin;
    const end = isoTime(b.end_time_timestamp, b.end_time);
    if (end) backup.endTime = end;
    const size = num(b.size_bytes);
    if (size !== undefined) backup.sizeBytes = size;
    const walSize = num(b.wal_size_bytes);
    if (walSize !== undefined) backup.walSizeBytes = walSize;
    if (b.error) backup.error = b.error;
    return backup;
  });
}

export function normalizeShowBackup(data: z.infer<typeof barmanShowBackupSchema>, server: string): BarmanBackup {
  const b = serverEntry(data, server, 'show-backup');
  const info = b.base_backup_information ?? {};
  const backup: BarmanBackup = { id: b.backup_id, status: b.status };
  const begin = isoTime(info.begin_time_timestamp, info.begin_time);
  if (begin) backup.beginTime = begin;
  const end = isoTime(info.end_time_timestamp, info.end_time);
  if (end) backup.endTime = end;
  if (info.begin_wal) backup.beginWal = info.begin_wal;
  if (info.end_wal) backup.endWal = info.end_wal;
  if (info.begin_lsn) backup.beginLsn = info.begin_lsn;
  if (info.end_lsn) backup.endLsn = info.end_lsn;
  const timeline = num(info.timeline);
  if (timeline !== undefined) backup.timeline = timeline;
  const size = num(info.disk_usage_bytes);
  if (size !== undefined) backup.sizeBytes = size;
  const walSize = num(b.wal_information?.disk_usage_bytes);
  if (walSize !== undefined) backup.walSizeBytes = walSize;
  const beginMs = begin ? Date.parse(begin) : undefined;
  const endMs = end ? Date.parse(end) : undefined;
  if (beginMs !== undefined && endMs !== undefined) backup.durationSeconds = Math.max(0, (endMs - beginMs) / 1000);
  if (b.error) backup.error = b.error;
  return backup;
}

export function normalizeStatus(data: z.infer<typeof barmanStatusSchema>, server: string): BarmanServerStatus {
  const entries = serverEntry(data, server, 'status');
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(entries)) raw[key] = value.message === null || value.message === undefined ? '' : String(value.message);
  const status: BarmanServerStatus = { active: /^true$/i.test(raw.active ?? ''), raw };
  // "000000010000000000000006.00000028.backup, at Sat Nov 21 22:01:43 2026" (the time is the Barman host's local time).
  const lastArchived = raw.last_archived_wal;
  if (lastArchived && !/^no wal|^none/i.test(lastArchived)) {
    const [wal, at] = lastArchived.split(/, at /);
    if (wal) status.lastArchivedWal = wal.trim();
    const iso = isoTime(undefined, at);
    if (iso) status.lastArchivedAt = iso;
  }
  if (raw.first_backup && !/^no/i.test(raw.first_backup)) status.firstBackupId = raw.first_backup;
  if (raw.last_backup && !/^no/i.test(raw.last_backup)) status.lastBackupId = raw.last_backup;
  const count = num(raw.backups_number);
  if (count !== undefined) status.backupCount = count;
  return status;
}

export function normalizeCheck(data: z.infer<typeof barmanCheckSchema>, server: string): BarmanCheck {
  const checks = Object.entries(serverEntry(data, server, 'check')).map(([name, value]) => {
    const check: BarmanCheck['checks'][number] = { name, ok: value.status.toUpperCase() === 'OK' };
    if (value.hint) check.hint = value.hint;
    return check;
  });
  return { ok: checks.length > 0 && checks.every((c) => c.ok), checks };
}

export interface BarmanAdapterOptions {
  server: string;
  config?: string;
  timeoutMs: number;
}

export class BarmanAdapter {
  constructor(
    private readonly options: BarmanAdapterOptions,
    readonly transport: ExecTransport,
  ) {}

  static fromConfig(config: NonNullable<ClusterConfig['barman']>): BarmanAdapter {
    const options: BarmanAdapterOptions = { server: config.server, timeoutMs: config.timeoutMs };
    if (config.config) options.config = config.config;
    return new BarmanAdapter(options, createTransport(config.transport, { source: 'barman', timeoutMs: config.timeoutMs }));
  }

  /** `barman [-c config] -f json <command> <args…>` */
  argv(command: string, args: string[]): string[] {
    return ['barman', ...(this.options.config ? ['-c', this.options.config] : []), '-f', 'json', command, ...args];
  }

  private async run(command: string, args: string[], options: CallOptions, acceptFailure = false): Promise<{ result: ExecResult; data: unknown }> {
    let result: ExecResult;
    try {
      result = await this.transport.exec(this.argv(command, args), { ...options, timeoutMs: options.timeoutMs ?? this.options.timeoutMs });
    } catch (error) {
      if (error instanceof ServiceError && error.source !== 'barman') {
        throw new ServiceError('barman', error.kind, error.message, error.endpoint, { cause: error });
      }
      throw error;
    }
    const problem = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(0, 3).join(' / ').slice(0, 300);
    let data: unknown;
    try {
      data = JSON.parse(result.stdout);
    } catch {
      if (result.code !== 0) throw new ServiceError('barman', 'failed', `barman ${command} exited ${result.code} on ${this.transport.description}: ${problem || 'no output'}`, this.transport.description);
      throw new ServiceError('barman', 'malformed', `barman ${command} did not print JSON on ${this.transport.description} (is it Barman ≥ 2.x with -f json?): ${problem}`, this.transport.description);
    }
    if (result.code !== 0 && !acceptFailure) {
      throw new ServiceError('barman', 'failed', `barman ${command} exited ${result.code} on ${this.transport.description}: ${problem || 'no output'}`, this.transport.description);
    }
    return { result, data };
  }

  private validate<S extends z.ZodMiniType>(command: string, data: unknown, schema: S): z.output<S> {
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new ServiceError('barman', 'malformed', `barman ${command} printed JSON of an unexpected shape: ${describeIssues(parsed.error.issues)}`, this.transport.description);
    }
    return parsed.data;
  }

  /** All backups of the server, newest first (as Barman lists them). list-backups gives no begin time in Barman ≤ 3.x: use showBackup. */
  async listBackups(options: CallOptions = {}): Promise<BarmanBackup[]> {
    const { data } = await this.run('list-backups', [this.options.server], options);
    return normalizeListBackups(this.validate('list-backups', data, barmanListBackupsSchema), this.options.server);
  }

  /** One backup in detail (begin/end time, WAL and LSN range, timeline, size). `id` may also be latest/oldest. */
  async showBackup(id: string, options: CallOptions = {}): Promise<BarmanBackup> {
    const { data } = await this.run('show-backup', [this.options.server, id], options);
    return normalizeShowBackup(this.validate('show-backup', data, barmanShowBackupSchema), this.options.server);
  }

  async status(options: CallOptions = {}): Promise<BarmanServerStatus> {
    const { data } = await this.run('status', [this.options.server], options);
    return normalizeStatus(this.validate('status', data, barmanStatusSchema), this.options.server);
  }

  /** The server's base backup and WAL directories (a Barman run: ask once and keep the answer). */
  async serverPaths(options: CallOptions = {}): Promise<BarmanServerPaths> {
    const { data } = await this.run('show-servers', [this.options.server], options);
    const entry = serverEntry(this.validate('show-servers', data, barmanShowServersSchema), this.options.server, 'show-servers');
    return { basebackupsDirectory: entry.basebackups_directory, walsDirectory: entry.wals_directory };
  }

  /** The state fingerprint: one cheap command through the transport, no Barman (Python) run. */
  async stateFingerprint(paths: BarmanServerPaths, options: CallOptions = {}): Promise<BarmanStateFingerprint> {
    const argv = ['sh', '-c', FINGERPRINT_SCRIPT, 'sh', paths.basebackupsDirectory, paths.walsDirectory];
    let result: ExecResult;
    try {
      result = await this.transport.exec(argv, { ...options, timeoutMs: options.timeoutMs ?? this.options.timeoutMs });
    } catch (error) {
      if (error instanceof ServiceError && error.source !== 'barman') {
        throw new ServiceError('barman', error.kind, error.message, error.endpoint, { cause: error });
      }
      throw error;
    }
    const [backups, wals] = result.stdout.split('--\n');
    if (result.code !== 0 || backups === undefined || wals === undefined || !backups.trim()) {
      throw new ServiceError('barman', 'failed', `cannot read Barman's state of ${this.options.server} in ${paths.basebackupsDirectory} on ${this.transport.description} (exit ${result.code})`, this.transport.description);
    }
    return { backups: backups.trim(), wals: wals.trim() };
  }

  /** barman check: failing checks give ok:false (Barman exits 1 then), not an exception. */
  async check(options: CallOptions = {}): Promise<BarmanCheck> {
    const { data } = await this.run('check', [this.options.server], options, true);
    return normalizeCheck(this.validate('check', data, barmanCheckSchema), this.options.server);
  }
}
