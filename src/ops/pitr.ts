import { runContainerSideRestore } from './pitr-container.js';
import { canRewindInContainers, containerMembers, containerRewindRequests, runContainerRewind } from './rewind-container.js';
import { SafetyCopyRegistry } from '../services/safety-copies.js';
import fs from 'node:fs';
import path from 'node:path';
import { labArchiveCommand, labMemberRunning, listSafetyCopies, moveDataAside, startLabMember, stopLabMember, undoInstructions, wipeDcsScope, safetyCopyLocation } from '../lab/restore-lab.js';
import type { SafetyCopy } from '../lab/restore-lab.js';
import { labAccounts, labUp, readLabTopology } from '../lab/lab.js';
import type { LabTopology } from '../lab/topology.js';
import type { ClusterConfig } from '../config/schema.js';
import type { ClusterSnapshot } from '../model/snapshot.js';
import type { SourceSelection } from '../model/source-selection.js';
import type { BarmanAdapter } from '../services/barman.js';
import { BackupDetailsCache, BarmanListReader } from '../services/backup-cache.js';
import { readBarmanCatalog, walUntilNextBackup } from '../services/barman-catalog.js';
import type { SideRestoreRecord } from '../services/restore.js';
import {
  RESTORE_HOST,
  RestoreRegistry,
  barmanRecover,
  barmanSwitchWal,
  barmanWalNames,
  findFreePort,
  giveTo,
  newRestoreId,
  passwordReference,
  postgresAccount,
  prepareRecoveryParent,
  readControlData,
  recoveryLines,
  recoveryStopLine,
  restoreUri,
  restoresDir,
  setThrowawayPort,
  startThrowaway,
  stopThrowaway,
  throwawayConfig,
  waitRecovered,
  writeSideRestoreConfig,
} from '../services/restore.js';
import type { BarmanBackup } from '../services/types.js';
import { defaultBarman, barmanBlockers } from './backup.js';
import { commonBlockers } from './checks.js';
import type { OpsContext } from './context.js';
import type { BackupCatalog, PitrTarget, PitrTargetInput, PitrValidation, WalGap } from './pitr-target.js';
import { barmanTargetArgs, catalogFromView, describeTarget, describeWindow, doneBackups, findWalGaps, parseTarget, selectBackup, validatePitrTarget } from './pitr-target.js';
import { log, stepEnded, stepStarted, warning } from './steps.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';
import { pauseForRewind, resumeAndVerifyRewind } from './rewind-steps.js';
import { waitUntil } from './wait.js';
import { compactStamp } from '../util/units.js';

/**
 * Point-in-time recovery through Barman (runbook "PITR Workflow"), in two kinds:
 *  - `pitr`, the side restore (the default): the chosen backup recovered to the target into a new
 *    directory, a throwaway PostgreSQL on a free port; nothing in the cluster changes.
 *  - `rewind`, the cluster rewind (destructive; on the native lab, or where Barman and every member run in
 *    containers — the compose stack, src/ops/rewind-container.ts): pause, stop every member, move every
 *    data directory aside as a safety copy, recover on the old leader, a fresh cluster state in the DCS,
 *    the others rebuilt from it; verified (leader, replicas streaming, write port, archiving resumed).
 * Both validate the target first (runbook red flags) against Barman's own data and refuse with the
 * reason and the valid window; nothing changes before that.
 */

export interface PitrParams {
  target: PitrTargetInput;
  backupId?: string;
}

export interface PitrResult extends OperationResult {
  details: {
    backupId: string;
    target: string;
    restore?: SideRestoreRecord;
    uri?: string;
    passwordRef?: string;
    stoppedAt?: string;
    safetyCopies?: SafetyCopy[];
    leader?: string;
    timeline?: number;
    stop?: string;
    remove?: string;
  };
}

/** What the operations need besides the context (fakes in tests). */
export interface PitrDeps {
  barman?: (context: OpsContext) => BarmanAdapter;
  env?: NodeJS.ProcessEnv;
  /** How long recovery may take (ms). */
  recoveryTimeoutMs?: number;
}

// ------------------------------------------------------------------ listing

/** The side restores (live status) and the rewinds' safety copies of a cluster, as of now. */
export interface RestoreListing {
  restores: SideRestoreRecord[];
  safetyCopies: SafetyCopy[];
  /** Reading failed (the lab's topology): said, not thrown. */
  error?: string;
}

export function restoreListing(cluster: ClusterConfig, env: NodeJS.ProcessEnv = process.env): RestoreListing {
  const restores = new RestoreRegistry(restoresDir(cluster, env)).listLive();
  // A rewind in containers records its safety copies (they live in the members' volumes) in the state directory.
  if (!cluster.lab) return { restores, safetyCopies: new SafetyCopyRegistry(restoresDir(cluster, env)).list().filter((c) => c.cluster === cluster.name) };
  try {
    return { restores, safetyCopies: listSafetyCopies(readLabTopology(cluster.lab.dir)) };
  } catch (error) {
    return { restores, safetyCopies: [], error: `safety copies unknown: ${(error as Error).message}` };
  }
}

// ------------------------------------------------------------------ checks

function targetReasons(params: PitrParams): { target?: PitrTarget; blockers: Reason[] } {
  const parsed = parseTarget(params.target);
  return parsed.ok ? { target: parsed.target, blockers: [] } : { blockers: [parsed.reason] };
}

/** The validation of a target on the snapshot's view of Barman (lenient: a target not archived yet is a warning). */
export function pitrValidation(snapshot: ClusterSnapshot, params: PitrParams, context: PreconditionContext): PitrValidation & { target?: PitrTarget } {
  const { target, blockers } = targetReasons(params);
  if (!target) return { blockers, warnings: [], needsWalSwitch: false };
  const validation = validatePitrTarget(target, catalogFromView(snapshot.backups), { ...(params.backupId !== undefined ? { backupId: params.backupId } : {}), now: context.now, strict: false });
  return { ...validation, target };
}

function localBarmanBlockers(context: PreconditionContext, what: string, inContainer = false): Reason[] {
  const transport = context.cluster.barman?.transport;
  // A side restore also runs where Barman runs in a container (src/ops/pitr-container.ts).
  if (transport && transport.kind !== 'local' && !(inContainer && transport.kind === 'docker')) {
    return [{ code: 'barman-not-local', message: `${what} recovers into a directory on this machine: it needs Barman here (transport local); cluster ${context.cluster.name} reaches Barman through ${transport.kind}` }];
  }
  return [];
}

export function pitrPreconditions(snapshot: ClusterSnapshot, params: PitrParams, context: PreconditionContext): Preconditions {
  // A side restore touches nothing in the cluster: only the runner's own refusals and the target.
  const blockers = commonBlockers(snapshot, context).filter((b) => b.code !== 'state-unknown');
  blockers.push(...barmanBlockers(context, 'a restore'), ...localBarmanBlockers(context, 'a side restore', true));
  if (blockers.some((b) => b.code === 'no-barman')) return { blockers, warnings: [] };
  if (!snapshot.sources.barman) {
    // The store does not read Barman (the CLI): the target is placed in the window by the run, on Barman's
    // data read then, before anything is created. Here only its form.
    return { blockers: [...blockers, ...targetReasons(params).blockers], warnings: [] };
  }
  const validation = pitrValidation(snapshot, params, context);
  return { blockers: [...blockers, ...validation.blockers], warnings: validation.warnings };
}

export function rewindPreconditions(snapshot: ClusterSnapshot, params: PitrParams, context: PreconditionContext): Preconditions {
  const inContainers = !context.cluster.lab && canRewindInContainers(context.cluster, snapshot);
  const blockers = [...commonBlockers(snapshot, context), ...barmanBlockers(context, 'a rewind'), ...localBarmanBlockers(context, 'a rewind', inContainers)];
  const warnings: Reason[] = [];
  if (!context.cluster.lab && !inContainers) {
    blockers.push({
      code: 'not-a-lab',
      message: `a cluster rewind stops every member and replaces their data directories: pgcockpit does it on its native lab, or where Barman and every member run in containers the config names (cluster ${context.cluster.name} has no lab section${snapshot.members.length ? `; containers: ${snapshot.members.map((m) => `${m.name} ${context.cluster.members?.[m.name]?.container ?? 'none'}`).join(', ')}, Barman ${context.cluster.barman?.transport.kind ?? 'none'}` : ''}); use a side restore (--side) and the runbook`,
    });
  }
  if (blockers.some((b) => b.code === 'no-barman')) return { blockers, warnings };
  const validation = pitrValidation(snapshot, params, context);
  blockers.push(...validation.blockers);
  warnings.push(...validation.warnings);
  if (snapshot.backups.running) blockers.push({ code: 'backup-running', message: `backup ${snapshot.backups.running.id} is ${snapshot.backups.running.status}: wait for it before rewinding the cluster` });
  warnings.push({ code: 'destructive', message: `every member stops, and the cluster goes back to ${validation.target ? describeTarget(validation.target) : 'the target'}: writes after it are only in the safety copies` });
  return { blockers, warnings };
}

function planBackup(snapshot: ClusterSnapshot, params: PitrParams, context: PreconditionContext): { validation: ReturnType<typeof pitrValidation>; backup?: BarmanBackup } {
  const validation = pitrValidation(snapshot, params, context);
  const backup = validation.backup ?? (validation.target ? selectBackup(validation.target, snapshot.backups.backups) : undefined);
  return backup ? { validation, backup } : { validation };
}

export function pitrPlan(snapshot: ClusterSnapshot, params: PitrParams, context: PreconditionContext): OperationPlan {
  const { validation, backup } = planBackup(snapshot, params, context);
  const server = context.cluster.barman?.server ?? '?';
  const dir = restoresDir(context.cluster);
  return {
    operation: 'pitr',
    summary: `side restore of backup ${backup?.id ?? (snapshot.sources.barman ? '?' : '(chosen on Barman\'s data when it runs)')} to ${validation.target ? describeTarget(validation.target) : '?'} into ${dir}/<id> (nothing in the cluster changes)`,
    checks: pitrPreconditions(snapshot, params, context),
    requests: [
      ...(validation.needsWalSwitch ? [{ method: 'EXEC' as const, url: `barman switch-wal --force --archive ${server}`, purpose: 'archive the WAL that holds the target' }] : []),
      { method: 'EXEC', url: `barman recover ${validation.target ? barmanTargetArgs(validation.target).join(' ') : ''} --target-action promote ${server} ${backup?.id ?? '?'} ${dir}/<id>/data`, purpose: 'restore the backup and the WAL up to the target' },
      { method: 'EXEC', url: `postgres -D ${dir}/<id>/data (port from ${RESTORE_HOST}:25400 up)`, purpose: 'a throwaway server with its own configuration (no archive_command, no primary_conninfo)' },
    ],
    verification: [describeWindow(validation.window), 'the server leaves recovery (target reached, promoted): pg_is_in_recovery() = false', 'its postgresql:// URI is printed; it is listed by `pgcockpit restores` until removed'],
  };
}

export function rewindPlan(snapshot: ClusterSnapshot, params: PitrParams, context: PreconditionContext): OperationPlan {
  const { validation, backup } = planBackup(snapshot, params, context);
  const members = snapshot.members.map((m) => m.name);
  const leader = snapshot.leader ?? members[0] ?? '?';
  const inContainers = !context.cluster.lab && canRewindInContainers(context.cluster, snapshot) ? containerMembers(context.cluster, snapshot) : undefined;
  return {
    operation: 'rewind',
    summary: `rewind cluster ${context.cluster.name} to ${validation.target ? describeTarget(validation.target) : '?'} from backup ${backup?.id ?? '?'}: ${leader} restored as the new leader, ${members.filter((m) => m !== leader).join(', ') || 'no other member'} rebuilt from it`,
    checks: rewindPreconditions(snapshot, params, context),
    requests: inContainers ? containerRewindRequests(context.cluster, inContainers, leader, backup?.id ?? '?') : [
      { method: 'PATCH', url: '/config', body: { pause: true }, purpose: 'pause the cluster' },
      { method: 'SIGNAL', url: `Patroni of ${members.join(', ')} (pids from lab.json)`, body: 'SIGTERM', purpose: 'stop every member' },
      { method: 'EXEC', url: `mv members/<m>/data members/<m>/data.safety-<stamp> (each member)`, purpose: 'keep a safety copy of every data directory' },
      { method: 'EXEC', url: `barman recover … ${backup?.id ?? '?'} → ${leader}'s data directory`, purpose: 'restore to the target (a throwaway server replays WAL and promotes)' },
      { method: 'DELETE', url: `etcd ${context.cluster.namespace}/${context.cluster.scope}/ (prefix)`, purpose: 'a fresh cluster state: Patroni adopts the restored data directory' },
      { method: 'EXEC', url: `start ${leader}'s Patroni, then the others (they clone from ${leader})`, purpose: 'bring the cluster back' },
    ],
    verification: ['a leader holds the key; every replica streams', 'a write through the HAProxy write port', 'Barman archives WAL of the new timeline', 'the safety copies are listed'],
  };
}

// ------------------------------------------------------------------ the fresh catalog

/** The last WAL archived and when (the end of the recovery window). */
export type ArchivedReader = (signal: AbortSignal) => Promise<{ lastArchivedWal?: string; lastArchivedAt?: string }>;

/**
 * The last archived WAL as `barman status` reports it — the pg_stat_archiver of the server Barman backs up, the
 * leader — read with one SQL query instead of a Barman (Python) run: on the leader the store knows, else through
 * the HAProxy write port (where Barman's own connection goes), not from a server in recovery; Barman's status when
 * neither answers. So a one-shot side restore waits for none of the store's sources.
 */
export function archivedReader(context: Pick<OpsContext, 'cluster' | 'store' | 'memberQuery'>, barman: Pick<BarmanAdapter, 'status'>): ArchivedReader {
  return async (signal) => {
    const snapshot = context.store.getSnapshot();
    const leader = snapshot.members.find((m) => m.name === snapshot.leader);
    const write = context.cluster.haproxy?.write;
    const target = leader?.host && leader.port ? { name: leader.name, host: leader.host, port: leader.port } : write ? { name: 'HAProxy write port', host: write.host, port: write.port } : undefined;
    const rows = target ? await context.memberQuery(target, ARCHIVER_SQL, { signal, timeoutMs: 5000 }).catch(() => undefined) : undefined;
    const row = rows?.[0];
    if (row?.in_recovery === false) {
      const at = row.last_archived_epoch === null || row.last_archived_epoch === undefined ? NaN : Number(row.last_archived_epoch) * 1000;
      return {
        ...(typeof row.last_archived_wal === 'string' ? { lastArchivedWal: row.last_archived_wal } : {}),
        ...(Number.isNaN(at) ? {} : { lastArchivedAt: new Date(at).toISOString() }),
      };
    }
    return barman.status({ signal });
  };
}

const ARCHIVER_SQL = 'SELECT pg_is_in_recovery() AS in_recovery, last_archived_wal, extract(epoch FROM last_archived_time)::float8 AS last_archived_epoch FROM pg_stat_archiver';

/**
 * Barman's backups, the last archived WAL and the WAL gaps after the chosen backup, read now. First from the
 * files Barman itself reads (every backup.info and xlog.db, one `sh` run through the transport: milliseconds,
 * no Python start-up; src/services/barman-catalog.ts), beside the leader's pg_stat_archiver; when those files
 * cannot be read (the directories unknown or moved, no POSIX shell on Barman's host), from Barman's commands.
 */
async function freshCatalog(barman: BarmanAdapter, archived: ArchivedReader, cluster: ClusterConfig, target: PitrTarget | undefined, backupId: string | undefined, signal: AbortSignal, env: NodeJS.ProcessEnv = process.env): Promise<BackupCatalog> {
  const fromFiles = await catalogFromFiles(barman, archived, cluster, target, backupId, signal, env).catch((error: unknown) => {
    if (signal.aborted) throw error;
    return undefined;
  });
  return fromFiles ?? catalogFromBarman(barman, archived, cluster, target, backupId, signal, env);
}

/** The catalogue from Barman's files: the backups with their details, and the WAL gaps from the chosen backup on (as `list-files --target wal` of it and of every later backup would give). */
async function catalogFromFiles(barman: BarmanAdapter, archived: ArchivedReader, cluster: ClusterConfig, target: PitrTarget | undefined, backupId: string | undefined, signal: AbortSignal, env: NodeJS.ProcessEnv): Promise<BackupCatalog> {
  const server = cluster.barman?.server as string;
  const reader = BarmanListReader.forCluster(barman, cluster.name, server, env);
  const [files, status] = await Promise.all([reader.paths({ signal }).then((paths) => readBarmanCatalog(barman.transport, paths, { signal })), archived(signal)]);
  const done = doneBackups(files.backups);
  // A DONE backup never changes: its details go where `show-backup` answers would (the cockpit's and status' reads).
  const cache = BackupDetailsCache.forCluster(cluster.name, server, env);
  for (const backup of done) if (!cache.get(backup.id)) cache.put(backup);
  const chosen = backupId ?? (target ? selectBackup(target, files.backups)?.id : undefined);
  const catalog: BackupCatalog = { backups: files.backups };
  if (chosen !== undefined) {
    const from = done.findIndex((b) => b.id === chosen);
    catalog.walGaps = findWalGaps((from >= 0 ? done.slice(from) : []).flatMap((b) => walUntilNextBackup(files, b.id)));
  }
  if (status.lastArchivedWal) catalog.lastArchivedWal = status.lastArchivedWal;
  if (status.lastArchivedAt) catalog.lastArchivedAt = Date.parse(status.lastArchivedAt);
  return catalog;
}

/**
 * The catalogue from Barman's commands: list-backups and status together, then the details (show-backup, or
 * the details cache: a DONE backup never changes) and the WAL names together — two rounds of Barman runs, not
 * three (the chosen backup is known from the list, except for an LSN target, which needs the backups' LSNs
 * first); one round when the chosen backup is the newest and its details are cached (its WAL names were
 * asked for beside list-backups).
 */
async function catalogFromBarman(barman: BarmanAdapter, archived: ArchivedReader, cluster: ClusterConfig, target: PitrTarget | undefined, backupId: string | undefined, signal: AbortSignal, env: NodeJS.ProcessEnv): Promise<BackupCatalog> {
  const server = cluster.barman?.server as string;
  const cache = BackupDetailsCache.forCluster(cluster.name, server, env);
  // The newest backup's WAL names, asked at once (`latest`): the backup a target most often restores from. Used
  // only when the chosen backup is that one, checked by the first name (its begin WAL); else asked again below.
  const latestWal = barmanWalNames(barman, server, 'latest', { signal, timeoutMs: 60_000 }).catch(() => undefined);
  const [list, status] = await Promise.all([barman.listBackups({ signal }), archived(signal)]);
  const done = doneBackups(list);
  // Details (LSNs, WAL names) for the oldest (it opens the window), the chosen one, and for an LSN target every candidate.
  const wanted = new Set<string>();
  if (done[0]) wanted.add(done[0].id);
  if (backupId && list.some((b) => b.id === backupId)) wanted.add(backupId);
  const picked = target ? selectBackup(target, list) : undefined;
  if (picked) wanted.add(picked.id);
  if (target?.kind === 'lsn') for (const b of done) wanted.add(b.id);
  const details = new Map<string, BarmanBackup>();
  const readDetails = Promise.all(
    [...wanted].map(async (id) => {
      const cached = cache.get(id);
      const backup = cached ?? (await barman.showBackup(id, { signal }));
      if (!cached) cache.put(backup);
      details.set(id, backup);
    }),
  );
  // WAL gaps: the archive from the chosen backup on (its WAL up to the next backup, and every later backup's).
  const walGaps = async (chosen: string | undefined) => {
    if (!chosen) return undefined;
    const from = done.findIndex((b) => b.id === chosen);
    if (from >= 0 && from === done.length - 1) {
      const [names] = await Promise.all([latestWal, readDetails]);
      const beginWal = details.get(chosen)?.beginWal;
      // The first segment named (history files come first) is the begin WAL of the backup `latest` was.
      if (names && beginWal !== undefined && names.find((n) => /^[0-9A-F]{24}$/i.test(n)) === beginWal) return findWalGaps(names);
    }
    const lists = await Promise.all((from >= 0 ? done.slice(from) : []).map((b) => barmanWalNames(barman, server, b.id, { signal, timeoutMs: 60_000 })));
    return findWalGaps(lists.flat());
  };
  let gaps: WalGap[] | undefined;
  if (target?.kind === 'lsn' && backupId === undefined) {
    await readDetails;
    gaps = await walGaps(selectBackup(target, list.map((b) => ({ ...b, ...details.get(b.id) })))?.id);
  } else {
    [, gaps] = await Promise.all([readDetails, walGaps(backupId ?? picked?.id)]);
  }
  const backups = list.map((b) => ({ ...b, ...details.get(b.id) }));
  const catalog: BackupCatalog = { backups };
  if (status.lastArchivedWal) catalog.lastArchivedWal = status.lastArchivedWal;
  if (status.lastArchivedAt) catalog.lastArchivedAt = Date.parse(status.lastArchivedAt);
  if (gaps) catalog.walGaps = gaps;
  return catalog;
}

/** Validate against Barman now; switch WAL first when the target is not archived yet. Throws PreconditionError. */
async function* validateNow(context: OpsContext, params: PitrParams, barman: BarmanAdapter, signal: AbortSignal, env?: NodeJS.ProcessEnv): AsyncGenerator<OperationEvent, { target: PitrTarget; backup: BarmanBackup; validation: PitrValidation }> {
  const { target, blockers } = targetReasons(params);
  if (!target) throw new PreconditionError(blockers);
  const server = context.cluster.barman?.server as string;
  const options = { ...(params.backupId !== undefined ? { backupId: params.backupId } : {}), now: context.now() };
  const archived = archivedReader(context, barman);
  let catalog = await freshCatalog(barman, archived, context.cluster, target, params.backupId, signal, env);
  let validation = validatePitrTarget(target, catalog, { ...options, strict: false });
  if (validation.blockers.length === 0 && validation.needsWalSwitch) {
    const step = stepStarted(context, 'switch-wal', `archive the current WAL (barman switch-wal --force --archive ${server})`);
    yield step;
    const said = await barmanSwitchWal(barman, server, { signal });
    yield stepEnded(context, step, 'done', said.slice(0, 200) || 'archived');
    catalog = await freshCatalog(barman, archived, context.cluster, target, params.backupId, signal, env);
  }
  validation = validatePitrTarget(target, catalog, { ...options, now: context.now(), strict: true });
  if (validation.blockers.length) throw new PreconditionError(validation.blockers);
  for (const w of validation.warnings) yield warning(w.message);
  return { target, backup: validation.backup as BarmanBackup, validation };
}

/** PostgreSQL's words when its port was taken (the restored server exits at once). */
const PORT_TAKEN = /could not create any TCP\/IP sockets|could not bind .*Address already in use/i;

/** Refusals the snapshot's (possibly stale) view of Barman cannot decide: the run checks them on Barman's data now. */
const DECIDED_BY_FRESH_CATALOG = ['target-before-window', 'target-before-backup', 'no-backup', 'no-backup-before-target', 'unknown-backup', 'backup-not-done'];

// ------------------------------------------------------------------ side restore

export async function* runSideRestore(context: OpsContext, params: PitrParams, signal: AbortSignal, deps: PitrDeps = {}): AsyncGenerator<OperationEvent, PitrResult> {
  const preflight = stepStarted(context, 'preflight', 'Validate the target against Barman');
  yield preflight;
  const pre = pitrPreconditions(context.store.getSnapshot(), params, { cluster: context.cluster, now: context.now() });
  const early = pre.blockers.filter((b) => !DECIDED_BY_FRESH_CATALOG.includes(b.code));
  if (early.length) throw new PreconditionError(early);
  const barman = (deps.barman ?? defaultBarman)(context);
  const { target, backup, validation } = yield* validateNow(context, params, barman, signal, deps.env);
  yield stepEnded(context, preflight, 'done', `backup ${backup.id} → ${describeTarget(target)}; ${describeWindow(validation.window)}`);
  if (context.cluster.barman?.transport.kind === 'docker') {
    return yield* runContainerSideRestore(context, { barman, backupId: backup.id, target }, params, signal, deps.env ?? process.env);
  }

  const env = deps.env ?? process.env;
  const registry = new RestoreRegistry(restoresDir(context.cluster, env));
  const id = newRestoreId(context.now());
  const dir = path.join(registry.dir, id);
  const dataDir = path.join(dir, 'data');
  const server = context.cluster.barman?.server as string;
  const otherPorts = () => registry.list().filter((r) => r.id !== id).map((r) => r.port);
  // A port now for the record; checked again right before the server starts (the recover takes a while).
  let port = await findFreePort(otherPorts());
  const record: SideRestoreRecord = {
    id,
    cluster: context.cluster.name,
    server,
    backupId: backup.id,
    target: describeTarget(target),
    dir,
    dataDir,
    logFile: path.join(dir, 'postgres.log'),
    host: RESTORE_HOST,
    port,
    user: context.cluster.postgres.user,
    database: context.cluster.postgres.database,
    passwordRef: passwordReference(context.cluster),
    status: 'restoring',
    createdAt: new Date(context.now()).toISOString(),
  };
  fs.mkdirSync(registry.dir, { recursive: true, mode: 0o755 });
  registry.put(record);
  const fail = (error: unknown): never => {
    const message = error instanceof Error ? error.message : String(error);
    registry.put({ ...record, status: 'failed', error: message });
    throw new Error(`${message} (the restore ${id} is kept in ${dir} for inspection: remove it with \`pgcockpit restores remove ${id}\`)`, { cause: error });
  };

  const recover = stepStarted(context, 'recover', `barman recover ${backup.id} into ${dataDir}`);
  yield recover;
  try {
    prepareRecoveryParent(dir, context.cluster.barman?.transport.kind === 'local' ? context.cluster.barman.transport.user : undefined);
    const recovered = await barmanRecover(barman, { server, backupId: backup.id, targetArgs: barmanTargetArgs(target), destination: dataDir }, { signal });
    for (const change of recovered.changes) yield log(`barman changed ${change}`);
    yield stepEnded(context, recover, 'done', `restored${recovered.elapsedSeconds !== undefined ? ` in ${recovered.elapsedSeconds.toFixed(1)} s` : ''}`);
  } catch (error) {
    fail(error);
  }

  // Another restore (another pgcockpit) may have taken the port meanwhile.
  port = await findFreePort(otherPorts(), port).catch(() => findFreePort(otherPorts()));
  record.port = port;
  const configure = stepStarted(context, 'configure', `its own configuration: port ${port}, socket ${dir}, no archive_command, no primary_conninfo`);
  yield configure;
  let pid = 0;
  let account: ReturnType<typeof postgresAccount>;
  try {
    account = postgresAccount();
    const control = await readControlData(dataDir);
    writeSideRestoreConfig(dataDir, { port, socketDir: dir, control, clusterName: `pgcockpit-${id}` }, `side restore ${id} of cluster ${context.cluster.name}`);
    await giveTo(dir, account);
    fs.chmodSync(dir, 0o750);
    yield stepEnded(context, configure, 'done', `${dataDir}/postgresql.conf written (the member's kept as *.cluster-original)`);
    const start = stepStarted(context, 'start', `start PostgreSQL on ${RESTORE_HOST}:${port}`);
    yield start;
    fs.writeFileSync(record.logFile, '', { mode: 0o640 });
    if (account && process.getuid?.() === 0) fs.chownSync(record.logFile, account.uid, account.gid);
    pid = startThrowaway({ dataDir, logFile: record.logFile, ...(account ? { runAs: account } : {}) });
    record.pid = pid;
    record.status = 'recovering';
    registry.put(record);
    yield stepEnded(context, start, 'done', `pid ${pid}, log ${record.logFile}`);
  } catch (error) {
    fail(error);
  }

  const recovery = stepStarted(context, 'recovery', `replay WAL to ${describeTarget(target)} and promote`);
  yield recovery;
  const queue: OperationEvent[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      await waitRecovered(context.cluster, { host: RESTORE_HOST, port, dataDir, logFile: record.logFile, pid }, {
        signal,
        timeoutMs: deps.recoveryTimeoutMs ?? 3600_000,
        env,
        onProgress: (p) => queue.push({ type: 'progress', stepId: 'recovery', message: p.inRecovery ? `replaying: ${p.replayLsn ?? '?'}${p.replayTimestamp ? ` (last commit ${p.replayTimestamp})` : ''}` : 'recovery done: promoted' }),
      });
      break;
    } catch (error) {
      for (const e of queue.splice(0)) yield e;
      // The port was taken between the check and the bind (another process): start again on the next free one.
      if (attempt < 3 && !signal.aborted && PORT_TAKEN.test(error instanceof Error ? error.message : String(error))) {
        const taken = port;
        try {
          port = await findFreePort([...otherPorts(), taken], taken + 1);
          setThrowawayPort(dataDir, port);
          fs.appendFileSync(record.logFile, `pgcockpit: port ${taken} was taken, starting again on port ${port}\n`);
          pid = startThrowaway({ dataDir, logFile: record.logFile, ...(account ? { runAs: account } : {}) });
        } catch (again) {
          fail(again);
        }
        Object.assign(record, { port, pid });
        registry.put(record);
        yield warning(`port ${taken} was taken by another process as PostgreSQL started: started again on port ${port} (pid ${pid})`);
        continue;
      }
      await stopThrowaway(dataDir, pid).catch(() => undefined);
      fail(error);
    }
  }
  for (const e of queue.splice(0)) yield e;
  const stoppedAt = recoveryStopLine(fs.readFileSync(record.logFile, 'utf8'));
  record.status = 'running';
  if (stoppedAt) record.stoppedAt = stoppedAt;
  registry.put(record);
  yield stepEnded(context, recovery, 'done', stoppedAt ?? 'promoted');
  const uri = restoreUri(record);
  const stop = `pg_ctl -D ${dataDir} stop -m fast${process.getuid?.() === 0 ? ' (as postgres)' : ''}`;
  const remove = `pgcockpit restores remove ${id}`;
  return {
    outcome: 'done',
    summary: `side restore ${id} runs at ${uri} (password: ${record.passwordRef}); ${describeTarget(target)} from backup ${backup.id}`,
    details: { backupId: backup.id, target: describeTarget(target), restore: record, uri, passwordRef: record.passwordRef, ...(stoppedAt ? { stoppedAt } : {}), stop, remove },
  };
}

// ------------------------------------------------------------------ cluster rewind (native lab; in containers: rewind-container.ts)

export async function* runRewind(context: OpsContext, params: PitrParams, signal: AbortSignal, deps: PitrDeps = {}): AsyncGenerator<OperationEvent, PitrResult> {
  const preflight = stepStarted(context, 'preflight', 'Validate the target against Barman; the lab and its members');
  yield preflight;
  const snapshot = context.store.getSnapshot();
  const pre = rewindPreconditions(snapshot, params, { cluster: context.cluster, now: context.now() });
  const early = pre.blockers.filter((b) => !DECIDED_BY_FRESH_CATALOG.includes(b.code));
  if (early.length) throw new PreconditionError(early);
  const barman = (deps.barman ?? defaultBarman)(context);
  const { target, backup } = yield* validateNow(context, params, barman, signal, deps.env);
  if (!context.cluster.lab) {
    yield stepEnded(context, preflight, 'done', `backup ${backup.id} → ${describeTarget(target)}; ${snapshot.leader ?? snapshot.members[0]?.name ?? '?'} becomes the leader`);
    return yield* runContainerRewind(context, { barman, backup, target }, signal, deps.env ?? process.env);
  }
  const topology: LabTopology = readLabTopology(context.cluster.lab?.dir as string);
  const leaderName = snapshot.leader && topology.members.some((m) => m.name === snapshot.leader) ? snapshot.leader : (topology.members[0]?.name as string);
  const leader = topology.members.find((m) => m.name === leaderName) as LabTopology['members'][number];
  const others = topology.members.filter((m) => m.name !== leaderName);
  yield stepEnded(context, preflight, 'done', `backup ${backup.id} → ${describeTarget(target)}; ${leaderName} becomes the leader`);

  const copies: SafetyCopy[] = [];
  const stamp = compactStamp(context.now());
  const howToUndo = () => (copies.length ? ` — to undo with the safety copies:\n  ${undoInstructions(topology, copies).join('\n  ')}` : ' — no data directory was moved yet: `pgcockpit lab up` brings the members back');

  try {
    yield* pauseForRewind(context, signal, 'maintenance mode: Patroni will not fail over while members stop');

    const stop = stepStarted(context, 'request:stop', `Stop every member (${[...others, leader].map((m) => m.name).join(', ')})`);
    yield stop;
    for (const member of [...others, leader]) {
      signal.throwIfAborted();
      await stopLabMember(topology, member.name);
      yield { type: 'progress', stepId: 'request:stop', message: `${member.name} stopped` };
    }
    yield stepEnded(context, stop, 'done', 'no PostgreSQL of the cluster runs');

    const aside = stepStarted(context, 'safety-copies', 'Move every data directory aside (safety copies)');
    yield aside;
    for (const member of topology.members) {
      copies.push(moveDataAside(topology, member.name, stamp, `rewind to ${describeTarget(target)} from backup ${backup.id}`));
      yield { type: 'progress', stepId: 'safety-copies', message: `${member.name}: ${copies.at(-1)?.path ?? ''}` };
    }
    yield stepEnded(context, aside, 'done', copies.map((c) => c.id).join(', '));

    // Recover into a directory Barman can write, then hand it to postgres and put it in place.
    const recover = stepStarted(context, 'recover', `barman recover ${backup.id} for ${leader.name}`);
    yield recover;
    const work = path.join(restoresDir(context.cluster, deps.env), `rewind-${stamp}`);
    prepareRecoveryParent(work, context.cluster.barman?.transport.kind === 'local' ? context.cluster.barman.transport.user : undefined);
    const recoverDir = path.join(work, 'data');
    await barmanRecover(barman, { server: topology.barman.server, backupId: backup.id, targetArgs: barmanTargetArgs(target), destination: recoverDir }, { signal });
    // The lab's postgres account (also in Barman's group: its archive_command writes into Barman's incoming dir).
    const account = labAccounts().postgres ?? postgresAccount();
    await giveTo(work, account);
    fs.renameSync(recoverDir, leader.dataDir);
    yield stepEnded(context, recover, 'done', `${leader.dataDir} holds backup ${backup.id} and the WAL up to the target`);

    // Replay to the target with a throwaway server archiving into the cluster's Barman (the new timeline's history).
    const replay = stepStarted(context, 'replay', `replay WAL to ${describeTarget(target)} and promote (on ${leader.name}'s data directory)`);
    yield replay;
    const port = await findFreePort([]);
    const control = await readControlData(leader.dataDir);
    const configFile = path.join(work, 'recover.conf');
    fs.writeFileSync(
      configFile,
      throwawayConfig({ port, socketDir: work, hbaFile: path.join(leader.dataDir, 'pg_hba.conf'), identFile: path.join(leader.dataDir, 'pg_ident.conf'), control, clusterName: `pgcockpit-rewind-${stamp}`, archiveCommand: labArchiveCommand(topology, leader.name) }, `the rewind of cluster ${context.cluster.name}`),
      { mode: 0o644 },
    );
    const logFile = path.join(work, 'postgres.log');
    fs.writeFileSync(logFile, '', { mode: 0o640 });
    await giveTo(work, account);
    const pid = startThrowaway({ dataDir: leader.dataDir, logFile, configFile, ...(account ? { runAs: account } : {}) });
    const progress: OperationEvent[] = [];
    await waitRecovered(context.cluster, { host: RESTORE_HOST, port, dataDir: leader.dataDir, logFile, pid }, {
      signal,
      timeoutMs: deps.recoveryTimeoutMs ?? 3600_000,
      ...(deps.env ? { env: deps.env } : {}),
      onProgress: (p) => progress.push({ type: 'progress', stepId: 'replay', message: p.inRecovery ? `replaying: ${p.replayLsn ?? '?'}` : 'promoted' }),
    }).catch(async (error: unknown) => {
      await stopThrowaway(leader.dataDir, pid).catch(() => undefined);
      throw error;
    });
    for (const e of progress) yield e;
    const stoppedAt = recoveryStopLine(fs.readFileSync(logFile, 'utf8'));
    // Wait until the new timeline's history file is archived, then a clean shutdown.
    const timelineRows = await context.memberQuery({ name: 'restored', host: RESTORE_HOST, port }, 'SELECT timeline_id FROM pg_control_checkpoint()').catch(() => []);
    const archived = await waitUntil(
      'the new timeline history to be archived',
      async () => {
        const rows = await context.memberQuery({ name: 'restored', host: RESTORE_HOST, port }, "SELECT last_archived_wal, (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready')::int AS ready FROM pg_stat_archiver", { signal }).catch(() => []);
        const row = rows[0];
        return row && Number(row.ready) === 0 && row.last_archived_wal ? String(row.last_archived_wal) : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, signal },
    );
    await stopThrowaway(leader.dataDir, pid);
    // What Barman wrote for recovery must not stay: Patroni manages the configuration from here.
    const auto = path.join(leader.dataDir, 'postgresql.auto.conf');
    if (fs.existsSync(auto)) {
      const kept = fs.readFileSync(auto, 'utf8').split('\n').filter((line) => !recoveryLines(line).length);
      fs.writeFileSync(auto, kept.join('\n'));
    }
    for (const leftover of ['recovery.signal', 'standby.signal', 'barman_wal']) fs.rmSync(path.join(leader.dataDir, leftover), { recursive: true, force: true });
    await giveTo(leader.dataDir, account);
    yield stepEnded(context, replay, 'done', `${stoppedAt ?? 'target reached'}; timeline ${String(timelineRows[0]?.timeline_id ?? '?')}, ${archived} archived`);

    const dcs = stepStarted(context, 'request:dcs', `A fresh cluster state: delete ${topology.namespace}/${topology.scope}/ in etcd`);
    yield dcs;
    const deleted = await wipeDcsScope(topology);
    yield stepEnded(context, dcs, 'done', `${deleted} key${deleted === 1 ? '' : 's'} deleted`);

    const start = stepStarted(context, 'request:start', `Start ${leader.name}: Patroni adopts the restored data directory as the leader`);
    yield start;
    startLabMember(topology, leader.name);
    const holder = await waitUntil(
      `${leader.name} to hold the leader key`,
      async () => {
        const key = await context.readLeaderKey({ signal, timeoutMs: 2000 }).catch(() => undefined);
        if (key === leader.name) return key;
        if (!labMemberRunning(topology, leader.name)) throw new Error(`${leader.name}'s Patroni exited; see ${leader.logFile}`);
        return undefined;
      },
      { timeoutMs: context.timeouts.leaderMoveMs * 2, intervalMs: 500, signal },
    );
    yield stepEnded(context, start, 'done', `${holder} holds the leader key`);

    const rebuild = stepStarted(context, 'request:rebuild', `Rebuild ${others.map((m) => m.name).join(', ')} from ${leader.name}; wait until the lab is ready`);
    yield rebuild;
    const lines: string[] = [];
    await labUp(topology.options, (line) => lines.push(line), signal);
    for (const line of lines) yield log(line);
    yield stepEnded(context, rebuild, 'done', 'every replica streams; HAProxy routes; Barman archived a WAL and its check passes');

    const tli = yield* resumeAndVerifyRewind(context, { name: leader.name, host: topology.host, port: leader.pgPort }, barman, { signal, safetyCopies: () => listSafetyCopies(topology).length });
    context.store.refresh();
    return {
      outcome: 'done',
      summary: `cluster ${context.cluster.name} rewound to ${describeTarget(target)} (backup ${backup.id}) in timeline ${tli}: ${leader.name} leads, ${others.map((m) => m.name).join(', ')} stream; safety copies ${copies.map((c) => c.id).join(', ')}`,
      details: { backupId: backup.id, target: describeTarget(target), safetyCopies: copies, leader: leader.name, timeline: tli, ...(stoppedAt ? { stoppedAt } : {}) },
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof PreconditionError) throw error;
    throw new Error(`${message}${howToUndo()}`, { cause: error });
  }
}

/** How to reach a side restore (URI, the password's reference, stop, remove) or a rewind's safety copies, from a result's details. */
export function pitrResultLines(details: Record<string, unknown>): string[] {
  const lines: string[] = [];
  if (typeof details.uri === 'string') {
    lines.push(`connect:  psql '${details.uri}'`, `password: ${String(details.passwordRef)}`, `stop:     ${String(details.stop)}`, `remove:   ${String(details.remove)}`);
  }
  if (Array.isArray(details.safetyCopies)) {
    lines.push('safety copies (kept until `pgcockpit restores remove ID`):');
    for (const c of details.safetyCopies as SafetyCopy[]) lines.push(`  ${c.id}  ${safetyCopyLocation(c)}`);
  }
  return lines;
}

export function describePitrParams(params: PitrParams): Record<string, unknown> {
  const t = params.target;
  return {
    ...(t.toTime !== undefined ? { toTime: t.toTime } : {}),
    ...(t.toLsn !== undefined ? { toLsn: t.toLsn } : {}),
    ...(t.toXid !== undefined ? { toXid: t.toXid } : {}),
    ...(t.toName !== undefined ? { toName: t.toName } : {}),
    ...(t.endOfBackup ? { endOfBackup: true } : {}),
    ...(params.backupId !== undefined ? { backup: params.backupId } : {}),
  };
}

/**
 * What a side restore reads of the store: nothing. It changes nothing in the cluster, and it validates the
 * target on what it reads itself when it runs: Barman's catalogue (its files) and the last archived WAL (the
 * leader's pg_stat_archiver, through the HAProxy write port when the store knows no leader).
 */
export const SIDE_RESTORE_READS: SourceSelection = { keys: [] };

export const pitrOperation: OperationDefinition<PitrParams> = {
  name: 'pitr',
  confirmation: 'yes-no',
  preconditions: pitrPreconditions,
  reads: SIDE_RESTORE_READS,
  plan: pitrPlan,
  run: (context, params, signal) => runSideRestore(context, params, signal),
  describeParams: describePitrParams,
};

export const rewindOperation: OperationDefinition<PitrParams> = {
  name: 'rewind',
  confirmation: 'type-name',
  confirmName: (_params, snapshot) => snapshot.cluster,
  preconditions: rewindPreconditions,
  plan: rewindPlan,
  run: (context, params, signal) => runRewind(context, params, signal),
  describeParams: describePitrParams,
};
