import type { ClusterSnapshot } from '../model/snapshot.js';
import type { SourceSelection } from '../model/source-selection.js';
import { BackupDetailsCache } from '../services/backup-cache.js';
import { BarmanAdapter } from '../services/barman.js';
import { backupCopySeconds, readBackupInfo } from '../services/barman-backup-info.js';
import type { BarmanBackup, BarmanCheck } from '../services/types.js';
import { formatBytes, formatSeconds } from '../util/units.js';
import { traceStartup } from '../util/startup-trace.js';
import { BasebackupProgress } from './basebackup-progress.js';
import { backupWarnings, commonBlockers, findMember, leaderBlockers, unreadBlockers } from './checks.js';
import type { OpsContext } from './context.js';
import { log, stepEnded, stepStarted, warning } from './steps.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';

/**
 * A Barman base backup (runbook "Backup Workflow"): `barman backup <server>` through the cluster's exec
 * transport, with progress from Barman's own status (STARTED → WAITING_FOR_WALS → DONE) and from
 * pg_stat_progress_basebackup on the member being copied (the leader: Barman connects through the
 * HAProxy write port), then verified with `barman check` and `show-backup`.
 */

export interface BackupParams {
  /** Barman's --name for the backup (optional). */
  name?: string;
}

export interface BackupResult extends OperationResult {
  details: {
    backupId: string;
    status: string;
    member?: string;
    sizeBytes?: number;
    walSizeBytes?: number;
    durationSeconds?: number;
    elapsedMs: number;
    beginWal?: string;
    endWal?: string;
    beginLsn?: string;
    endLsn?: string;
    timeline?: number;
    checkOk: boolean;
    failedChecks: string[];
  };
}

/** The dependencies a backup needs besides the context (a Barman adapter; fakes in unit tests). */
export interface BackupDeps {
  barman?: (context: OpsContext) => BarmanAdapter;
  /** Interval of the progress polls (ms). */
  pollIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function barmanBlockers(context: PreconditionContext, what: string): Reason[] {
  if (!context.cluster.barman) return [{ code: 'no-barman', message: `cluster ${context.cluster.name} has no barman section in the config: ${what} needs Barman` }];
  return [];
}

/**
 * What a backup's checks read of the store: the members and the leader (/cluster and the DCS), the leader's own
 * REST API and PostgreSQL (its state; its archiver; the progress query's address). Not Barman: `barman backup`
 * runs Barman's own checks and takes its lock before it copies anything, and refuses.
 */
export const BACKUP_READS: SourceSelection = { keys: ['patroni', 'dcs'], leader: true };

export function backupPreconditions(snapshot: ClusterSnapshot, _params: BackupParams, context: PreconditionContext): Preconditions {
  const blockers = [...commonBlockers(snapshot, context), ...unreadBlockers(snapshot, BACKUP_READS), ...barmanBlockers(context, 'a backup')];
  const warnings: Reason[] = [];
  if (snapshot.members.length) blockers.push(...leaderBlockers(snapshot, 'a backup (Barman copies the leader)'));
  warnings.push(...backupWarnings(snapshot, 'another backup'));
  const barmanError = snapshot.sources.barman?.error;
  if (barmanError) warnings.push({ code: 'barman-failing', message: `reading Barman fails: ${barmanError}` });
  if (snapshot.archiving.status?.failing) {
    warnings.push({ code: 'archiving-failing', message: `WAL archiving is failing on ${snapshot.archiving.member ?? 'the leader'} (last failure ${snapshot.archiving.status.lastFailedWal ?? '?'}): the backup may wait for WAL` });
  }
  return { blockers, warnings };
}

export function backupPlan(snapshot: ClusterSnapshot, params: BackupParams, context: PreconditionContext): OperationPlan {
  const barman = context.cluster.barman;
  return {
    operation: 'backup',
    summary: `Barman backup of server ${barman?.server ?? '?'} (copies the leader ${snapshot.leader ?? '?'} through ${barman ? describeTransport(barman.transport) : 'Barman'})`,
    checks: backupPreconditions(snapshot, params, context),
    requests: [{ method: 'EXEC', url: `barman${barman?.config ? ` -c ${barman.config}` : ''} backup --wait --wait-timeout 600 ${barman?.server ?? '?'}${params.name ? ` --name ${params.name}` : ''}`, purpose: 'take a base backup' }],
    verification: [
      "Barman's status of the new backup, STARTED → DONE, from the backup.info it writes",
      `bytes copied from ${snapshot.leader ?? 'the leader'}'s pg_stat_progress_basebackup`,
      'barman check (run while Barman finalises the backup) passes; backup.info gives the WAL and LSN range, timeline and size',
    ],
  };
}

function describeTransport(transport: NonNullable<PreconditionContext['cluster']['barman']>['transport']): string {
  return transport.kind === 'local' ? `the local transport${transport.user ? ` as ${transport.user}` : ''}` : transport.kind === 'ssh' ? `ssh ${transport.host}` : `docker ${transport.container}`;
}

/** argv without Barman's `-f json` (a backup's console lines are streamed as they come). */
export function plainArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-f' && argv[i + 1] === 'json') {
      i++;
      continue;
    }
    out.push(argv[i] as string);
  }
  return out;
}

/** A queue an async generator drains while concurrent tasks push events into it. */
export class EventQueue<T> {
  private items: T[] = [];
  private waiter: (() => void) | undefined;
  push(item: T): void {
    this.items.push(item);
    this.wake();
  }
  wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
  drain(): T[] {
    const items = this.items;
    this.items = [];
    return items;
  }
  /** Resolves when an item arrives, or at once when some are waiting. */
  next(): Promise<void> {
    if (this.items.length) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

export function defaultBarman(context: OpsContext): BarmanAdapter {
  const config = context.cluster.barman;
  if (!config) throw new PreconditionError([{ code: 'no-barman', message: `cluster ${context.cluster.name} has no barman section in the config` }]);
  return BarmanAdapter.fromConfig(config);
}

function backupLine(b: BarmanBackup): string {
  return `${b.id} ${b.status}`;
}

/** pg_stat_progress_basebackup's phases after the data files are sent. */
const COPIED_PHASES = new Set(['waiting for wal archiving to finish', 'transferring wal files']);

/** Resolves after `ms`, or at once when `done` settles first (a wait with no poll-interval granularity on completion). */
function sleepUnless(ms: number, done: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void done.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The backup: `barman backup --wait` streamed (its console lines are log events); Barman's own status read
 * from the backup.info it writes (one `cat`, no Python run) as soon as it names the backup's directory, and
 * at each poll until it says STARTED; the bytes from the leader's pg_stat_progress_basebackup while it copies
 * (once a second, one kept connection); `barman check` runs once the copy is done, while Barman finalises
 * and waits for the last WAL (Barman itself runs the same checks before it starts and refuses on a
 * failure), so the verification adds no Python run after it. Completion is the process's exit; the verified
 * backup goes to the store (recordBackup) and the details cache.
 */
export async function* runBackup(context: OpsContext, params: BackupParams, signal: AbortSignal, deps: BackupDeps = {}): AsyncGenerator<OperationEvent, BackupResult> {
  const preflight = stepStarted(context, 'preflight', 'Preflight checks');
  yield preflight;
  const snapshot = context.store.getSnapshot();
  const checks = backupPreconditions(snapshot, params, { cluster: context.cluster, now: context.now() });
  if (checks.blockers.length) throw new PreconditionError(checks.blockers);
  for (const w of checks.warnings) yield warning(w.message);
  const barman = (deps.barman ?? defaultBarman)(context);
  const server = context.cluster.barman?.server as string;
  const leader = snapshot.leader ? findMember(snapshot, snapshot.leader) : undefined;
  yield stepEnded(context, preflight, 'done', `copying ${leader?.name ?? 'the leader'} through ${describeTransport(context.cluster.barman?.transport as NonNullable<PreconditionContext['cluster']['barman']>['transport'])}`);

  const request = stepStarted(context, 'request:backup', `barman backup ${server}`);
  yield request;
  const queue = new EventQueue<OperationEvent>();
  const startedAt = context.now();
  const argv = plainArgv(barman.argv('backup', ['--wait', '--wait-timeout', '600', ...(params.name ? ['--name', params.name] : []), server]));
  const output: string[] = [];
  let backupDir: string | undefined;
  const statusTrail: string[] = [];
  // Barman's statuses in the order a backup goes through them (reads that overlap may answer out of order).
  const rank = (status: string | undefined) => (status === undefined ? -1 : ({ EMPTY: 0, STARTED: 1, WAITING_FOR_WALS: 2 } as Record<string, number>)[status] ?? 3);
  const noteStatus = (backup: BarmanBackup, stepId: string) => {
    if (rank(backup.status) <= rank(statusTrail.at(-1))) return;
    statusTrail.push(backup.status);
    queue.push({ type: 'progress', stepId, message: `Barman: ${backupLine(backup)}` });
  };
  let firstInfo: Promise<unknown> = Promise.resolve();
  // barman check once the data files are copied — pg_stat_progress_basebackup's phase says so first, then
  // Barman's "Copy done" — while the backup waits for its last WAL and Barman finalises it (archiver and disk
  // work, seconds): its answer is part of the verification, its time is not added after the backup, and its
  // Python run does not compete with the copy for the CPU.
  let checking: Promise<{ check: BarmanCheck } | { error: string }> | undefined;
  const startCheck = () => {
    if (!checking) {
      traceStartup('barman check started');
      checking = barman.check({ signal }).then(
        (check) => ({ check }),
        (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
      );
      void checking.finally(() => traceStartup('barman check answered'));
    }
    return checking;
  };
  const onLine = (line: string) => {
    const text = line.trim();
    if (!text) return;
    output.push(text);
    queue.push(log(`barman: ${text}`));
    if (/^(Copy done|Finalising the backup|Backup completed|Waiting for the WAL file)/.test(text)) void startCheck();
    const started = /^Starting backup .* in (\S+)$/.exec(text);
    if (started?.[1] && !backupDir) {
      backupDir = started[1];
      // Barman wrote backup.info (STARTED) before saying so.
      firstInfo = readBackupInfo(barman.transport, backupDir, { signal })
        .then(({ backup }) => noteStatus(backup, 'request:backup'))
        .catch(() => undefined);
    }
  };
  const timeoutMs = 24 * 3600_000;
  const backupDone = (barman.transport.stream ? barman.transport.stream(argv, onLine, { signal, timeoutMs }) : barman.transport.exec(argv, { signal, timeoutMs })).then((result) => {
    if (!barman.transport.stream) for (const l of result.stdout.split('\n')) onLine(l);
    for (const l of result.stderr.split('\n')) if (l.trim()) output.push(l.trim());
    traceStartup('barman backup exited');
    return result;
  });
  let finished = false;
  void backupDone.then(
    () => undefined,
    () => undefined,
  ).finally(() => {
    finished = true;
    queue.wake();
  });

  // Bytes: the leader's pg_stat_progress_basebackup, with elapsed time and throughput — one query a second
  // on one kept connection (the copy competes for the same CPUs).
  const interval = deps.pollIntervalMs ?? Math.max(1000, context.timeouts.pollIntervalMs);
  const copied = leader
    ? new BasebackupProgress(
        context,
        leader,
        'request:backup',
        (sample) => {
          const elapsedS = (context.now() - startedAt) / 1000;
          return `${sample.phase}: ${formatBytes(sample.bytes)}${sample.totalBytes ? ` of ${formatBytes(sample.totalBytes)}` : ''} from ${leader.name}, ${elapsedS.toFixed(1)} s elapsed, ${formatBytes(elapsedS > 0 ? sample.bytes / elapsedS : 0)}/s`;
        },
        true,
      )
    : undefined;
  const polling = (async () => {
    try {
      await pollUntilDone();
    } finally {
      await copied?.close();
    }
  })();
  async function pollUntilDone(): Promise<void> {
    while (!finished && !signal.aborted) {
      // Barman's status until it says STARTED (then only at the end: the copy's progress is the bytes).
      const dir = rank(statusTrail.at(-1)) < rank('STARTED') ? backupDir : undefined;
      const [event] = await Promise.all([
        copied?.poll(signal),
        dir
          ? readBackupInfo(barman.transport, dir, { signal })
              .then(({ backup }) => noteStatus(backup, 'request:backup'))
              .catch(() => undefined)
          : undefined,
      ]);
      if (event && !finished) queue.push(event);
      if (copied?.phase && COPIED_PHASES.has(copied.phase)) void startCheck();
      await sleepUnless(interval, backupDone);
    }
  }

  while (!finished) {
    await queue.next();
    for (const event of queue.drain()) yield event;
  }
  await Promise.all([polling, firstInfo]);
  for (const event of queue.drain()) yield event;
  const result = await backupDone;
  if (result.code !== 0) {
    const problem = output.filter((l) => /error|fail|refus|another backup/i.test(l)).slice(-3).join(' / ') || output.slice(-3).join(' / ');
    throw new Error(`barman backup exited ${result.code}: ${problem || 'no output'}`);
  }
  if (!backupDir) throw new Error(`barman backup exited 0 but did not name the backup's directory: ${output.slice(-3).join(' / ') || 'no output'}`);
  const info = await readBackupInfo(barman.transport, backupDir, { signal });
  const elapsedMs = context.now() - startedAt;
  // The copy's figure: Barman's own size and copy time (the last poll may have missed the end of a fast copy).
  const copySeconds = backupCopySeconds(info.text);
  const size = info.backup.sizeBytes ?? copied?.maxBytes ?? 0;
  const rate = copySeconds ? size / copySeconds : undefined;
  const copyText = `copied ${formatBytes(size)}${copySeconds !== undefined ? ` in ${copySeconds.toFixed(1)} s` : ''}${rate !== undefined ? `, ${formatBytes(rate)}/s` : ''} from ${leader?.name ?? 'the leader'}`;
  yield { type: 'progress', stepId: 'request:backup', bytes: size, totalBytes: size, fraction: 1, message: copyText };
  yield stepEnded(context, request, 'done', `${info.backup.id}: Barman ${[...statusTrail, ...(statusTrail.at(-1) === info.backup.status ? [] : [info.backup.status])].join(' → ')}; ${copyText}`);

  const verify = stepStarted(context, 'verify', "the backup's status (backup.info) and barman check");
  yield verify;
  const shown = info.backup;
  if (shown.status !== 'DONE') throw new Error(`backup ${shown.id} is ${shown.status}${shown.error ? `: ${shown.error}` : ''}`);
  if (statusTrail.at(-1) !== shown.status) yield { type: 'progress', stepId: 'verify', message: `Barman: ${backupLine(shown)}` };
  const checked = await startCheck();
  const check = 'check' in checked ? checked.check : undefined;
  const failed = check ? check.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.hint ? ` (${c.hint})` : ''}`) : [`barman check did not answer: ${'error' in checked ? checked.error : '?'}`];
  if (failed.length) yield warning(`barman check fails: ${failed.join(', ')}`);
  const checkOk = check?.ok === true;
  yield stepEnded(
    context,
    verify,
    'done',
    `${shown.id} DONE: ${shown.sizeBytes !== undefined ? formatBytes(shown.sizeBytes) : '? bytes'}, WAL ${shown.beginWal ?? '?'} → ${shown.endWal ?? '?'}, timeline ${shown.timeline ?? '?'}; barman check ${checkOk ? 'OK' : 'FAILED'}`,
  );
  // A DONE backup never changes: its details go to the cache `show-backup` answers would go to.
  if (context.cluster.barman) BackupDetailsCache.forCluster(context.cluster.name, context.cluster.barman.server, deps.env).put(shown);
  // The Backups pane and the PITR dialog show it now, not after Barman's next read.
  context.store.recordBackup?.(shown);
  context.store.refresh();
  const details: BackupResult['details'] = { backupId: shown.id, status: shown.status, elapsedMs, checkOk, failedChecks: failed };
  if (leader) details.member = leader.name;
  for (const key of ['sizeBytes', 'walSizeBytes', 'durationSeconds', 'beginWal', 'endWal', 'beginLsn', 'endLsn', 'timeline'] as const) {
    const value = shown[key];
    if (value !== undefined) (details as unknown as Record<string, unknown>)[key] = value;
  }
  return {
    outcome: 'done',
    summary: `backup ${shown.id} DONE (${shown.sizeBytes !== undefined ? formatBytes(shown.sizeBytes) : '?'}, ${formatSeconds(Math.round(elapsedMs / 1000))})${checkOk ? '' : '; barman check fails'}`,
    details,
  };
}

export const backupOperation: OperationDefinition<BackupParams> = {
  name: 'backup',
  confirmation: 'yes-no',
  preconditions: backupPreconditions,
  reads: BACKUP_READS,
  plan: backupPlan,
  run: (context, params, signal) => runBackup(context, params, signal),
  describeParams: (params) => ({ ...params }),
};
