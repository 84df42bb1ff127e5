import type { ClusterSnapshot, MemberView } from '../model/snapshot.js';
import { formatBytes } from '../util/units.js';
import { clusterRestBase, commonBlockers, dcsBlockers, findMember, maximumLagOnFailover, memberRestBase, unknownMember, writePortLabel } from './checks.js';
import type { OpsContext } from './context.js';
import { log, stepEnded, stepStarted, warning } from './steps.js';
import { verifyLeaderChange } from './switchover.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';

/**
 * Manual failover (emergency: the leader is gone or must be abandoned). Unlike a switchover it needs no
 * healthy leader, so the candidate's lag is a warning with its figure (acknowledged commits it has not
 * received are lost), not a blocker. The candidate is required and typed to confirm.
 */

export interface FailoverParams {
  candidate: string;
}

export function failoverPreconditions(snapshot: ClusterSnapshot, params: FailoverParams, context: PreconditionContext): Preconditions {
  const blockers = commonBlockers(snapshot, context);
  const warnings: Reason[] = [];
  if (snapshot.members.length === 0) return { blockers, warnings };
  blockers.push(...dcsBlockers(snapshot));
  const candidate = findMember(snapshot, params.candidate);
  if (!candidate) {
    blockers.push(unknownMember(snapshot, params.candidate));
    return { blockers, warnings };
  }
  if (candidate.name === snapshot.leader) blockers.push({ code: 'candidate-is-leader', member: candidate.name, message: `${candidate.name} is already the leader` });
  if (candidate.nofailover) blockers.push({ code: 'candidate-nofailover', member: candidate.name, message: `candidate ${candidate.name} is tagged nofailover: Patroni will not promote it` });
  if (!candidate.restReachable) {
    blockers.push({ code: 'candidate-unreachable', member: candidate.name, message: `candidate ${candidate.name}'s Patroni does not answer (${candidate.restError ?? 'no answer'})` });
  } else if (['stopped', 'crashed', 'stopping', 'creating replica', 'starting'].includes(candidate.state)) {
    blockers.push({ code: 'candidate-not-running', member: candidate.name, message: `candidate ${candidate.name} is ${candidate.state}` });
  }
  const limit = maximumLagOnFailover(snapshot);
  if (candidate.name !== snapshot.leader) {
    if (candidate.replayLagBytes === undefined) {
      warnings.push({ code: 'candidate-lag-unknown', member: candidate.name, message: `lag of candidate ${candidate.name} unknown${candidate.replayLagUnknown ? ` (${candidate.replayLagUnknown})` : ''}: commits it has not received will be lost` });
    } else if (candidate.replayLagBytes > 0) {
      warnings.push({
        code: candidate.replayLagBytes > limit ? 'candidate-lag' : 'candidate-lag-small',
        member: candidate.name,
        message: `candidate ${candidate.name} lags ${formatBytes(candidate.replayLagBytes)}${candidate.replayLagBytes > limit ? ` > ${formatBytes(limit)} (maximum_lag_on_failover)` : ''}: up to that much acknowledged WAL may be lost`,
      });
    }
  }
  const leader = snapshot.leader ? findMember(snapshot, snapshot.leader) : undefined;
  if (leader && (leader.state === 'running' || leader.state === 'streaming')) {
    warnings.push({ code: 'leader-healthy', member: leader.name, message: `the leader ${leader.name} is running: a switchover (which checks lag and waits for it) is the safer choice` });
  }
  return { blockers, warnings };
}

export function failoverPlan(snapshot: ClusterSnapshot, params: FailoverParams, context: PreconditionContext): OperationPlan {
  const write = writePortLabel(context);
  return {
    operation: 'failover',
    summary: `failover to ${params.candidate} (leader now: ${snapshot.leader ?? 'none'}); may lose data`,
    checks: failoverPreconditions(snapshot, params, context),
    requests: [{ method: 'POST', url: `${findMember(snapshot, params.candidate)?.apiUrl ? memberRestBase(findMember(snapshot, params.candidate), params.candidate) : clusterRestBase(snapshot, context)}/failover`, body: { candidate: params.candidate }, purpose: 'promote the candidate' }],
    verification: [
      `the leader key in etcd moves to ${params.candidate} (watch)`,
      `${params.candidate} answers GET /patroni as a running leader`,
      ...(snapshot.leader ? [`${snapshot.leader} streams from ${params.candidate}, when it is running`] : []),
      ...(write ? [`a fresh connection through the HAProxy write port ${write} reaches ${params.candidate} and takes a write`] : []),
    ],
  };
}

async function* runFailover(context: OpsContext, params: FailoverParams, signal: AbortSignal): AsyncGenerator<OperationEvent, OperationResult> {
  const preflight = stepStarted(context, 'preflight', 'Preflight checks');
  yield preflight;
  const snapshot = context.store.getSnapshot();
  const checks = failoverPreconditions(snapshot, params, { cluster: context.cluster, now: context.now() });
  if (checks.blockers.length) throw new PreconditionError(checks.blockers);
  for (const w of checks.warnings) yield warning(w.message);
  const candidate = findMember(snapshot, params.candidate) as MemberView;
  const oldLeader = snapshot.leader ? findMember(snapshot, snapshot.leader) : undefined;
  const oldLeaderAlive = oldLeader !== undefined && oldLeader.restReachable && oldLeader.state !== 'unreachable';
  yield stepEnded(context, preflight, 'done', `leader ${oldLeader?.name ?? 'none'}${oldLeader && !oldLeaderAlive ? ' (down)' : ''} → ${candidate.name}, lag ${candidate.replayLagBytes ?? '?'} B`);
  signal.throwIfAborted();
  const request = stepStarted(context, 'request', `POST /failover to ${candidate.name}`);
  yield request;
  const requestedAt = context.now();
  let settled: { error?: unknown } | undefined;
  const post = context.patroni.failover({ candidate: candidate.name }).then(
    (answer) => {
      settled = {};
      return answer;
    },
    (error: unknown) => {
      settled = { error };
      return undefined;
    },
  );
  const answer = await post;
  if (settled?.error) throw settled.error;
  yield stepEnded(context, request, 'done', `Patroni answered ${answer?.httpStatus ?? '?'}${answer?.message ? `: ${answer.message}` : ''}`);
  const verified = yield* verifyLeaderChange(context, oldLeader, candidate, signal, {
    requestSettled: () => undefined,
    oldLeaderRejoins: oldLeaderAlive,
    milestoneTitle: `Failover done: ${candidate.name} is the leader`,
  });
  if (oldLeader && !oldLeaderAlive) yield log(`${oldLeader.name} was down: bring it back and it rejoins as a replica (or reinit it)`);
  const verifiedAfterMs = context.now() - requestedAt;
  return {
    outcome: 'done',
    summary: `${candidate.name} is the leader${verified.timeline ? ` on timeline ${verified.timeline}` : ''} (verified ${(verifiedAfterMs / 1000).toFixed(1)} s after the request)`,
    details: { from: oldLeader?.name, to: candidate.name, verifiedAfterMs, ...verified },
  };
}

export const failoverOperation: OperationDefinition<FailoverParams> = {
  name: 'failover',
  confirmation: 'type-name',
  confirmName: (params) => params.candidate,
  preconditions: failoverPreconditions,
  plan: failoverPlan,
  run: runFailover,
  describeParams: (params) => ({ ...params }),
};
