import { readLabState } from '../lab/lab-state.js';
import { labUp, postmasterPid, readLabTopology } from '../lab/lab.js';
import { isOurProcessAlive } from '../lab/processes.js';
import type { ClusterConfig } from '../config/schema.js';
import { DockerEngine } from '../services/docker.js';
import type { ClusterSnapshot, MemberView } from '../model/snapshot.js';
import { bestCandidate, candidateOptions, commonBlockers, dcsBlockers, findMember, leaderBlockers, unhealthyReplicaWarnings } from './checks.js';
import type { OpsContext } from './context.js';
import { log, stepEnded, stepStarted, warning } from './steps.js';
import type { OperationDefinition, OperationEvent, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason } from './types.js';
import { PreconditionError } from './types.js';
import { leaderKeyHeldBy, memberRunsAsLeader, replicaStreamsFrom, writePortReaches } from './verify.js';
import { waitUntil } from './wait.js';

/**
 * The failover drill (runbook "Failover Drill"), on the native lab (the config's `lab` section) or on
 * members that run in containers (the config's `members.<name>.container`):
 * crash the leader — on the lab SIGKILL its Patroni and its postmaster; in a container, stop the container
 * without grace (SIGKILL of everything in it) through the Docker Engine API — watch Patroni fail over,
 * measure the time to a new leader (≈ ttl) and to writes through HAProxy, bring the old leader back (lab
 * up, or start its container) and confirm that it rejoins as a streaming replica.
 */

/** The container that runs a member, when the config names one. */
export function memberContainer(cluster: Pick<ClusterConfig, 'members'>, member: string | undefined): string | undefined {
  return member ? cluster.members?.[member]?.container : undefined;
}

function dockerEngine(cluster: ClusterConfig): DockerEngine {
  return new DockerEngine({ ...(cluster.docker?.socket ? { socket: cluster.docker.socket } : {}), timeoutMs: cluster.docker?.timeoutMs ?? 5000 }, 'docker');
}

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
  if (!context.cluster.lab && !memberContainer(context.cluster, snapshot.leader)) {
    blockers.push({
      code: 'not-a-lab',
      message: `the drill crashes the leader: it runs only on a pgcockpit lab or on members whose container the config names (cluster ${context.cluster.name} has no lab section${snapshot.leader ? ` and no members.${snapshot.leader}.container` : ''})`,
    });
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
  const container = context.cluster.lab ? undefined : memberContainer(context.cluster, snapshot.leader);
  if (container) {
    return {
      operation: 'drill',
      summary: `failover drill: crash the leader ${leader} (stop its container ${container} without grace), measure the failover, start it again`,
      checks: drillPreconditions(snapshot, params, context),
      requests: [
        { method: 'POST', url: `Docker API /containers/${container}/stop?t=0`, purpose: 'crash the leader: SIGKILL everything in its container' },
        { method: 'POST', url: `Docker API /containers/${container}/start`, purpose: `bring ${leader} back once another member leads` },
      ],
      verification: [
        'the leader key in etcd moves to another member (watch); time measured from the stop',
        'the new leader runs; a write through the HAProxy write port reaches it; time measured',
        `${leader}'s container runs again and ${leader} streams from the new leader`,
      ],
    };
  }
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
  if (!context.cluster.lab) return yield* runContainerDrill(context, snapshot, preflight, signal);
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

  const { newLeaderName, newLeader, leaderKeyAfterMs, newLeaderAfterMs, writesAfterMs } = yield* waitForNewLeader(context, snapshot, oldLeader.name, killedAt, signal);

  const restart = stepStarted(context, 'restart-old', `Bring ${oldLeader.name} back (lab up)`);
  yield restart;
  const restartAt = context.now();
  const lines: string[] = [];
  await labUp(topology.options, (line) => lines.push(line), signal);
  for (const line of lines) yield log(`lab: ${line}`);
  yield stepEnded(context, restart, 'done', `lab up restarted ${oldLeader.name}'s Patroni`);

  const rejoinAfterMs = yield* rejoinsAsReplica(context, newLeader, oldLeader, restartAt, signal);
  return drillResult(snapshot, oldLeader.name, newLeaderName, { leaderKeyAfterMs, newLeaderAfterMs, writesAfterMs, rejoinAfterMs });
}

/** The drill on a member that runs in a container: stop it without grace, then start it again. */
async function* runContainerDrill(
  context: OpsContext,
  snapshot: ClusterSnapshot,
  preflight: ReturnType<typeof stepStarted>,
  signal: AbortSignal,
): AsyncGenerator<OperationEvent, DrillResult> {
  const oldLeader = findMember(snapshot, snapshot.leader as string) as MemberView;
  const container = memberContainer(context.cluster, oldLeader.name) as string;
  const engine = dockerEngine(context.cluster);
  const before = await engine.state(container, { signal });
  if (!before.running) throw new PreconditionError([{ code: 'container-not-running', member: oldLeader.name, message: `${oldLeader.name}'s container ${container} is ${before.status}, not running` }]);
  yield stepEnded(context, preflight, 'done', `leader ${oldLeader.name} in container ${container} (${engine.label}); ttl ${snapshot.dcs.ttl ?? '?'} s`);

  signal.throwIfAborted();
  const kill = stepStarted(context, 'kill', `Crash ${oldLeader.name}: stop its container ${container} without grace`);
  yield kill;
  const killedAt = context.now();
  await engine.stop(container, 0, { signal });
  const stopped = await engine.state(container, { signal });
  yield stepEnded(context, kill, 'done', `${container} is ${stopped.status}${stopped.exitCode !== undefined ? ` (exit code ${stopped.exitCode})` : ''}`);

  const { newLeaderName, newLeader, leaderKeyAfterMs, newLeaderAfterMs, writesAfterMs } = yield* waitForNewLeader(context, snapshot, oldLeader.name, killedAt, signal);

  const restart = stepStarted(context, 'restart-old', `Bring ${oldLeader.name} back: start its container ${container}`);
  yield restart;
  const restartAt = context.now();
  await engine.start(container, { signal });
  const started = await engine.state(container, { signal });
  yield stepEnded(context, restart, 'done', `${container} is ${started.status}`);
  context.store.refresh();

  const rejoinAfterMs = yield* rejoinsAsReplica(context, newLeader, oldLeader, restartAt, signal);
  return drillResult(snapshot, oldLeader.name, newLeaderName, { leaderKeyAfterMs, newLeaderAfterMs, writesAfterMs, rejoinAfterMs });
}

/** The old leader, back, streams from the new one and answers as a replica; the time since its restart. */
async function* rejoinsAsReplica(context: OpsContext, newLeader: MemberView, oldLeader: MemberView, restartAt: number, signal: AbortSignal): AsyncGenerator<OperationEvent, number> {
  const rejoin = stepStarted(context, 'old-leader-streaming', `${oldLeader.name} rejoins as a streaming replica`);
  yield rejoin;
  const detail = await replicaStreamsFrom(context, newLeader, oldLeader.name, signal);
  await waitUntil(
    `${oldLeader.name} to answer as a replica`,
    async () => {
      const apiUrl = context.store.getSnapshot().members.find((m) => m.name === oldLeader.name)?.apiUrl ?? oldLeader.apiUrl;
      if (!apiUrl) return undefined;
      const status = await context.patroni.getMemberStatus(apiUrl, { signal, timeoutMs: 3000 });
      return status.role === 'replica' || status.role === 'sync_standby' ? true : undefined;
    },
    { signal, timeoutMs: context.timeouts.streamingMs, intervalMs: context.timeouts.pollIntervalMs },
  );
  const rejoinAfterMs = context.now() - restartAt;
  yield stepEnded(context, rejoin, 'done', detail);
  context.store.refresh();
  return rejoinAfterMs;
}

/** From the crash to a new leader that runs and takes writes through HAProxy; the steps as events. */
async function* waitForNewLeader(
  context: OpsContext,
  snapshot: ClusterSnapshot,
  oldLeader: string,
  killedAt: number,
  signal: AbortSignal,
): AsyncGenerator<OperationEvent, { newLeaderName: string; newLeader: MemberView; leaderKeyAfterMs: number; newLeaderAfterMs: number; writesAfterMs: number | undefined }> {
  const leaderStep = stepStarted(context, 'leader-key', 'Patroni elects a new leader');
  yield leaderStep;
  const newLeaderName = (await leaderKeyHeldBy(context, (h) => h !== undefined && h !== oldLeader, 'another member to take the leader key', signal, context.timeouts.failoverDetectMs)) as string;
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
  return { newLeaderName, newLeader, leaderKeyAfterMs, newLeaderAfterMs, writesAfterMs };
}

function drillResult(
  snapshot: ClusterSnapshot,
  oldLeader: string,
  newLeaderName: string,
  times: { leaderKeyAfterMs: number; newLeaderAfterMs: number; writesAfterMs: number | undefined; rejoinAfterMs: number },
): DrillResult {
  const ttl = snapshot.dcs.ttl;
  const { leaderKeyAfterMs, newLeaderAfterMs, writesAfterMs, rejoinAfterMs } = times;
  return {
    outcome: 'done',
    summary:
      `${newLeaderName} took over ${(newLeaderAfterMs / 1000).toFixed(1)} s after ${oldLeader} crashed (ttl ${ttl ?? '?'} s)` +
      `${writesAfterMs !== undefined ? `; writes through HAProxy after ${(writesAfterMs / 1000).toFixed(1)} s` : ''}; ${oldLeader} rejoined as a replica in ${(rejoinAfterMs / 1000).toFixed(1)} s`,
    details: {
      oldLeader,
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

