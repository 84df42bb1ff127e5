import type { ClusterSnapshot, MemberView } from '../model/snapshot.js';
import { commonBlockers, findMember, memberRestBase, unknownMember } from './checks.js';
import type { OpsContext } from './context.js';
import { stepEnded, stepStarted, warning } from './steps.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';
import { waitUntil } from './wait.js';

/**
 * Reload: Patroni re-reads its configuration file (patroni.yml: tags, parameters) on one member or all.
 * Patroni answers 202 and applies it in its loop; verified by the member answering as running, and
 * reported with the pending-restart parameters the reload left (they need a restart).
 */

export interface ReloadParams {
  /** One member; every member when omitted. */
  member?: string;
}

function reloadTargets(snapshot: ClusterSnapshot, params: ReloadParams): string[] {
  return params.member ? [params.member] : snapshot.members.map((m) => m.name);
}

export function reloadPreconditions(snapshot: ClusterSnapshot, params: ReloadParams, context: PreconditionContext): Preconditions {
  const blockers = commonBlockers(snapshot, context);
  const warnings: Reason[] = [];
  if (snapshot.members.length === 0) return { blockers, warnings };
  if (params.member && !findMember(snapshot, params.member)) return { blockers: [...blockers, unknownMember(snapshot, params.member)], warnings };
  for (const name of reloadTargets(snapshot, params)) {
    const m = findMember(snapshot, name) as MemberView;
    if (!m.apiUrl || !m.restReachable) blockers.push({ code: 'member-unreachable', member: name, message: `${name}'s Patroni does not answer (${m.restError ?? 'no REST API'})` });
  }
  return { blockers, warnings };
}

export function reloadPlan(snapshot: ClusterSnapshot, params: ReloadParams, context: PreconditionContext): OperationPlan {
  const targets = reloadTargets(snapshot, params);
  return {
    operation: 'reload',
    summary: `reload the configuration of ${targets.join(', ')}`,
    checks: reloadPreconditions(snapshot, params, context),
    requests: targets.map((name) => ({ method: 'POST' as const, url: `${memberRestBase(findMember(snapshot, name), name)}/reload`, purpose: `${name} re-reads patroni.yml` })),
    verification: targets.map((name) => `${name} answers GET /patroni as running after the reload`),
  };
}

async function* runReload(context: OpsContext, params: ReloadParams, signal: AbortSignal): AsyncGenerator<OperationEvent, OperationResult> {
  const preflight = stepStarted(context, 'preflight', 'Preflight checks');
  yield preflight;
  const snapshot = context.store.getSnapshot();
  const checks = reloadPreconditions(snapshot, params, { cluster: context.cluster, now: context.now() });
  if (checks.blockers.length) throw new PreconditionError(checks.blockers);
  for (const w of checks.warnings) yield warning(w.message);
  const targets = reloadTargets(snapshot, params).map((name) => findMember(snapshot, name) as MemberView);
  yield stepEnded(context, preflight, 'done', targets.map((t) => t.name).join(', '));
  const pending: string[] = [];
  for (const member of targets) {
    signal.throwIfAborted();
    const apiUrl = member.apiUrl as string;
    const step = stepStarted(context, `reload:${member.name}`, `POST /reload on ${member.name}`);
    yield step;
    const answer = await context.patroni.reload(apiUrl, { signal });
    const status = await waitUntil(
      `${member.name} to answer after the reload`,
      async () => {
        const s = await context.patroni.getMemberStatus(apiUrl, { signal, timeoutMs: 3000 });
        return s.state === 'running' || s.state === 'streaming' ? s : undefined;
      },
      { signal, timeoutMs: 30_000, intervalMs: context.timeouts.pollIntervalMs },
    );
    if (status.pendingRestart) pending.push(member.name);
    yield stepEnded(context, step, 'done', `Patroni answered ${answer.httpStatus}${answer.message ? `: ${answer.message}` : ''}${status.pendingRestart ? '; a restart is pending' : ''}`);
  }
  context.store.refresh();
  return {
    outcome: 'done',
    summary: `reloaded ${targets.map((t) => t.name).join(', ')}${pending.length ? `; pending restart on ${pending.join(', ')}` : ''}`,
    details: { reloaded: targets.map((t) => t.name), pendingRestart: pending },
  };
}

export const reloadOperation: OperationDefinition<ReloadParams> = {
  name: 'reload',
  confirmation: 'none',
  preconditions: reloadPreconditions,
  plan: reloadPlan,
  run: runReload,
  describeParams: (params) => ({ ...params }),
};
