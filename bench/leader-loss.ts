/**
 * bench/leader-loss: over N kills of the leader (kill -9 of its Patroni and its postmaster), the time from the
 * kill to the cockpit's "leader unreachable" flag (p50, p95), beside the time until `patronictl list` stops
 * showing the dead member as Leader (polled in a loop, as an operator re-running it would).
 *   node dist/bench/leader-loss.js [--runs 5] [--lab DIR] [--port-base 7000]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import type { ClusterConfig } from '../src/config/schema.js';
import { labUp, postmasterPid } from '../src/lab/lab.js';
import { readLabState } from '../src/lab/lab-state.js';
import { probeLab } from '../src/lab/probe.js';
import { LiveClusterStore } from '../src/model/live-store.js';
import { createServiceSources } from '../src/model/service-sources.js';
import { waitFor } from '../src/util/wait.js';
import { benchLab, summary } from './bench-lab.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, lab: { type: 'string' }, 'port-base': { type: 'string', default: '7000' } } });
const runs = Number(values.runs);
const { topology, done } = await benchLab({ ...(values.lab ? { dir: values.lab } : {}), portBase: Number(values['port-base']) });
const cluster = loadConfig(path.join(topology.options.dir, 'pgcockpit.yaml')).clusters[0] as ClusterConfig;
const store = new LiveClusterStore({ cluster, sources: createServiceSources(cluster), pollIntervalMs: 2000 });
store.start();
await store.whenFirstComplete();

/** The member `patronictl list` shows as Leader (undefined when none). */
function patronictlLeader(): string | undefined {
  const result = spawnSync('/usr/bin/patronictl', ['-c', path.join(topology.members[0]?.dir ?? '', 'patroni.yml'), 'list', '-f', 'json'], {
    env: { ...process.env, PATH: '/usr/bin:/bin' },
    encoding: 'utf8',
  });
  try {
    return (JSON.parse(result.stdout) as Array<{ Member: string; Role: string }>).find((m) => m.Role === 'Leader')?.Member;
  } catch {
    return undefined;
  }
}

const flagMs: number[] = [];
const ctlMs: number[] = [];
try {
  for (let run = 1; run <= runs; run++) {
    const ready = await waitFor('a healthy lab', async () => {
      const r = await probeLab(topology);
      return r.ready ? r : undefined;
    }, { timeoutMs: 180_000, intervalMs: 250 });
    await waitFor('no incident in the model', () => (store.getSnapshot().incident === undefined || store.getSnapshot().incident?.phase === 'recovered' ? true : undefined), {
      timeoutMs: 180_000,
      intervalMs: 100,
    });
    const leader = topology.members.find((m) => m.name === ready.leader);
    const record = leader ? readLabState(topology.paths.stateFile)?.processes[leader.name] : undefined;
    if (!leader || !record) throw new Error('no leader to kill');
    const eventsBefore = store.getEvents().length;
    const pm = postmasterPid(leader);
    const killedAt = Date.now();
    process.kill(record.pid, 'SIGKILL');
    if (pm) process.kill(pm, 'SIGKILL');
    const flag = await waitFor(
      'the cockpit to flag the leader',
      () => store.getEvents().slice(eventsBefore).find((e) => e.kind === 'incident' && e.message.startsWith(`leader ${leader.name} unreachable`)),
      { timeoutMs: 60_000, intervalMs: 10 },
    );
    const ctlGone = await waitFor('patronictl list to stop showing it as Leader', () => (patronictlLeader() !== leader.name ? Date.now() : undefined), {
      timeoutMs: 120_000,
      intervalMs: 0,
    });
    flagMs.push(flag.at - killedAt);
    ctlMs.push(ctlGone - killedAt);
    console.log(`kill ${run}: ${leader.name}: cockpit flag +${flag.at - killedAt} ms; patronictl list stops showing it as Leader +${ctlGone - killedAt} ms`);
    await labUp(topology.options, () => undefined); // the old leader's Patroni back; it rejoins
  }
  console.log('');
  console.log(summary('cockpit: kill → leader flagged unreachable', flagMs));
  console.log(summary('patronictl list: kill → dead member not Leader', ctlMs));
} finally {
  await store.stop();
  await done();
}
