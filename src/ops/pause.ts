import type { ClusterSnapshot } from '../model/snapshot.js';
import { clusterRestBase, commonBlockers, dcsBlockers } from './checks.js';
import type { OpsContext } from './context.js';
import { stepEnded, stepStarted } from './steps.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';
import { dcsWake } from './verify.js';
import { waitUntil } from './wait.js';

/**
 * Pause and resume (maintenance mode): PATCH /config {pause: true|false}. While paused Patroni does not fail
 * over automatically; the header shows it. Verified when GET /cluster reports the new mode (woken by the
 * etcd watch on the config key).
 */

export type PauseParams = Record<string, never>;

function pausePreconditions(paused: boolean) {
  return (snapshot: ClusterSnapshot, _params: PauseParams, context: PreconditionContext): Preconditions => {
    const blockers = commonBlockers(snapshot, context);
    const warnings: Reason[] = [];
    if (snapshot.members.length === 0) return { blockers, warnings };
    blockers.push(...dcsBlockers(snapshot));
    if (snapshot.paused === paused) blockers.push({ code: paused ? 'already-paused' : 'not-paused', message: paused ? 'the cluster is already paused' : 'the cluster is not paused' });
    if (paused) warnings.push({ code: 'no-automatic-failover', message: 'while paused, Patroni does not fail over when the leader is lost' });
    if (!paused && !snapshot.leader) warnings.push({ code: 'no-leader', message: 'there is no leader: on resume Patroni elects one' });
    return { blockers, warnings };
  };
}

function pausePlan(paused: boolean) {
  const check = pausePreconditions(paused);
  return (snapshot: ClusterSnapshot, params: PauseParams, context: PreconditionContext): OperationPlan => ({
    operation: paused ? 'pause' : 'resume',
    summary: paused ? 'pause the cluster (maintenance mode: no automatic failover)' : 'resume the cluster (automatic failover on)',
    checks: check(snapshot, params, context),
    requests: [{ method: 'PATCH', url: `${clusterRestBase(snapshot, context)}/config`, body: { pause: paused }, purpose: paused ? 'enter maintenance mode' : 'leave maintenance mode' }],
    verification: [`GET /cluster reports pause: ${paused}`],
  });
}

function runPause(paused: boolean) {
  const check = pausePreconditions(paused);
  return async function* (context: OpsContext, params: PauseParams, signal: AbortSignal): AsyncGenerator<OperationEvent, OperationResult> {
    const preflight = stepStarted(context, 'preflight', 'Preflight checks');
    yield preflight;
    const checks = check(context.store.getSnapshot(), params, { cluster: context.cluster, now: context.now() });
    if (checks.blockers.length) throw new PreconditionError(checks.blockers);
    yield stepEnded(context, preflight, 'done');
    signal.throwIfAborted();
    const request = stepStarted(context, 'request', `PATCH /config {"pause": ${paused}}`);
    yield request;
    await context.patroni.patchConfig({ pause: paused }, { signal });
    yield stepEnded(context, request, 'done');
    const verify = stepStarted(context, 'verify', paused ? 'Cluster paused' : 'Cluster resumed');
    yield verify;
    await waitUntil(
      `GET /cluster to report pause: ${paused}`,
      async () => ((await context.patroni.getCluster({ signal })).paused === paused ? true : undefined),
      { signal, timeoutMs: 30_000, intervalMs: Math.max(500, context.timeouts.pollIntervalMs), wake: dcsWake(context, (name) => name === 'config') },
    );
    yield stepEnded(context, verify, 'done', `GET /cluster reports pause: ${paused}`);
    context.store.refresh();
    return { outcome: 'done', summary: paused ? 'the cluster is paused (maintenance mode)' : 'the cluster is resumed (automatic failover on)', details: { paused } };
  };
}

export const pauseOperation: OperationDefinition<PauseParams> = {
  name: 'pause',
  confirmation: 'none',
  preconditions: pausePreconditions(true),
  plan: pausePlan(true),
  run: runPause(true),
  describeParams: () => ({}),
};

export const resumeOperation: OperationDefinition<PauseParams> = {
  name: 'resume',
  confirmation: 'none',
  preconditions: pausePreconditions(false),
  plan: pausePlan(false),
  run: runPause(false),
  describeParams: () => ({}),
};
