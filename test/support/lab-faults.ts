import fs from 'node:fs';
import path from 'node:path';
import { labUp } from '../../src/lab/lab.js';
import { readLabState } from '../../src/lab/lab-state.js';
import { probeLab } from '../../src/lab/probe.js';
import { isOurProcessAlive, stopProcess } from '../../src/lab/processes.js';
import type { LabTopology } from '../../src/lab/topology.js';
import { waitFor } from '../../src/util/wait.js';

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

/** Start whatever lab process is missing (thawing frozen etcd members first) and wait until healthy. */
export async function restoreLab(topology: LabTopology): Promise<string> {
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
  await labUp(topology.options, () => undefined);
  return waitHealthy(topology);
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
