import { readLabState } from '../lab/lab-state.js';
import { labUp, postmasterPid, readLabTopology } from '../lab/lab.js';
import { isOurProcessAlive } from '../lab/processes.js';
import type { ClusterSnapshot, MemberView } from '../model/snapshot.js';
import { bestCandidate, candidateOptions, commonBlockers, dcsBlockers, findMember, leaderBlockers, unhealthyReplicaWarnings } from './checks.js';
import type { OpsContext } from './context.js';
import { log, stepEnded, stepStarted, warning } from './steps.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';
import { leaderKeyHeldBy, memberRunsAsLeader, replicaStreamsFrom, writePortReaches } from './verify.js';
import { waitUntil } from './wait.js';

/**
 * The failover drill (runbook "Failover Drill"), on the native lab only (the config's `lab` section):
 * SIGKILL the leader's Patroni and its postmaster (a crash, not a clean stop), watch Patroni fail over,
 * measure the time to a new leader (≈ ttl) and to writes through HAProxy, bring the old leader back
 * through the lab and confirm that it rejoins as a streaming replica.
 */

export type DrillParams = Record<string, never>;

export interface DrillResult extends OperationResult {
  details: {
    oldLeader: string;
    newLeader: string;
    ttlSeconds?: number;
    /** From the kill to the leader key held by another member. */
    leaderKeyAfterMs: number;
    /** From the kill to the new leader running. */
    newLeaderAfterMs: number;
    /** From the kill to a write through the HAProxy write port. */
    writesAfterMs?: number;
    /** From the old leader's restart to it streaming from the new leader. */
    rejoinAfterMs: number;
  };
}

export function drillPreconditions(snapshot: ClusterSnapshot, _params: DrillParams, context: PreconditionContext): Preconditions {
  const blockers = commonBlockers(snapshot, context);
  const warnings: Reason[] = [];
  if (!context.cluster.lab) {
    blockers.push({ code: 'not-a-lab', message: `the drill kills the leader: it runs only on a pgcockpit lab (cluster ${context.cluster.name} has no lab section in the config)` });
    return { blockers, warnings };
  }
  if (snapshot.members.length === 0) return { blockers, warnings };
  blockers.push(...dcsBlockers(snapshot), ...leaderBlockers(snapshot, 'the drill'));
  if (snapshot.paused) blockers.push({ code: 'paused', message: 'the cluster is paused: Patroni would not fail over (resume first)' });
  if (snapshot.leader && !bestCandidate(snapshot)) {
    blockers.push({
      code: 'no-candidate',
      message: `no replica could take over: ${candidateOptions(snapshot).map((o) => o.reasons.map((r) => r.message).join(', ')).join('; ') || 'there is no replica'}`,
    });
  }
  if (snapshot.etcd?.quorum === 'degraded') warnings.push({ code: 'etcd-degraded', message: 'etcd is degraded: do not stop etcd during the drill' });
  warnings.push(...unhealthyReplicaWarnings(snapshot));
  return { blockers, warnings };
}

export function drillPlan(snapshot: ClusterSnapshot, params: DrillParams, context: PreconditionContext): OperationPlan {
  const leader = snapshot.leader ?? '?';
  return {
    operation: 'drill',
    summary: `failover drill: crash the leader ${leader}, measure the failover, bring ${leader} back`,
    checks: drillPreconditions(snapshot, params, context),
    requests: [
      { method: 'SIGNAL', url: `${leader}'s Patroni (pid from lab.json)`, body: 'SIGKILL', purpose: 'crash the leader' },
      { method: 'SIGNAL', url: `${leader}'s postmaster (pid from postmaster.pid)`, body: 'SIGKILL', purpose: 'crash its PostgreSQL' },
      { method: 'EXEC', url: `lab up ${context.cluster.lab?.dir ?? ''}`, purpose: `restart ${leader}'s Patroni (only the missing processes)` },
    ],
    verification: [
      'the leader key in etcd moves to another member (watch); time measured from the kill',
      'the new leader runs; a write through the HAProxy write port reaches it; time measured',
      `${leader} streams from the new leader after its restart`,
    ],
  };
}

function killIfOurs(pid: number | undefined, marker: string): boolean {
  if (pid === undefined || !isOurProcessAlive(pid, marker)) return false;
  process.kill(pid, 'SIGKILL');
  return true;
}

async function* runDrill(context: OpsContext, params: DrillParams, signal: AbortSignal): AsyncGenerator<OperationEvent, DrillResult> {
  const preflight = stepStarted(context, 'preflight', 'Preflight checks');
  yield preflight;
  const snapshot = context.store.getSnapshot();
  const checks = drillPreconditions(snapshot, params, { cluster: context.cluster, now: context.now() });
  if (checks.blockers.length) throw new PreconditionError(checks.blockers);
  for (const w of checks.warnings) yield warning(w.message);
  const labDir = context.cluster.lab?.dir as string;
  const topology = readLabTopology(labDir);
  const state = readLabState(topology.paths.stateFile);
  const oldLeader = findMember(snapshot, snapshot.leader as string) as MemberView;
  const spec = topology.members.find((m) => m.name === oldLeader.name);
  const record = state?.processes[oldLeader.name];
  if (!spec || !record) throw new PreconditionError([{ code: 'not-in-lab', member: oldLeader.name, message: `${oldLeader.name} is not a member of the lab in ${labDir}` }]);
  yield stepEnded(context, preflight, 'done', `leader ${oldLeader.name} (Patroni pid ${record.pid}); ttl ${snapshot.dcs.ttl ?? '?'} s`);

  signal.throwIfAborted();
  const kill = stepStarted(context, 'kill', `Crash ${oldLeader.name}: SIGKILL its Patroni and postmaster`);
  yield kill;
  const pgPid = postmasterPid(spec);
  const killedAt = context.now();
  const killedPatroni = killIfOurs(record.pid, record.marker);
  const killedPostgres = killIfOurs(pgPid, spec.dataDir);
  yield stepEnded(context, kill, 'done', `Patroni pid ${record.pid}${killedPatroni ? ' killed' : ' was not running'}, postmaster pid ${pgPid ?? '?'}${killedPostgres ? ' killed' : ' was not running'}`);

  const leaderStep = stepStarted(context, 'leader-key', 'Patroni elects a new leader');
  yield leaderStep;
  const newLeaderName = (await leaderKeyHeldBy(context, (h) => h !== undefined && h !== oldLeader.name, 'another member to take the leader key', signal, context.timeouts.failoverDetectMs)) as string;
  const leaderKeyAfterMs = context.now() - killedAt;
  yield stepEnded(context, leaderStep, 'done', `${newLeaderName} holds the leader key ${(leaderKeyAfterMs / 1000).toFixed(1)} s after the crash`);
  context.store.refresh();
  const newLeader = findMember(snapshot, newLeaderName);
  if (!newLeader) throw new Error(`the new leader ${newLeaderName} was not a known member`);

  const running = stepStarted(context, 'new-leader', `${newLeaderName} runs as the leader`);
  yield running;
  await memberRunsAsLeader(context, newLeader, signal);
  const newLeaderAfterMs = context.now() - killedAt;
  yield stepEnded(context, running, 'done', `${(newLeaderAfterMs / 1000).toFixed(1)} s after the crash`);

  let writesAfterMs: number | undefined;
  if (context.probeWritePort) {
    const writes = stepStarted(context, 'write-port', `Writes through HAProxy reach ${newLeaderName}`);
    yield writes;
    const detail = await writePortReaches(context, newLeader, signal);
    writesAfterMs = context.now() - killedAt;
    yield stepEnded(context, writes, 'done', `${detail}, ${(writesAfterMs / 1000).toFixed(1)} s after the crash`);
  }

  const restart = stepStarted(context, 'restart-old', `Bring ${oldLeader.name} back (lab up)`);
  yield restart;
  const restartAt = context.now();
  const lines: string[] = [];
  await labUp(topology.options, (line) => lines.push(line), signal);
  for (const line of lines) yield log(`lab: ${line}`);
  yield stepEnded(context, restart, 'done', `lab up restarted ${oldLeader.name}'s Patroni`);

  const rejoin = stepStarted(context, 'old-leader-streaming', `${oldLeader.name} rejoins as a streaming replica`);
  yield rejoin;
  const detail = await replicaStreamsFrom(context, newLeader, oldLeader.name, signal);
  await waitUntil(
    `${oldLeader.name} to answer as a replica`,
    async () => {
      const status = await context.patroni.getMemberStatus(oldLeader.apiUrl as string, { signal, timeoutMs: 3000 });
      return status.role === 'replica' || status.role === 'sync_standby' ? true : undefined;
    },
    { signal, timeoutMs: context.timeouts.streamingMs, intervalMs: context.timeouts.pollIntervalMs },
  );
  const rejoinAfterMs = context.now() - restartAt;
  yield stepEnded(context, rejoin, 'done', detail);
  context.store.refresh();
  const ttl = snapshot.dcs.ttl;
  return {
    outcome: 'done',
    summary:
      `${newLeaderName} took over ${(newLeaderAfterMs / 1000).toFixed(1)} s after ${oldLeader.name} crashed (ttl ${ttl ?? '?'} s)` +
      `${writesAfterMs !== undefined ? `; writes through HAProxy after ${(writesAfterMs / 1000).toFixed(1)} s` : ''}; ${oldLeader.name} rejoined as a replica in ${(rejoinAfterMs / 1000).toFixed(1)} s`,
    details: {
      oldLeader: oldLeader.name,
      newLeader: newLeaderName,
      ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
      leaderKeyAfterMs,
      newLeaderAfterMs,
      ...(writesAfterMs !== undefined ? { writesAfterMs } : {}),
      rejoinAfterMs,
    },
  };
}

export const drillOperation: OperationDefinition<DrillParams, DrillResult> = {
  name: 'drill',
  confirmation: 'yes-no',
  preconditions: drillPreconditions,
  plan: drillPlan,
  run: runDrill,
  describeParams: () => ({}),
};

