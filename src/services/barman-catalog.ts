import type { BarmanServerPaths } from './barman.js';
import { parseBackupInfo } from './barman-backup-info.js';
import type { BarmanBackup, CallOptions, ExecTransport } from './types.js';
import { ServiceError } from './types.js';

/**
 * Barman's catalogue of one server read from the files Barman itself reads, in one `sh` run through the exec
 * transport instead of Python runs: every `<basebackups_directory>/*\/backup.info` (what `list-backups` and
 * `show-backup` print: status, begin/end time, WAL and LSN range, timeline, size) and the WAL names of
 * `<wals_directory>/xlog.db` (what `list-files --target wal` filters). A restore's validation needs both;
 * read this way it costs milliseconds instead of a Python start-up per command.
 */

export interface BarmanFilesCatalog {
  /** Every backup with a backup.info, newest first (as `list-backups` lists them). */
  backups: BarmanBackup[];
  /**
   * The archived WAL names (xlog.db's first column) from the oldest backup's begin WAL on, plus every
   * `.history` file (older names cannot matter to a restore of a listed backup), in xlog.db's order (the order
   * Barman archived them: its `list-files` stops at the first segment past the next backup, history included).
   */
  walNames: string[];
}

const BACKUP_MARK = '\u001e';
const WAL_MARK = '\u001d';

/**
 * $1 the base backups directory, $2 the WAL directory. Exit 3 when the base directory is missing, 4 when
 * xlog.db is (Barman has not archived anything: a restore could not work anyway). awk compares the names as
 * strings (`""` forces it: a WAL name made of digits would otherwise compare as a number).
 */
const CATALOG_SCRIPT = [
  'cd "$1" 2>/dev/null || exit 3',
  'for f in */backup.info; do [ -f "$f" ] || continue; printf "\\036%s\\n" "${f%/backup.info}"; cat "$f"; done',
  'printf "\\035\\n"',
  '[ -f "$2/xlog.db" ] || exit 4',
  'from=$(sed -n "s/^begin_wal=\\([0-9A-F]\\{24\\}\\)$/\\1/p" */backup.info 2>/dev/null | sort | head -n 1)',
  'awk -v from="$from" \'{ n = $1 "" } n ~ /\\.history$/ || n >= from "" { print n }\' "$2/xlog.db"',
].join('\n');

/** The script's output → the catalogue (exported for tests). */
export function parseCatalogOutput(stdout: string): BarmanFilesCatalog {
  const walAt = stdout.indexOf(`${WAL_MARK}\n`);
  if (walAt < 0) throw new ServiceError('barman', 'malformed', 'reading Barman\'s catalogue: the output has no WAL part');
  const backups: BarmanBackup[] = [];
  for (const chunk of stdout.slice(0, walAt).split(BACKUP_MARK)) {
    if (!chunk.trim()) continue;
    const newline = chunk.indexOf('\n');
    const id = chunk.slice(0, newline < 0 ? undefined : newline).trim();
    const text = newline < 0 ? '' : chunk.slice(newline + 1);
    // A backup.info without a status (being written, empty) is what Barman lists as such: skip it, as list-backups cannot parse it either.
    try {
      backups.push(parseBackupInfo(text, id));
    } catch {
      // not a readable backup.info
    }
  }
  backups.sort((a, b) => b.id.localeCompare(a.id));
  const walNames = stdout
    .slice(walAt + WAL_MARK.length + 1)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return { backups, walNames };
}

/** Read the catalogue through the transport (as Barman's account). */
export async function readBarmanCatalog(transport: ExecTransport, paths: BarmanServerPaths, options: CallOptions = {}): Promise<BarmanFilesCatalog> {
  const result = await transport.exec(['sh', '-c', CATALOG_SCRIPT, 'sh', paths.basebackupsDirectory, paths.walsDirectory], { timeoutMs: 30_000, ...options });
  if (result.code !== 0) {
    const why = result.code === 3 ? `${paths.basebackupsDirectory} is missing` : result.code === 4 ? `${paths.walsDirectory}/xlog.db is missing` : result.stderr.trim() || `exit ${result.code}`;
    throw new ServiceError('barman', 'failed', `cannot read Barman's catalogue on ${transport.description}: ${why}`, transport.description);
  }
  return parseCatalogOutput(result.stdout);
}

const SEGMENT = /^([0-9A-F]{8})[0-9A-F]{16}$/;

/**
 * What `barman list-files --target wal <server> <backup>` prints, from the catalogue: every `.history` file,
 * then the WAL segments from the backup's begin WAL on, of its timeline or an older one, up to the end WAL
 * of the next backup whose copy is done (WAITING_FOR_WALS or DONE, by id) — Barman's
 * `get_wal_until_next_backup(include_history=True)`. Names only, sorted (history files first).
 */
export function walUntilNextBackup(catalog: BarmanFilesCatalog, backupId: string): string[] {
  const backup = catalog.backups.find((b) => b.id === backupId);
  if (!backup?.beginWal) throw new ServiceError('barman', 'malformed', `backup ${backupId} is not in Barman's catalogue or has no begin WAL`);
  const begin = backup.beginWal;
  const timeline = parseInt(begin.slice(0, 8), 16);
  const next = catalog.backups
    .filter((b) => b.id > backupId && (b.status === 'DONE' || b.status === 'WAITING_FOR_WALS'))
    .sort((a, b) => a.id.localeCompare(b.id))[0];
  const nextEnd = next?.endWal;
  // Barman's loop over xlog.db, in its order: every .history file, segments from the begin WAL of this
  // timeline or an older one, and a stop at the first such segment past the next backup's end (a .history
  // archived after that one is not listed).
  const history: string[] = [];
  const segments: string[] = [];
  for (const name of catalog.walNames) {
    if (name.endsWith('.history')) {
      history.push(name);
      continue;
    }
    const m = SEGMENT.exec(name);
    if (name < begin || !m) continue;
    if (parseInt(m[1] as string, 16) > timeline) continue;
    if (nextEnd !== undefined && name > nextEnd) break;
    segments.push(name);
  }
  return [...history.sort(), ...segments.sort()];
}
