import fs from 'node:fs';
import path from 'node:path';
import type { ClusterConfig } from '../../src/config/schema.js';
import { labUp, postmasterPid } from '../../src/lab/lab.js';
import { readLabState } from '../../src/lab/lab-state.js';
import { getJson, probeLab } from '../../src/lab/probe.js';
import { isOurProcessAlive, stopProcess } from '../../src/lab/processes.js';
import type { LabTopology } from '../../src/lab/topology.js';
import { EtcdAdapter } from '../../src/services/etcd.js';
import { waitFor } from '../../src/util/wait.js';
import { labQuery } from './lab.js';

/**
 * Ways to break the shared test lab on purpose, and to mend it: every test that uses one restores the lab
 * with `restoreLab` (or the matching undo) before it ends, so the next suite starts healthy.
 */

export function labRecord(topology: LabTopology, name: string) {
  const record = readLabState(topology.paths.stateFile)?.processes[name];
  if (!record) throw new Error(`no recorded process ${name} in ${topology.paths.stateFile}`);
  return record;
}

/** Stop one member's Patroni (it stops its PostgreSQL): the member is gone until restoreLab. */
export async function stopMember(topology: LabTopology, name: string): Promise<void> {
  const record = labRecord(topology, name);
  await stopProcess(record.pid, record.marker, 60_000);
}

/** Freeze (SIGSTOP) or thaw (SIGCONT) an etcd member: it stops answering without losing anything. */
export function freezeEtcd(topology: LabTopology, name: string, frozen: boolean): void {
  const record = labRecord(topology, name);
  process.kill(record.pid, frozen ? 'SIGSTOP' : 'SIGCONT');
}

/** Wait until the lab is healthy: a leader, every replica streaming per the leader, HAProxy routing right. */
export async function waitHealthy(topology: LabTopology, timeoutMs = 120_000): Promise<string> {
  let problems = '';
  const readiness = await waitFor(
    'the lab to be healthy again',
    async () => {
      const r = await probeLab(topology);
      problems = r.problems.join('; ');
      return r.ready ? r : undefined;
    },
    { timeoutMs, intervalMs: 250, describeFailure: () => problems },
  );
  return readiness.leader as string;
}

/**
 * Mend the lab whatever a test left behind (also a test that timed out half-way): etcd members thawed,
 * every lab process running, automatic failover on (not paused), no scheduled switchover, WAL replay
 * resumed on every replica; then wait until healthy. Costs one probe when the lab is already healthy.
 */
export async function mendLab(topology: LabTopology, timeoutMs = 180_000): Promise<string> {
  const state = readLabState(topology.paths.stateFile);
  for (const record of Object.values(state?.processes ?? {})) {
    if (record.kind === 'etcd' && isOurProcessAlive(record.pid, record.marker)) {
      try {
        process.kill(record.pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
  }
  const missing = Object.values(state?.processes ?? {}).some((record) => !isOurProcessAlive(record.pid, record.marker));
  if (!state || missing) await labUp(topology.options, () => undefined);
  await waitFor(
    'automatic failover on and no scheduled switchover',
    async () => {
      for (const m of topology.members) {
        const base = `http://${topology.host}:${m.restPort}`;
        const cluster = (await getJson(`${base}/cluster`)) as { pause?: boolean; scheduled_switchover?: unknown } | undefined;
        if (!cluster) continue;
        if (cluster.pause) await fetch(`${base}/config`, { method: 'PATCH', body: JSON.stringify({ pause: false }), signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        if (cluster.scheduled_switchover) await fetch(`${base}/switchover`, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        return cluster.pause || cluster.scheduled_switchover ? undefined : true;
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
  const leader = await waitHealthy(topology, timeoutMs);
  for (const m of topology.members.filter((x) => x.name !== leader)) {
    const [row] = await labQuery<{ paused: boolean }>(topology, m.pgPort, 'SELECT pg_is_in_recovery() AND pg_is_wal_replay_paused() AS paused').catch(() => []);
    if (row?.paused) await labQuery(topology, m.pgPort, 'SELECT pg_wal_replay_resume()');
  }
  return leader;
}

/** Start whatever lab process is missing (thawing frozen etcd members first) and wait until healthy. */
export async function restoreLab(topology: LabTopology): Promise<string> {
  await labUp(topology.options, () => undefined);
  return mendLab(topology);
}

/**
 * Kill -9 the leader's Patroni and its postmaster at once. Just before, read the leader key's lease from
 * etcd: the real expiry is then `readAt + ttl`.
 */
export async function killLeader(
  topology: LabTopology,
  cluster: ClusterConfig,
): Promise<{ leader: string; killedAt: number; leaseExpiresAt: number; ttlSeconds: number }> {
  const leader = await labLeader(topology);
  const etcd = EtcdAdapter.fromConfig(cluster.etcd);
  try {
    const view = await etcd.readPatroniKeys(cluster.namespace, cluster.scope);
    const readAt = Date.now();
    const ttlSeconds = view.leader?.leaseTtlSeconds;
    if (view.leader?.holder !== leader.name || ttlSeconds === undefined) throw new Error(`the leader key does not name ${leader.name} with a lease`);
    const record = labRecord(topology, leader.name);
    const postmaster = postmasterPid(leader);
    const killedAt = Date.now();
    process.kill(record.pid, 'SIGKILL');
    if (postmaster) process.kill(postmaster, 'SIGKILL');
    return { leader: leader.name, killedAt, leaseExpiresAt: readAt + ttlSeconds * 1000, ttlSeconds };
  } finally {
    etcd.close();
  }
}

/** What a log file holds past `offset`. */
function readFrom(file: string, offset: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    fs.readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Maintenance mode on or off (PATCH /config through one member's REST API), once that member's API reports it. */
export async function setClusterPause(topology: LabTopology, restPort: number, pause: boolean): Promise<void> {
  const base = `http://${topology.host}:${restPort}`;
  const response = await fetch(`${base}/config`, { method: 'PATCH', body: JSON.stringify({ pause }), signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`PATCH ${base}/config pause=${pause}: HTTP ${response.status} ${await response.text()}`);
  await waitFor(
    `${base}/patroni to report pause=${pause}`,
    async () => {
      const status = (await getJson(`${base}/patroni`, 5000)) as { pause?: boolean } | undefined;
      return status && (status.pause === true) === pause ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/**
 * Pause WAL replay on a replica so that it stays paused. Patroni (3.0 on PostgreSQL 14+) resumes a paused
 * replay at its next HA loop (every loop_wait) unless the cluster is in maintenance mode, so: maintenance
 * mode first (through the replica's own REST API, which wakes its HA loop), then the pause once a loop has
 * run in maintenance mode (the replica's log says "PAUSE: …"), so that no loop that saw the cluster
 * unpaused is still running. Returns the undo: replay resumed (while still a replica), maintenance mode off.
 */
export async function pauseReplay(topology: LabTopology, member: string): Promise<() => Promise<void>> {
  const spec = topology.members.find((m) => m.name === member);
  if (!spec) throw new Error(`${member} is not a lab member`);
  const logOffset = fs.statSync(spec.logFile).size;
  await setClusterPause(topology, spec.restPort, true);
  const undo = async () => {
    await labQuery(topology, spec.pgPort, 'SELECT pg_wal_replay_resume() WHERE pg_is_in_recovery()');
    await setClusterPause(topology, spec.restPort, false);
  };
  try {
    await waitFor(
      `${member}'s Patroni to run an HA loop in maintenance mode`,
      async () => (readFrom(spec.logFile, logOffset).includes('PAUSE: ') ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    await labQuery(topology, spec.pgPort, 'SELECT pg_wal_replay_pause()');
  } catch (error) {
    await undo();
    throw error;
  }
  return undo;
}

/** The leader's member spec, per Patroni. */
export async function labLeader(topology: LabTopology) {
  const leader = await waitHealthy(topology);
  const spec = topology.members.find((m) => m.name === leader);
  if (!spec) throw new Error(`leader ${leader} is not a lab member`);
  return spec;
}

export function patronictl(topology: LabTopology): { command: string; config: string } {
  return { command: '/usr/bin/patronictl', config: path.join(topology.members[0]?.dir ?? '', 'patroni.yml') };
}

export function fileExists(file: string): boolean {
  return fs.existsSync(file);
}
