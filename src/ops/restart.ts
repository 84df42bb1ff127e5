import type { ClusterSnapshot, MemberView } from '../model/snapshot.js';
import { backupWarnings, commonBlockers, findMember, longTransactionWarnings, memberRestBase, unknownMember, writePortLabel } from './checks.js';
import type { OpsContext } from './context.js';
import { stepEnded, stepStarted, warning } from './steps.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';
import { replicaStreamsFrom, writePortReaches } from './verify.js';
import { waitUntil } from './wait.js';

/**
 * Restart of PostgreSQL on one member, or on every member with a pending restart (replicas first, the
 * leader last). Patroni answers when the restart is done; verified by a new postmaster start time, and by
 * the replica streaming again or the leader taking writes through the HAProxy write port.
 */

export interface RestartParams {
  member?: string;
  /** Every member with a pending restart (and only when still pending). */
  pending?: boolean;
}

/** The members to restart, in order: replicas first, the leader last. */
export function restartTargets(snapshot: ClusterSnapshot, params: RestartParams): string[] {
  const names = params.member ? [params.member] : params.pending ? snapshot.members.filter((m) => m.pendingRestart).map((m) => m.name) : [];
  return names.sort((a, b) => Number(a === snapshot.leader) - Number(b === snapshot.leader) || a.localeCompare(b));
}

export function restartPreconditions(snapshot: ClusterSnapshot, params: RestartParams, context: PreconditionContext): Preconditions {
  const blockers = commonBlockers(snapshot, context);
  const warnings: Reason[] = [];
  if (snapshot.members.length === 0) return { blockers, warnings };
  if (!params.member && !params.pending) blockers.push({ code: 'no-target', message: 'name a member, or restart those with a pending restart (--pending)' });
  if (params.member && !findMember(snapshot, params.member)) return { blockers: [...blockers, unknownMember(snapshot, params.member)], warnings };
  const targets = restartTargets(snapshot, params);
  if (params.pending && !params.member && targets.length === 0) blockers.push({ code: 'nothing-pending', message: 'no member has a pending restart' });
  for (const name of targets) {
    const m = findMember(snapshot, name) as MemberView;
    if (!m.apiUrl || !m.restReachable) blockers.push({ code: 'member-unreachable', member: name, message: `${name}'s Patroni does not answer (${m.restError ?? 'no REST API'})` });
  }
  if (snapshot.leader && targets.includes(snapshot.leader)) {
    warnings.push({ code: 'restart-leader', member: snapshot.leader, message: `${snapshot.leader} is the leader: writes fail while its PostgreSQL restarts` });
    warnings.push(...longTransactionWarnings(snapshot, context, 'the restart'));
  }
  warnings.push(...backupWarnings(snapshot, 'a restart'));
  return { blockers, warnings };
}

export function restartPlan(snapshot: ClusterSnapshot, params: RestartParams, context: PreconditionContext): OperationPlan {
  const targets = restartTargets(snapshot, params);
  const write = writePortLabel(context);
  return {
    operation: 'restart',
    summary: `restart PostgreSQL on ${targets.join(', ') || '(nobody)'}${params.pending ? ' (pending restart)' : ''}`,
    checks: restartPreconditions(snapshot, params, context),
    requests: targets.map((name) => ({
      method: 'POST' as const,
      url: `${memberRestBase(findMember(snapshot, name), name)}/restart`,
      body: params.pending ? { restart_pending: true } : {},
      purpose: `restart ${name} (Patroni answers when it is done)`,
    })),
    verification: targets.map((name) =>
      name === snapshot.leader
        ? `${name} has a new postmaster start time${write ? ` and takes writes through ${write}` : ''}`
        : `${name} has a new postmaster start time and streams from ${snapshot.leader ?? 'the leader'}`,
    ),
  };
}

async function* runRestart(context: OpsContext, params: RestartParams, signal: AbortSignal): AsyncGenerator<OperationEvent, OperationResult> {
  const preflight = stepStarted(context, 'preflight', 'Preflight checks');
  yield preflight;
  const snapshot = context.store.getSnapshot();
  const checks = restartPreconditions(snapshot, params, { cluster: context.cluster, now: context.now() });
  if (checks.blockers.length) throw new PreconditionError(checks.blockers);
  for (const w of checks.warnings) yield warning(w.message);
  const targets = restartTargets(snapshot, params).map((name) => findMember(snapshot, name) as MemberView);
  yield stepEnded(context, preflight, 'done', `restart ${targets.map((t) => t.name).join(', ')}`);
  const restarted: string[] = [];
  for (const member of targets) {
    signal.throwIfAborted();
    const apiUrl = member.apiUrl as string;
    const before = await context.patroni.getMemberStatus(apiUrl, { signal });
    const request = stepStarted(context, `restart:${member.name}`, `POST /restart on ${member.name}`);
    yield request;
    const answer = await context.patroni.restart(apiUrl, params.pending ? { restartPending: true } : {}, { timeoutMs: context.timeouts.restartMs });
    yield stepEnded(context, request, 'done', `Patroni answered ${answer.httpStatus}${answer.message ? `: ${answer.message}` : ''}`);
    const verify = stepStarted(context, `verify:${member.name}`, `${member.name} runs again`);
    yield verify;
    await waitUntil(
      `${member.name} to run with a new postmaster`,
      async () => {
        const status = await context.patroni.getMemberStatus(apiUrl, { signal, timeoutMs: 3000 });
        return status.state === 'running' && status.postmasterStartTime !== before.postmasterStartTime ? true : undefined;
      },
      { signal, timeoutMs: context.timeouts.restartMs, intervalMs: context.timeouts.pollIntervalMs },
    );
    const leader = snapshot.leader ? findMember(snapshot, snapshot.leader) : undefined;
    let detail = `${member.name} has a new postmaster`;
    if (member.name === snapshot.leader && context.probeWritePort) detail += `; ${await writePortReaches(context, member, signal)}`;
    else if (leader && member.name !== leader.name) detail += `; ${await replicaStreamsFrom(context, leader, member.name, signal)}`;
    yield stepEnded(context, verify, 'done', detail);
    restarted.push(member.name);
  }
  context.store.refresh();
  return { outcome: 'done', summary: `restarted ${restarted.join(', ')}`, details: { restarted } };
}

export const restartOperation: OperationDefinition<RestartParams> = {
  name: 'restart',
  confirmation: 'yes-no',
  preconditions: restartPreconditions,
  plan: restartPlan,
  run: runRestart,
  describeParams: (params) => ({ ...params }),
};
