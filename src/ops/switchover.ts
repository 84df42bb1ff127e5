import type { ClusterSnapshot, MemberView } from '../model/snapshot.js';
import { ServiceError } from '../services/types.js';
import {
  backupWarnings,
  bestCandidate,
  candidateBlockers,
  candidateOptions,
  clusterRestBase,
  commonBlockers,
  dcsBlockers,
  findMember,
  leaderBlockers,
  longTransactionWarnings,
  memberRestBase,
  unhealthyReplicaWarnings,
  writePortLabel,
} from './checks.js';
import type { OpsContext } from './context.js';
import type { Milestone } from './steps.js';
import { concurrentSteps, log, stepEnded, stepStarted, warning } from './steps.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';
import { leaderKeyHeldBy, memberRunsAsLeader, replicaStreamsFrom, writePortReaches } from './verify.js';
import { waitUntil } from './wait.js';

/**
 * Planned switchover (runbook "Planned Switchover"): to a chosen or the best candidate, now or at a time;
 * or cancel a scheduled one. Done only when verified: the leader key moved (etcd watch), the new leader
 * runs, and a fresh connection through the HAProxy write port lands on it and takes a write — the "done"
 * step is reported at that moment; the old leader's rejoin (streaming from the new leader) is verified
 * after it, and the operation returns once both hold.
 */

export interface SwitchoverParams {
  /** The member to hand leadership to; the best eligible replica when omitted. */
  candidate?: string;
  /** ISO 8601 time with a zone: schedule the switchover (Patroni runs it then). */
  at?: string;
  /** Cancel the scheduled switchover instead. */
  cancel?: boolean;
}

export interface SwitchoverResult extends OperationResult {
  details: {
    from?: string;
    to?: string;
    at?: string;
    timeline?: number;
    /** From the request to the verified end, in ms. */
    verifiedAfterMs?: number;
    patroniSaid?: string;
  };
}

/** The candidate the switchover would use: the given one, or the best eligible. */
export function switchoverCandidate(snapshot: ClusterSnapshot, params: SwitchoverParams): string | undefined {
  return params.candidate ?? bestCandidate(snapshot);
}

function atBlockers(snapshot: ClusterSnapshot, at: string, now: number): Reason[] {
  const time = Date.parse(at);
  if (!Number.isFinite(time) || !/(Z|[+-]\d\d:?\d\d)$/i.test(at.trim())) {
    return [{ code: 'bad-time', message: `--at "${at}" is not an ISO 8601 time with a zone (e.g. 2026-11-21T22:00:00+01:00)` }];
  }
  const reasons: Reason[] = [];
  if (time <= now) reasons.push({ code: 'time-in-past', message: `--at ${at} is in the past` });
  if (snapshot.paused) reasons.push({ code: 'paused-scheduled', message: 'the cluster is paused: Patroni does not run scheduled switchovers in maintenance mode' });
  return reasons;
}

export function switchoverPreconditions(snapshot: ClusterSnapshot, params: SwitchoverParams, context: PreconditionContext): Preconditions {
  const blockers = commonBlockers(snapshot, context);
  const warnings: Reason[] = [];
  if (params.cancel) {
    if (!snapshot.scheduledSwitchover && snapshot.members.length) {
      blockers.push({ code: 'nothing-scheduled', message: 'no switchover is scheduled' });
    }
    return { blockers, warnings };
  }
  if (snapshot.members.length === 0) return { blockers, warnings };
  blockers.push(...dcsBlockers(snapshot), ...leaderBlockers(snapshot, 'a switchover'));
  const scheduled = snapshot.scheduledSwitchover;
  if (scheduled) {
    blockers.push({
      code: 'already-scheduled',
      message: `a switchover is already scheduled at ${scheduled.at}${scheduled.to ? ` (to ${scheduled.to})` : ''}: cancel it first (switchover --cancel)`,
    });
  }
  if (params.at !== undefined) blockers.push(...atBlockers(snapshot, params.at, context.now));
  if (snapshot.leader) {
    if (params.candidate !== undefined) {
      blockers.push(...candidateBlockers(snapshot, params.candidate));
    } else if (!bestCandidate(snapshot)) {
      const options = candidateOptions(snapshot);
      blockers.push({
        code: 'no-candidate',
        message: `no replica can take over: ${options.length ? options.map((o) => o.reasons.map((r) => r.message).join(', ')).join('; ') : 'there is no replica'}`,
      });
    }
  }
  const candidate = switchoverCandidate(snapshot, params);
  if (snapshot.paused) warnings.push({ code: 'paused', message: 'the cluster is paused (maintenance mode): Patroni switches over only to the named candidate, and stays paused' });
  warnings.push(...backupWarnings(snapshot, 'a switchover'), ...longTransactionWarnings(snapshot, context, 'the switchover'));
  warnings.push(...unhealthyReplicaWarnings(snapshot, candidate ? [candidate] : []));
  const candidateMember = candidate ? findMember(snapshot, candidate) : undefined;
  if (candidateMember?.replayPaused) warnings.push({ code: 'replay-paused', member: candidate, message: `${candidate} has WAL replay paused` });
  return { blockers, warnings };
}

export function switchoverPlan(snapshot: ClusterSnapshot, params: SwitchoverParams, context: PreconditionContext): OperationPlan {
  const checks = switchoverPreconditions(snapshot, params, context);
  const base = clusterRestBase(snapshot, context);
  if (params.cancel) {
    const s = snapshot.scheduledSwitchover;
    return {
      operation: 'switchover',
      summary: `cancel the switchover scheduled${s ? ` at ${s.at}` : ''}`,
      checks,
      requests: [{ method: 'DELETE', url: `${base}/switchover`, purpose: 'remove the scheduled switchover from the DCS' }],
      verification: ['GET /cluster no longer shows a scheduled switchover'],
    };
  }
  const candidate = switchoverCandidate(snapshot, params);
  // Sent to the leader's REST API first (Patroni wakes its loop only where the request arrives).
  const leaderMember = snapshot.leader ? findMember(snapshot, snapshot.leader) : undefined;
  const leaderBase = leaderMember?.apiUrl ? memberRestBase(leaderMember, leaderMember.name) : base;
  const body: Record<string, string> = { leader: snapshot.leader ?? '?', candidate: candidate ?? '?' };
  if (params.at) body.scheduled_at = params.at;
  const write = writePortLabel(context);
  return {
    operation: 'switchover',
    summary: `switchover ${snapshot.leader ?? '?'} → ${candidate ?? '?'}${params.candidate ? '' : ' (best candidate)'} ${params.at ? `at ${params.at}` : 'now'}`,
    checks,
    requests: [{ method: 'POST', url: `${leaderBase}/switchover`, body, purpose: params.at ? 'schedule the switchover (Patroni answers 202)' : 'switch over now (Patroni answers when the leader changed)' }],
    verification: params.at
      ? ['GET /cluster shows the scheduled switchover']
      : [
          `the leader key in etcd moves to ${candidate ?? '?'} (watch)`,
          `${candidate ?? '?'} answers GET /patroni as a running leader`,
          `${snapshot.leader ?? '?'} streams from ${candidate ?? '?'} (its GET /patroni replication)`,
          ...(write ? [`a fresh connection through the HAProxy write port ${write} is not in recovery, reaches ${candidate ?? '?'}'s port, and takes a write`] : []),
        ],
  };
}

async function* cancelScheduled(context: OpsContext, signal: AbortSignal): AsyncGenerator<OperationEvent, SwitchoverResult> {
  const request = stepStarted(context, 'request', 'DELETE /switchover');
  yield request;
  signal.throwIfAborted();
  const answer = await context.patroni.cancelScheduledSwitchover({ signal });
  yield stepEnded(context, request, 'done', `Patroni answered ${answer.httpStatus}${answer.message ? `: ${answer.message}` : ''}`);
  const verify = stepStarted(context, 'verify', 'Scheduled switchover removed');
  yield verify;
  await waitUntil(
    'the scheduled switchover to disappear from /cluster',
    async () => ((await context.patroni.getCluster({ signal })).scheduledSwitchover ? undefined : true),
    { signal, timeoutMs: 30_000, intervalMs: context.timeouts.pollIntervalMs },
  );
  yield stepEnded(context, verify, 'done', 'GET /cluster shows no scheduled switchover');
  context.store.refresh();
  return { outcome: 'cancelled', summary: 'the scheduled switchover is cancelled', details: {} };
}

async function* scheduleSwitchover(context: OpsContext, leader: string, candidate: string, at: string, signal: AbortSignal): AsyncGenerator<OperationEvent, SwitchoverResult> {
  const request = stepStarted(context, 'request', `POST /switchover ${leader} → ${candidate} at ${at}`);
  yield request;
  signal.throwIfAborted();
  const answer = await context.patroni.switchover({ leader, candidate, scheduledAt: at }, { signal });
  yield stepEnded(context, request, 'done', `Patroni answered ${answer.httpStatus}${answer.message ? `: ${answer.message}` : ''}`);
  const verify = stepStarted(context, 'verify', 'Switchover scheduled');
  yield verify;
  const scheduled = await waitUntil(
    'the scheduled switchover to show in /cluster',
    async () => (await context.patroni.getCluster({ signal })).scheduledSwitchover,
    { signal, timeoutMs: 30_000, intervalMs: context.timeouts.pollIntervalMs },
  );
  yield stepEnded(context, verify, 'done', `GET /cluster shows it at ${scheduled.at}`);
  context.store.refresh();
  return { outcome: 'scheduled', summary: `switchover ${leader} → ${candidate} scheduled at ${scheduled.at}`, details: { from: leader, to: candidate, at: scheduled.at, patroniSaid: answer.message } };
}

/** The verified switchover itself (also used by the failover, which differs only in its request). */
export async function* verifyLeaderChange(
  context: OpsContext,
  from: MemberView | undefined,
  to: MemberView,
  signal: AbortSignal,
  options: { requestSettled: () => { error?: unknown } | undefined; oldLeaderRejoins: boolean; milestoneTitle?: string },
): AsyncGenerator<OperationEvent, { timeline?: number }> {
  const leaderKey = stepStarted(context, 'leader-key', `Leader key moves to ${to.name}`);
  yield leaderKey;
  await leaderKeyHeldBy(
    context,
    (holder) => {
      const settled = options.requestSettled();
      if (settled?.error) throw settled.error;
      return holder === to.name;
    },
    `the leader key to move to ${to.name}`,
    signal,
    context.timeouts.leaderMoveMs,
  );
  yield stepEnded(context, leaderKey, 'done', `etcd: the leader key is held by ${to.name}`);
  context.store.refresh();

  const running = stepStarted(context, 'new-leader', `${to.name} runs as the leader`);
  yield running;
  const status = await memberRunsAsLeader(context, to, signal);
  yield stepEnded(context, running, 'done', `${to.name}: role ${status.rawRole || status.role}, state ${status.rawState}, timeline ${status.timeline ?? '?'}`);

  // Writes reaching the new leader through the write port is what clients need: the operation reports
  // "done" the moment that is verified, and the old leader's rejoin (a replica again, streaming from the
  // new leader) is verified after it, trailing, before the operation returns.
  const checks: Array<{ id: string; title: string; check: (s: AbortSignal) => Promise<string | undefined> }> = [];
  if (context.probeWritePort) {
    checks.push({ id: 'write-port', title: `HAProxy write port reaches ${to.name}`, check: (s) => writePortReaches(context, to, s) });
  }
  if (from && options.oldLeaderRejoins) {
    checks.push({ id: 'old-leader-streaming', title: `${from.name} rejoins, streaming from ${to.name}`, check: (s) => replicaStreamsFrom(context, to, from.name, s) });
  }
  const write = context.cluster.haproxy?.write;
  const milestone: Milestone | undefined = checks.length
    ? {
        id: 'done',
        title: options.milestoneTitle ?? `${to.name} is the leader`,
        detail: context.probeWritePort && write ? `writes reach ${to.name} through ${write.host}:${write.port}` : `${checks.map((c) => c.title).join('; ')}`,
        after: [checks[0]?.id as string],
      }
    : undefined;
  yield* concurrentSteps(context, signal, checks, milestone);
  context.store.refresh();
  return status.timeline === undefined ? {} : { timeline: status.timeline };
}

async function* runSwitchover(context: OpsContext, params: SwitchoverParams, signal: AbortSignal): AsyncGenerator<OperationEvent, SwitchoverResult> {
  const preflight = stepStarted(context, 'preflight', 'Preflight checks');
  yield preflight;
  const snapshot = context.store.getSnapshot();
  const checks = switchoverPreconditions(snapshot, params, { cluster: context.cluster, now: context.now() });
  if (checks.blockers.length) throw new PreconditionError(checks.blockers);
  for (const w of checks.warnings) yield warning(w.message);
  if (params.cancel) {
    yield stepEnded(context, preflight, 'done', `scheduled at ${snapshot.scheduledSwitchover?.at ?? '?'}`);
    return yield* cancelScheduled(context, signal);
  }
  const leader = findMember(snapshot, snapshot.leader as string) as MemberView;
  const candidateName = switchoverCandidate(snapshot, params) as string;
  const candidate = findMember(snapshot, candidateName) as MemberView;
  yield stepEnded(context, preflight, 'done', `${leader.name} → ${candidate.name}: ${candidate.state}, lag ${candidate.replayLagBytes ?? '?'} B`);
  if (params.at) return yield* scheduleSwitchover(context, leader.name, candidate.name, params.at, signal);

  // Watch before the request, so that no event is missed; the request itself is never aborted once sent.
  let failoverKeyWritten = false;
  let wakeRequest: (() => void) | undefined;
  const disposeWatch = context.watchDcs((event) => {
    if (event.kind === 'put' && event.name === 'failover') {
      failoverKeyWritten = true;
      wakeRequest?.();
    }
  });
  try {
    signal.throwIfAborted();
    const requestStep = stepStarted(context, 'request', `POST /switchover ${leader.name} → ${candidate.name}`);
    yield requestStep;
    const requestedAt = context.now();
    let settled: { error?: unknown; said?: string } | undefined;
    const post = context.patroni.switchover({ leader: leader.name, candidate: candidate.name }).then(
      (answer) => {
        settled = { said: `${answer.httpStatus}${answer.message ? ` ${answer.message}` : ''}` };
        wakeRequest?.();
      },
      (error: unknown) => {
        settled = { error };
        wakeRequest?.();
      },
    );
    // Accepted when Patroni writes the failover key (or the leader moves already), or when it answers.
    // (Abort or a timeout stop the wait; the request itself is not withdrawn.)
    await waitUntil('Patroni to accept the switchover', () => (failoverKeyWritten || settled ? true : undefined), {
      signal,
      timeoutMs: context.timeouts.leaderMoveMs,
      intervalMs: 1000,
      wake: (notify) => {
        wakeRequest = notify;
        return () => (wakeRequest = undefined);
      },
    });
    if (settled?.error) throw settled.error;
    yield stepEnded(context, requestStep, 'done', settled ? `Patroni answered ${settled.said}` : 'accepted: Patroni wrote the failover key');

    const verified = yield* verifyLeaderChange(context, leader, candidate, signal, {
      requestSettled: () => (settled?.error && !isStatusUnknown(settled.error) ? settled : undefined),
      oldLeaderRejoins: true,
      milestoneTitle: `Switchover done: ${candidate.name} is the leader`,
    });
    const verifiedAfterMs = context.now() - requestedAt;
    // Patroni answers once it sees the new leader; it has by now, but don't leave the request behind.
    await post;
    if (settled?.error) yield warning(`Patroni's answer to the request: ${(settled.error as Error).message} (the switchover was verified)`);
    else if (settled?.said) yield log(`Patroni answered ${settled.said}`);
    const details: SwitchoverResult['details'] = { from: leader.name, to: candidate.name, verifiedAfterMs, ...verified };
    if (settled?.said) details.patroniSaid = settled.said;
    const write = context.cluster.haproxy?.write;
    return {
      outcome: 'done',
      summary: `${candidate.name} is the leader${verified.timeline ? ` on timeline ${verified.timeline}` : ''}; ${leader.name} streams from it${write ? `; writes through ${write.host}:${write.port} reach it` : ''} (verified ${(verifiedAfterMs / 1000).toFixed(1)} s after the request)`,
      details,
    };
  } finally {
    await disposeWatch().catch(() => undefined);
  }
}

/** Patroni answers 503 "Switchover status unknown" when its own wait ran out; the switchover may still happen. */
function isStatusUnknown(error: unknown): boolean {
  return error instanceof ServiceError && error.kind === 'failed' && /status unknown/i.test(error.message);
}

export const switchoverOperation: OperationDefinition<SwitchoverParams, SwitchoverResult> = {
  name: 'switchover',
  confirmation: 'yes-no',
  preconditions: switchoverPreconditions,
  plan: switchoverPlan,
  run: runSwitchover,
  describeParams: (params) => ({ ...params }),
};
