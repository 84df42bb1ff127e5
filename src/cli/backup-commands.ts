import { removeSafetyCopy, safetyCopyLocation } from '../lab/restore-lab.js';
import { readLabTopology } from '../lab/lab.js';
import { openCluster } from '../model/open.js';
import type { ClusterSnapshot } from '../model/snapshot.js';
import type { OperationRequest } from '../ops/operations.js';
import type { OperationRun } from '../ops/runner.js';
import { pitrResultLines, restoreListing } from '../ops/pitr.js';
import type { PitrTargetInput } from '../ops/pitr-target.js';
import { catalogFromView, describeWindow, formatBoth, recoveryWindowOf } from '../ops/pitr-target.js';
import type { SideRestoreRecord } from '../services/restore.js';
import { RestoreRegistry, removeSideRestore, restoreUri, restoresDir } from '../services/restore.js';
import { SafetyCopyRegistry, removeContainerSafetyCopy } from '../services/safety-copies.js';
import { formatBytes, formatSeconds } from '../util/units.js';
import type { CommandSpec, Io, ParsedCommand } from './args.js';
import { UsageError, helpText, parseCommand } from './args.js';
import type { GlobalOptions } from './global-options.js';
import { GLOBAL_OPTION_HELP } from './global-options.js';
import type { RunOperationDeps } from './run-operation.js';
import { OPERATION_OPTIONS, OPERATION_OPTION_HELP, OPS_EXIT, runOperationCommand } from './run-operation.js';

/**
 * The backup and recovery commands: `backup`, `backups`, `pitr` (side restore by default, `--rewind` for
 * the guarded cluster rewind), `restores` (list, remove). The operations run through the one runner (read
 * only mode, one operation at a time, audit log), as the other operation commands do.
 * Exit codes: 0 done, 1 refused (a precondition, read-only, not confirmed), 2 failed, 64 usage.
 */

const COMMON = OPERATION_OPTIONS;
const COMMON_HELP = OPERATION_OPTION_HELP;

export const BACKUP_SPECS = {
  backup: {
    name: 'backup',
    summary: 'Take a Barman base backup of the cluster, with progress; verified with barman check and show-backup.',
    usage: 'pgcockpit backup [--name NAME] [--dry-run] [--yes] [--json]',
    options: { name: { type: 'string' }, ...COMMON },
    optionHelp: [['--name NAME', "Barman's name for the backup"], ...COMMON_HELP],
  },
  backups: {
    name: 'backups',
    summary: "Barman's backups of the cluster and the recovery window.",
    usage: 'pgcockpit backups [--json]',
    options: { json: { type: 'boolean' } },
    optionHelp: [['--json', 'as a JSON document'], ...GLOBAL_OPTION_HELP],
  },
  pitr: {
    name: 'pitr',
    summary: 'Point-in-time recovery: a side restore on its own port (default; changes nothing in the cluster), or --rewind the whole cluster (destructive).',
    usage: 'pgcockpit pitr --to-time T | --to-lsn L | --to-xid X | --to-name N | --end-of-backup [--backup ID] [--side | --rewind] [--dry-run] [--yes] [--json]',
    options: {
      'to-time': { type: 'string' },
      'to-lsn': { type: 'string' },
      'to-xid': { type: 'string' },
      'to-name': { type: 'string' },
      'end-of-backup': { type: 'boolean' },
      backup: { type: 'string' },
      side: { type: 'boolean' },
      rewind: { type: 'boolean' },
      ...COMMON,
    },
    optionHelp: [
      ['--to-time T', 'a time with its zone, e.g. 2026-11-21T22:00:00+01:00 (without a zone: local time)'],
      ['--to-lsn L', 'an LSN, e.g. 0/3000060'],
      ['--to-xid X', 'a transaction id'],
      ['--to-name N', 'a restore point made with pg_create_restore_point()'],
      ['--end-of-backup', "the backup's first consistent point"],
      ['--backup ID', 'the backup to restore (default: the newest one that ends before the target)'],
      ['--side', 'restore beside the cluster, on a free port (default)'],
      ['--rewind', 'take the whole cluster back (native lab, or Barman and every member in containers; type the cluster name to confirm)'],
      ...COMMON_HELP,
    ],
  },
  restores: {
    name: 'restores',
    summary: 'Side restores and safety copies: list them, or remove one (`restores remove ID`).',
    usage: 'pgcockpit restores [remove ID] [--json]',
    options: { json: { type: 'boolean' } },
    optionHelp: [['--json', 'as a JSON document'], ...GLOBAL_OPTION_HELP],
    allowPositionals: true,
  },
} satisfies Record<string, CommandSpec>;

export type BackupCommandName = keyof typeof BACKUP_SPECS;

export type BackupCommandDeps = RunOperationDeps;

/** `pitr` arguments → a runner request (usage errors as UsageError). Pure. */
export function pitrRequest(parsed: ParsedCommand): OperationRequest {
  const { values, positionals } = parsed;
  const usage = (message: string) => new UsageError(`pitr: ${message}\n\n${helpText(BACKUP_SPECS.pitr)}`);
  if (positionals.length) throw usage(`takes no arguments (got ${positionals.join(' ')})`);
  if (values.side && values.rewind) throw usage('either --side or --rewind, not both');
  const str = (key: string) => (typeof values[key] === 'string' ? (values[key] as string) : undefined);
  const target: PitrTargetInput = {};
  const time = str('to-time');
  const lsn = str('to-lsn');
  const xid = str('to-xid');
  const name = str('to-name');
  if (time !== undefined) target.toTime = time;
  if (lsn !== undefined) target.toLsn = lsn;
  if (xid !== undefined) target.toXid = xid;
  if (name !== undefined) target.toName = name;
  if (values['end-of-backup']) target.endOfBackup = true;
  const count = [time, lsn, xid, name].filter((v) => v !== undefined).length + (target.endOfBackup ? 1 : 0);
  if (count === 0) throw usage('give a target: --to-time, --to-lsn, --to-xid, --to-name or --end-of-backup');
  if (count > 1) throw usage('one target only');
  const backupId = str('backup');
  const params = { target, ...(backupId !== undefined ? { backupId } : {}) };
  return values.rewind ? { operation: 'rewind', params } : { operation: 'pitr', params };
}

export async function backupCommand(name: BackupCommandName, argv: string[], globals: GlobalOptions, io: Io, deps: BackupCommandDeps = {}): Promise<number> {
  const spec: CommandSpec = BACKUP_SPECS[name];
  const parsed = parseCommand(spec, argv);
  if (parsed.values.help) {
    io.out(helpText(spec));
    return 0;
  }
  switch (name) {
    case 'backup': {
      if (parsed.positionals.length) throw new UsageError(`backup: takes no arguments\n\n${helpText(spec)}`);
      const backupName = typeof parsed.values.name === 'string' ? parsed.values.name : undefined;
      // No Barman reads before the start: `barman backup` runs Barman's checks and takes its lock itself, and refuses.
      return runOperationCommand({ operation: 'backup', params: backupName ? { name: backupName } : {} }, parsed, globals, io, { ...deps, open: { watchDcs: false, barman: false }, doneLines: backupDoneLines });
    }
    case 'pitr': {
      // A side restore validates the target on Barman's data read when it runs (before anything changes): the
      // store need not read Barman first. The rewind also refuses under a running backup: it reads Barman first.
      const request = pitrRequest(parsed);
      return runOperationCommand(request, parsed, globals, io, { ...deps, open: { watchDcs: false, barman: request.operation === 'rewind' }, doneLines: backupDoneLines });
    }
    case 'backups':
      return backupsList(parsed, globals, io);
    case 'restores':
      return restoresCommand(parsed, globals, io);
  }
}

// ------------------------------------------------------------------ the result's lines

/** After "pitr done …": how to connect to a side restore, stop and remove it; a rewind's safety copies. */
export function backupDoneLines(run: OperationRun): string[] {
  return pitrResultLines(run.result?.details ?? {}).map((line) => `  ${line}`);
}

// ------------------------------------------------------------------ listings

function backupRows(snapshot: ClusterSnapshot): string[] {
  const header = ['ID', 'STATUS', 'BEGIN (UTC)', 'END (UTC)', 'DURATION', 'SIZE', 'WAL', 'TL', 'BEGIN LSN', 'END LSN'];
  const rows = snapshot.backups.backups.map((b) => [
    b.id,
    b.status,
    b.beginTime?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '-',
    b.endTime?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '-',
    b.durationSeconds !== undefined ? formatSeconds(Math.round(b.durationSeconds)) : '-',
    b.sizeBytes !== undefined ? formatBytes(b.sizeBytes) : '-',
    b.walSizeBytes !== undefined ? formatBytes(b.walSizeBytes) : '-',
    b.timeline !== undefined ? String(b.timeline) : '-',
    b.beginLsn ?? '-',
    b.endLsn ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd());
}

async function backupsList(parsed: ParsedCommand, globals: GlobalOptions, io: Io): Promise<number> {
  const opened = await openCluster(globals, io, { watchDcs: false });
  if (typeof opened === 'number') return OPS_EXIT.failed;
  const { store, cluster } = opened;
  try {
    store.start();
    await store.whenFirstComplete();
    const snapshot = store.getSnapshot();
    if (!cluster.barman) {
      io.err(`pgcockpit: cluster ${cluster.name} has no barman section in the config`);
      return OPS_EXIT.refused;
    }
    const error = snapshot.sources.barman?.error;
    const window = recoveryWindowOf(catalogFromView(snapshot.backups));
    if (parsed.values.json) {
      io.out(JSON.stringify({ schema: 'pgcockpit.backups/v1', cluster: cluster.name, server: cluster.barman.server, ...snapshot.backups, window: window ? { from: new Date(window.fromAt).toISOString(), fromBackupId: window.fromBackupId, ...(window.toAt !== undefined ? { to: new Date(window.toAt).toISOString() } : {}), ...(window.toWal ? { toWal: window.toWal } : {}) } : null, ...(error ? { error } : {}) }, null, 2));
      return error ? OPS_EXIT.failed : OPS_EXIT.done;
    }
    if (error) io.err(`! reading Barman fails: ${error}`);
    io.out(`Backups of ${cluster.name} (Barman server ${cluster.barman.server}):`);
    io.out(backupRows(snapshot).map((l) => `  ${l}`).join('\n'));
    io.out(`Recovery window: ${describeWindow(window).replace(/^valid window: /, '')}`);
    if (snapshot.backups.lastArchivedWal) io.out(`Last archived WAL: ${snapshot.backups.lastArchivedWal}${snapshot.backups.lastArchivedAt ? ` at ${formatBoth(Date.parse(snapshot.backups.lastArchivedAt))}` : ''}`);
    const failing = snapshot.archiving.status?.failing;
    if (failing) io.out(`! WAL archiving fails on ${snapshot.archiving.member ?? 'the leader'}: last failed ${snapshot.archiving.status?.lastFailedWal ?? '?'}`);
    return error ? OPS_EXIT.failed : OPS_EXIT.done;
  } finally {
    await store.stop();
  }
}

async function restoresCommand(parsed: ParsedCommand, globals: GlobalOptions, io: Io): Promise<number> {
  const [sub, id, ...extra] = parsed.positionals;
  if (sub !== undefined && sub !== 'remove' && sub !== 'list') throw new UsageError(`restores: unknown subcommand "${sub}"\n\n${helpText(BACKUP_SPECS.restores)}`);
  if (sub === 'remove' && (!id || extra.length)) throw new UsageError(`restores remove: name one restore or safety copy\n\n${helpText(BACKUP_SPECS.restores)}`);
  const opened = await openCluster(globals, io, { watchDcs: false });
  if (typeof opened === 'number') return OPS_EXIT.failed;
  const { cluster } = opened;
  const registry = new RestoreRegistry(restoresDir(cluster, io.env));
  const copies = new SafetyCopyRegistry(restoresDir(cluster, io.env));
  if (sub === 'remove') {
    if (globals.readOnly) {
      io.err('restores remove: read-only mode');
      return OPS_EXIT.refused;
    }
    const removed = await removeSideRestore(registry, id as string);
    if (removed) {
      io.out(`removed side restore ${removed.id} (${removed.dir})`);
      return OPS_EXIT.done;
    }
    const inContainer = cluster.lab ? undefined : copies.get(id as string);
    if (inContainer) {
      await removeContainerSafetyCopy(copies, inContainer);
      io.out(`removed safety copy ${inContainer.id} (${safetyCopyLocation(inContainer)})`);
      return OPS_EXIT.done;
    }
    const copy = cluster.lab ? removeSafetyCopy(readLabTopology(cluster.lab.dir), id as string) : undefined;
    if (copy) {
      io.out(`removed safety copy ${copy.id} (${copy.path})`);
      return OPS_EXIT.done;
    }
    io.err(`restores remove: there is no side restore or safety copy ${id as string}`);
    return OPS_EXIT.refused;
  }
  const restores = registry.listLive().filter((r) => r.cluster === cluster.name);
  const { safetyCopies } = restoreListing(cluster, io.env);
  if (parsed.values.json) {
    io.out(JSON.stringify({ schema: 'pgcockpit.restores/v1', cluster: cluster.name, restores: restores.map((r) => ({ ...r, uri: restoreUri(r) })), safetyCopies }, null, 2));
    return OPS_EXIT.done;
  }
  io.out(restores.length ? 'Side restores:' : 'No side restore.');
  for (const r of restores) io.out(formatRestore(r));
  io.out(safetyCopies.length ? 'Safety copies (from cluster rewinds):' : 'No safety copy.');
  for (const c of safetyCopies) io.out(`  ${c.id}  ${safetyCopyLocation(c)}  ${c.createdAt}  ${c.reason}`);
  return OPS_EXIT.done;
}

function formatRestore(r: SideRestoreRecord): string {
  return [`  ${r.id}  ${r.status}  ${restoreUri(r)}  backup ${r.backupId} → ${r.target}`, `      password: ${r.passwordRef}`, `      dir: ${r.dir}${r.error ? `\n      error: ${r.error}` : ''}`].join('\n');
}
