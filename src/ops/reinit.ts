import type { ClusterSnapshot, MemberView } from '../model/snapshot.js';
import { formatBytes } from '../util/units.js';
import { BasebackupProgress } from './basebackup-progress.js';
import { backupWarnings, commonBlockers, findMember, isStreaming, leaderBlockers, memberRestBase, unhealthyReplicaWarnings, unknownMember } from './checks.js';
import type { OpsContext } from './context.js';
import { stepEnded, stepStarted, warning } from './steps.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';
import { replicaStreamsFrom } from './verify.js';
import { WaitTimeoutError, formatMs } from './wait.js';

/**
 * Reinit of a replica (runbook "Replica Rebuild"): Patroni wipes its data directory and clones it again
 * from the leader. Progress from the rebuild itself (the member's state, and the bytes of the base backup
 * from the leader's pg_stat_progress_basebackup); done when the member streams again.
 */

export interface ReinitParams {
  member: string;
}

export function reinitPreconditions(snapshot: ClusterSnapshot, params: ReinitParams, context: PreconditionContext): Preconditions {
  const blockers = commonBlockers(snapshot, context);
  const warnings: Reason[] = [];
  if (snapshot.members.length === 0) return { blockers, warnings };
  const member = findMember(snapshot, params.member);
  if (!member) return { blockers: [...blockers, unknownMember(snapshot, params.member)], warnings };
  if (member.name === snapshot.leader) {
    blockers.push({ code: 'member-is-leader', member: member.name, message: `${member.name} is the leader: only a replica can be reinitialized (switch over first)` });
  }
  blockers.push(...leaderBlockers(snapshot, 'a reinit (it clones from the leader)'));
  if (!member.apiUrl || !member.restReachable) {
    blockers.push({ code: 'member-unreachable', member: member.name, message: `${member.name}'s Patroni does not answer (${member.restError ?? 'no REST API'}): it cannot be told to reinitialize` });
  }
  if (member.state === 'creating replica') blockers.push({ code: 'already-rebuilding', member: member.name, message: `${member.name} is already creating a replica` });
  if (member.name !== snapshot.leader && isStreaming(member) && member.replayLagBytes === 0) {
    warnings.push({ code: 'member-healthy', member: member.name, message: `${member.name} streams and is caught up: reinit wipes its data directory and copies everything again from ${snapshot.leader ?? 'the leader'}` });
  }
  warnings.push(...backupWarnings(snapshot, 'a reinit'), ...unhealthyReplicaWarnings(snapshot, [member.name]));
  return { blockers, warnings };
}

export function reinitPlan(snapshot: ClusterSnapshot, params: ReinitParams, context: PreconditionContext): OperationPlan {
  const member = findMember(snapshot, params.member);
  return {
    operation: 'reinit',
    summary: `reinitialize ${params.member} from ${snapshot.leader ?? '?'} (its data directory is wiped)`,
    checks: reinitPreconditions(snapshot, params, context),
    requests: [{ method: 'POST', url: `${memberRestBase(member, params.member)}/reinitialize`, body: {}, purpose: 'wipe and clone the replica again' }],
    verification: [
      `${params.member} goes through "creating replica" (GET /patroni), with the base backup's bytes from ${snapshot.leader ?? 'the leader'}'s pg_stat_progress_basebackup`,
      `${params.member} runs again with a new postmaster`,
      `${snapshot.leader ?? 'the leader'} reports ${params.member} streaming (GET /patroni replication)`,
    ],
  };
}

export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

async function* runReinit(context: OpsContext, params: ReinitParams, signal: AbortSignal): AsyncGenerator<OperationEvent, OperationResult> {
  const preflight = stepStarted(context, 'preflight', 'Preflight checks');
  yield preflight;
  const snapshot = context.store.getSnapshot();
  const checks = reinitPreconditions(snapshot, params, { cluster: context.cluster, now: context.now() });
  if (checks.blockers.length) throw new PreconditionError(checks.blockers);
  for (const w of checks.warnings) yield warning(w.message);
  const member = findMember(snapshot, params.member) as MemberView;
  const leader = findMember(snapshot, snapshot.leader as string) as MemberView;
  const apiUrl = member.apiUrl as string;
  const before = await context.patroni.getMemberStatus(apiUrl, { signal });
  yield stepEnded(context, preflight, 'done', `${member.name}: ${before.rawState}, postmaster started ${before.postmasterStartTime ?? '?'}`);

  signal.throwIfAborted();
  const request = stepStarted(context, 'request', `POST /reinitialize on ${member.name}`);
  yield request;
  const answer = await context.patroni.reinit(apiUrl, {});
  yield stepEnded(context, request, 'done', `Patroni answered ${answer.httpStatus}${answer.message ? `: ${answer.message}` : ''}`);

  const rebuild = stepStarted(context, 'rebuild', `${member.name} rebuilds from ${leader.name}`);
  yield rebuild;
  const deadline = context.now() + context.timeouts.reinitMs;
  let sawRebuild = false;
  let lastState = before.rawState;
  const copied = new BasebackupProgress(context, leader, 'rebuild');
  for (;;) {
    signal.throwIfAborted();
    if (context.now() > deadline) throw new WaitTimeoutError(`timed out after ${formatMs(context.timeouts.reinitMs)} waiting for ${member.name} to rebuild (last state: ${lastState})`);
    const status = await context.patroni.getMemberStatus(apiUrl, { signal, timeoutMs: 3000 }).catch(() => undefined);
    if (status) {
      if (status.rawState !== lastState) {
        yield { type: 'progress', stepId: 'rebuild', message: `${member.name}: ${status.rawState}` };
        lastState = status.rawState;
      }
      if (status.state !== 'running' && status.state !== 'streaming') sawRebuild = true;
      if (status.postmasterStartTime && status.postmasterStartTime !== before.postmasterStartTime) sawRebuild = true;
      if (sawRebuild && (status.state === 'running' || status.state === 'streaming') && status.postmasterStartTime !== before.postmasterStartTime) break;
    } else {
      sawRebuild = true;
    }
    const progress = await copied.poll(signal);
    if (progress) yield progress;
    await pause(context.timeouts.pollIntervalMs, signal);
  }
  yield stepEnded(context, rebuild, 'done', `${member.name} runs again${copied.maxBytes ? ` (${formatBytes(copied.maxBytes)} copied)` : ''}`);
  const streaming = stepStarted(context, 'streaming', `${member.name} streams from ${leader.name}`);
  yield streaming;
  const detail = await replicaStreamsFrom(context, leader, member.name, signal);
  yield stepEnded(context, streaming, 'done', detail);
  context.store.refresh();
  return { outcome: 'done', summary: `${member.name} was rebuilt from ${leader.name} and streams again`, details: { member: member.name, leader: leader.name, copiedBytes: copied.maxBytes } };
}

export const reinitOperation: OperationDefinition<ReinitParams> = {
  name: 'reinit',
  confirmation: 'type-name',
  confirmName: (params) => params.member,
  preconditions: reinitPreconditions,
  plan: reinitPlan,
  run: runReinit,
  describeParams: (params) => ({ ...params }),
};
