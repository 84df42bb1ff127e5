import type { ClusterSnapshot } from '../model/snapshot.js';
import { BarmanAdapter } from '../services/barman.js';
import type { BarmanBackup } from '../services/types.js';
import { formatBytes, formatSeconds } from '../util/units.js';
import { backupWarnings, commonBlockers, findMember, leaderBlockers } from './checks.js';
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
}

export function barmanBlockers(context: PreconditionContext, what: string): Reason[] {
  if (!context.cluster.barman) return [{ code: 'no-barman', message: `cluster ${context.cluster.name} has no barman section in the config: ${what} needs Barman` }];
  return [];
}

export function backupPreconditions(snapshot: ClusterSnapshot, _params: BackupParams, context: PreconditionContext): Preconditions {
  const blockers = [...commonBlockers(snapshot, context), ...barmanBlockers(context, 'a backup')];
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
      "Barman's status of the new backup: STARTED → DONE (list-backups)",
      `bytes copied from ${snapshot.leader ?? 'the leader'}'s pg_stat_progress_basebackup`,
      'barman check passes; show-backup gives the WAL and LSN range, timeline and size',
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

export async function* runBackup(context: OpsContext, params: BackupParams, signal: AbortSignal, deps: BackupDeps = {}): AsyncGenerator<OperationEvent, BackupResult> {
  const preflight = stepStarted(context, 'preflight', 'Preflight checks');
  yield preflight;
  const snapshot = context.store.getSnapshot();
  const checks = backupPreconditions(snapshot, params, { cluster: context.cluster, now: context.now() });
  if (checks.blockers.length) throw new PreconditionError(checks.blockers);
  for (const w of checks.warnings) yield warning(w.message);
  const barman = (deps.barman ?? defaultBarman)(context);
  const server = context.cluster.barman?.server as string;
  // The snapshot's list (fresh enough: it only tells the new backup apart); the id is read from Barman's output.
  const before = snapshot.backups.backups;
  const leader = snapshot.leader ? findMember(snapshot, snapshot.leader) : undefined;
  yield stepEnded(context, preflight, 'done', `${before.length} backup${before.length === 1 ? '' : 's'} before; copying ${leader?.name ?? 'the leader'}`);

  const request = stepStarted(context, 'request:backup', `barman backup ${server}`);
  yield request;
  const queue = new EventQueue<OperationEvent>();
  const startedAt = context.now();
  const argv = plainArgv(barman.argv('backup', ['--wait', '--wait-timeout', '600', ...(params.name ? ['--name', params.name] : []), server]));
  const output: string[] = [];
  let finished = false;
  let newId: string | undefined;
  const onLine = (line: string) => {
    const text = line.trim();
    if (!text) return;
    output.push(text);
    const started = /^Starting backup .* in (\S+)$/.exec(text);
    if (started?.[1]) newId = started[1].split('/').at(-1);
    queue.push(log(`barman: ${text}`));
  };
  const backupDone = (barman.transport.stream ? barman.transport.stream(argv, onLine, { signal, timeoutMs: 24 * 3600_000 }) : barman.transport.exec(argv, { signal, timeoutMs: 24 * 3600_000 }))
    .then((result) => {
      if (!barman.transport.stream) for (const l of result.stdout.split('\n')) onLine(l);
      for (const l of result.stderr.split('\n')) if (l.trim()) output.push(l.trim());
      return result;
    })
    .finally(() => {
      finished = true;
      queue.wake();
    });
  backupDone.catch(() => undefined);

  // Progress: Barman's status of the new backup, and the leader's pg_stat_progress_basebackup.
  const interval = deps.pollIntervalMs ?? Math.max(500, context.timeouts.pollIntervalMs * 5);
  let lastStatus = '';
  let maxBytes = 0;
  let lastBytes = -1;
  const poll = async () => {
    let tick = 0;
    while (!finished && !signal.aborted) {
      tick++;
      if (leader?.host && leader.port) {
        const rows = await context
          .memberQuery({ name: leader.name, host: leader.host, port: leader.port }, 'SELECT phase, backup_streamed::float8 AS streamed, backup_total::float8 AS total FROM pg_stat_progress_basebackup', { signal, timeoutMs: 3000 })
          .catch(() => []);
        const row = rows[0];
        if (row) {
          const bytes = Number(row.streamed ?? 0);
          const total = row.total === null || row.total === undefined ? undefined : Number(row.total);
          if (bytes !== lastBytes) {
            lastBytes = bytes;
            maxBytes = Math.max(maxBytes, bytes);
            const elapsedS = (context.now() - startedAt) / 1000;
            const rate = elapsedS > 0 ? bytes / elapsedS : 0;
            queue.push({
              type: 'progress',
              stepId: 'request:backup',
              bytes,
              ...(total ? { totalBytes: total, fraction: Math.min(1, bytes / total) } : {}),
              message: `${String(row.phase)}: ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)}` : ''} from ${leader.name}, ${formatSeconds(Math.round(elapsedS))} elapsed, ${formatBytes(rate)}/s`,
            });
          }
        }
      }
      // Barman's own status every few polls (a Barman run costs CPU).
      if (tick % 3 === 1) {
        const list = await barman.listBackups({ signal, timeoutMs: 20_000 }).catch(() => undefined);
        const fresh = list?.find((b) => (newId ? b.id === newId : !before.some((o) => o.id === b.id)));
        if (fresh) {
          newId = fresh.id;
          if (fresh.status !== lastStatus) {
            lastStatus = fresh.status;
            queue.push({ type: 'progress', stepId: 'request:backup', message: `Barman: ${backupLine(fresh)}` });
          }
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval);
        void backupDone.finally(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  const polling = poll();

  while (!finished) {
    await queue.next();
    for (const event of queue.drain()) yield event;
  }
  await polling;
  for (const event of queue.drain()) yield event;
  const result = await backupDone;
  if (result.code !== 0) {
    const problem = output.filter((l) => /error|fail|refus/i.test(l)).slice(-3).join(' / ') || output.slice(-3).join(' / ');
    throw new Error(`barman backup exited ${result.code}: ${problem || 'no output'}`);
  }
  const created = newId ? { id: newId, status: lastStatus } : (await barman.listBackups({ signal })).find((b) => !before.some((o) => o.id === b.id));
  if (!created) throw new Error('barman backup exited 0 but no new backup is listed');
  const elapsedMs = context.now() - startedAt;
  yield stepEnded(context, request, 'done', `backup ${created.id} taken in ${formatSeconds(Math.round(elapsedMs / 1000))}${maxBytes ? ` (${formatBytes(maxBytes)} streamed)` : ''}`);

  const verify = stepStarted(context, 'verify', 'barman check and show-backup');
  yield verify;
  const [check, shown] = await Promise.all([barman.check({ signal }), barman.showBackup(created.id, { signal })]);
  const failed = check.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.hint ? ` (${c.hint})` : ''}`);
  if (failed.length) yield warning(`barman check fails: ${failed.join(', ')}`);
  if (shown.status !== 'DONE') throw new Error(`backup ${shown.id} is ${shown.status}${shown.error ? `: ${shown.error}` : ''}`);
  if (shown.status !== lastStatus) yield { type: 'progress', stepId: 'verify', message: `Barman: ${backupLine(shown)}` };
  yield stepEnded(
    context,
    verify,
    'done',
    `${shown.id} DONE: ${shown.sizeBytes !== undefined ? formatBytes(shown.sizeBytes) : '? bytes'}, WAL ${shown.beginWal ?? '?'} → ${shown.endWal ?? '?'}, timeline ${shown.timeline ?? '?'}; barman check ${check.ok ? 'OK' : 'FAILED'}`,
  );
  context.store.refresh();
  const details: BackupResult['details'] = { backupId: shown.id, status: shown.status, elapsedMs, checkOk: check.ok, failedChecks: failed };
  if (leader) details.member = leader.name;
  for (const key of ['sizeBytes', 'walSizeBytes', 'durationSeconds', 'beginWal', 'endWal', 'beginLsn', 'endLsn', 'timeline'] as const) {
    const value = shown[key];
    if (value !== undefined) (details as unknown as Record<string, unknown>)[key] = value;
  }
  return {
    outcome: 'done',
    summary: `backup ${shown.id} DONE (${shown.sizeBytes !== undefined ? formatBytes(shown.sizeBytes) : '?'}, ${formatSeconds(Math.round(elapsedMs / 1000))})${check.ok ? '' : '; barman check fails'}`,
    details,
  };
}

export const backupOperation: OperationDefinition<BackupParams> = {
  name: 'backup',
  confirmation: 'yes-no',
  preconditions: backupPreconditions,
  plan: backupPlan,
  run: (context, params, signal) => runBackup(context, params, signal),
  describeParams: (params) => ({ ...params }),
};
