import type { BarmanAdapter } from '../services/barman.js';
import type { OpsContext } from './context.js';
import { stepEnded, stepStarted, warning } from './steps.js';
import type { OperationEvent } from './types.js';
import { waitUntil } from './wait.js';

/**
 * The first step of a cluster rewind, the same on the native lab and on containers: pause the cluster (a
 * failure to pause is said and skipped: every member stops next anyway). `pausedText` says what pausing buys
 * on that kind of cluster.
 */
export async function* pauseForRewind(context: OpsContext, signal: AbortSignal, pausedText: string): AsyncGenerator<OperationEvent> {
  const pause = stepStarted(context, 'request:pause', 'Pause the cluster');
  yield pause;
  try {
    await context.patroni.patchConfig({ pause: true }, { signal });
    yield stepEnded(context, pause, 'done', pausedText);
  } catch (error) {
    yield stepEnded(context, pause, 'skipped', `not paused (${(error as Error).message}): every member stops next anyway`);
  }
}

/**
 * The last two steps of a cluster rewind, the same on the native lab and on containers: resume (the fresh
 * cluster state starts from bootstrap.dcs, which may say paused), then verify — a write through the HAProxy
 * write port and Barman archiving on the leader's new timeline (a warning, not a failure, when its last
 * archived WAL is on another one). Returns the leader's timeline.
 */
export async function* resumeAndVerifyRewind(
  context: OpsContext,
  leader: { name: string; host?: string | undefined; port?: number | undefined },
  barman: BarmanAdapter,
  options: {
    signal: AbortSignal;
    /** How many safety copies the rewind kept (said in the verify step's line). */
    safetyCopies: () => number;
    /** Make Barman archive a WAL now (containers: `barman switch-wal`); what it said, for the warning. */
    switchWal?: () => Promise<string>;
  },
): AsyncGenerator<OperationEvent, number> {
  const { signal } = options;
  const resume = stepStarted(context, 'request:resume', 'Resume (the fresh cluster state starts from bootstrap.dcs)');
  yield resume;
  const view = await context.patroni.getCluster({ signal });
  if (view.paused) await context.patroni.patchConfig({ pause: false }, { signal });
  yield stepEnded(context, resume, 'done', view.paused ? 'resumed' : 'not paused');

  const verify = stepStarted(context, 'verify', 'Verify: write port, archiving on the new timeline');
  yield verify;
  const answer = await waitUntil(
    'a write through the HAProxy write port',
    async () => {
      const probe = await context.probeWritePort?.({ signal }).catch(() => undefined);
      return probe?.wrote ? probe : undefined;
    },
    { timeoutMs: context.timeouts.writePortMs, intervalMs: 500, signal },
  );
  const rows = leader.host && leader.port ? await context.memberQuery({ name: leader.name, host: leader.host, port: leader.port }, 'SELECT timeline_id FROM pg_control_checkpoint()', { signal }) : [];
  const timeline = Number(rows[0]?.timeline_id);
  const switched = options.switchWal ? await options.switchWal().catch((error: unknown) => `failed: ${(error as Error).message}`) : undefined;
  const status = await barman.status({ signal });
  const archivedTli = status.lastArchivedWal ? parseInt(status.lastArchivedWal.slice(0, 8), 16) : undefined;
  if (archivedTli !== timeline) {
    yield warning(`Barman's last archived WAL is ${status.lastArchivedWal ?? 'none'} (timeline ${archivedTli ?? '?'}), the leader runs timeline ${timeline}${switched !== undefined ? ` (switch-wal: ${switched.slice(0, 200)})` : ''}`);
  }
  yield stepEnded(context, verify, 'done', `writes reach ${leader.name} (port ${answer.serverPort}); Barman archived ${status.lastArchivedWal ?? '?'}; safety copies: ${options.safetyCopies()}`);
  return timeline;
}
