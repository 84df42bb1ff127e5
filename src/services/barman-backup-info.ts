import path from 'node:path';
import type { BarmanBackup, CallOptions, ExecTransport } from './types.js';
import { ServiceError } from './types.js';

/**
 * The `backup.info` file Barman writes in a backup's directory (`<backup_directory>/base/<id>/backup.info`):
 * the same facts `barman show-backup` prints (status, begin/end time, WAL and LSN range, timeline, size),
 * read with one `cat` through the exec transport instead of a Python run. Barman writes it at the start
 * (status STARTED) and rewrites it as the backup moves on (WAITING_FOR_WALS, DONE, FAILED).
 */

/** `key=value` lines → a map (values as written; Python's None stays "None"). */
export function parseInfoLines(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    fields.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return fields;
}

function present(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value === 'None' ? undefined : value;
}

/** Barman's "2026-11-22 01:08:30.959509+00:00" → ISO (undefined when it does not parse). */
function isoOf(value: string | undefined): string | undefined {
  const text = present(value);
  if (!text) return undefined;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function numberOf(value: string | undefined): number | undefined {
  const text = present(value);
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** A backup.info's text → the backup as the adapter normalizes `show-backup` (no WAL size: that is the WAL catalogue's). */
export function parseBackupInfo(text: string, id: string): BarmanBackup {
  const fields = parseInfoLines(text);
  const status = present(fields.get('status'));
  if (!status) throw new ServiceError('barman', 'malformed', `backup.info of ${id} has no status (${text.length} bytes read)`);
  const backup: BarmanBackup = { id: present(fields.get('backup_id')) ?? id, status };
  const begin = isoOf(fields.get('begin_time'));
  const end = isoOf(fields.get('end_time'));
  if (begin) backup.beginTime = begin;
  if (end) backup.endTime = end;
  const strings = { beginWal: 'begin_wal', endWal: 'end_wal', beginLsn: 'begin_xlog', endLsn: 'end_xlog', error: 'error' } as const;
  for (const [key, field] of Object.entries(strings) as Array<[keyof typeof strings, string]>) {
    const value = present(fields.get(field));
    if (value !== undefined) backup[key] = value;
  }
  const timeline = numberOf(fields.get('timeline'));
  if (timeline !== undefined) backup.timeline = timeline;
  const size = numberOf(fields.get('size'));
  if (size !== undefined) backup.sizeBytes = size;
  if (begin && end) backup.durationSeconds = Math.max(0, (Date.parse(end) - Date.parse(begin)) / 1000);
  return backup;
}

/** The copy time Barman measured (`copy_stats={'copy_time': 12.45, …}`), in seconds. */
export function backupCopySeconds(text: string): number | undefined {
  const m = /'copy_time':\s*([\d.]+)/.exec(parseInfoLines(text).get('copy_stats') ?? '');
  return m?.[1] ? Number(m[1]) : undefined;
}

/** Read a backup's backup.info through the transport (as Barman's account). `dir` is the backup's directory. */
export async function readBackupInfo(transport: ExecTransport, dir: string, options: CallOptions = {}): Promise<{ backup: BarmanBackup; text: string }> {
  const file = path.posix.join(dir, 'backup.info');
  const result = await transport.exec(['cat', file], { timeoutMs: 10_000, ...options });
  if (result.code !== 0) throw new ServiceError('barman', 'failed', `cannot read ${file} on ${transport.description}: ${result.stderr.trim() || `exit ${result.code}`}`, transport.description);
  return { backup: parseBackupInfo(result.stdout, path.posix.basename(dir)), text: result.stdout };
}
