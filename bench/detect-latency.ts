/**
 * bench/detect-latency: over N switchovers on the lab, the time from the etcd leader-key change to the model
 * showing the new leader (p50, p95), beside the same measure for `patronictl list -W` on the same lab.
 *   node dist/bench/detect-latency.js [--runs 10] [--lab DIR] [--port-base 6000]
 * The reference clock is an independent etcd watch on the leader key: the moment the new holder's put arrives.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { loadConfig } from '../src/config/load.js';
import type { ClusterConfig } from '../src/config/schema.js';
import { LiveClusterStore } from '../src/model/live-store.js';
import { createServiceSources } from '../src/model/service-sources.js';
import { PatroniClient } from '../src/services/patroni.js';
import { probeLab } from '../src/lab/probe.js';
import { waitFor } from '../src/util/wait.js';
import { benchLab, summary } from './bench-lab.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, lab: { type: 'string' }, 'port-base': { type: 'string', default: '6000' } } });
const runs = Number(values.runs);
const { topology, done } = await benchLab({ ...(values.lab ? { dir: values.lab } : {}), portBase: Number(values['port-base']) });
const cluster = loadConfig(path.join(topology.options.dir, 'pgcockpit.yaml')).clusters[0] as ClusterConfig;

const leaderKey = `${cluster.namespace}/${cluster.scope}/leader`;
const etcd = new Etcd3({ hosts: cluster.etcd.endpoints });
const keyChanges: Array<{ holder: string; at: number }> = [];
const watcher = await etcd.watch().key(leaderKey).create();
watcher.on('put', (kv) => keyChanges.push({ holder: kv.value.toString(), at: performance.now() + performance.timeOrigin }));

const store = new LiveClusterStore({ cluster, sources: createServiceSources(cluster), pollIntervalMs: 2000 });
const modelSeen: Array<{ leader: string; at: number }> = [];
store.subscribe(() => {
  const leader = store.getSnapshot().leader;
  if (leader && modelSeen.at(-1)?.leader !== leader) modelSeen.push({ leader, at: performance.now() + performance.timeOrigin });
});
store.start();
await store.whenFirstComplete();

// patronictl list -W: its own refresh loop (every 2 s by default); we note when its output first shows the new leader.
const patronictlSeen: Array<{ leader: string; at: number }> = [];
const ctl = spawn('/usr/bin/patronictl', ['-c', path.join(topology.members[0]?.dir ?? '', 'patroni.yml'), 'list', '-W'], {
  env: { ...process.env, PATH: '/usr/bin:/bin', COLUMNS: '200' },
  stdio: ['ignore', 'pipe', 'ignore'],
});
let buffer = '';
ctl.stdout.on('data', (chunk: Buffer) => {
  buffer += chunk.toString();
  const matches = [...buffer.matchAll(/\|\s*(\w+)\s*\|[^|\n]*\|\s*Leader\s*\|/g)];
  const last = matches.at(-1)?.[1];
  if (last && patronictlSeen.at(-1)?.leader !== last) patronictlSeen.push({ leader: last, at: performance.now() + performance.timeOrigin });
  if (buffer.length > 100_000) buffer = buffer.slice(-10_000);
});

const patroni = PatroniClient.fromConfig(cluster.patroni);
const modelLatency: number[] = [];
const ctlLatency: number[] = [];
try {
  for (let run = 1; run <= runs; run++) {
    const readiness = await waitFor('a healthy lab', async () => {
      const r = await probeLab(topology);
      return r.ready ? r : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250 });
    const leader = readiness.leader as string;
    const candidate = topology.members.find((m) => m.name !== leader)?.name as string;
    const keyCount = keyChanges.length;
    await patroni.switchover({ leader, candidate }, { timeoutMs: 60_000 });
    const change = await waitFor('the leader key to move', () => keyChanges.slice(keyCount).find((k) => k.holder === candidate), { timeoutMs: 60_000, intervalMs: 5 });
    const model = await waitFor('the model to show it', () => modelSeen.find((s) => s.leader === candidate && s.at >= change.at - 1000), { timeoutMs: 60_000, intervalMs: 5 });
    const ctlSeen = await waitFor('patronictl -W to show it', () => patronictlSeen.find((s) => s.leader === candidate && s.at >= change.at - 1000), { timeoutMs: 60_000, intervalMs: 5 });
    modelLatency.push(Math.max(0, model.at - change.at));
    ctlLatency.push(Math.max(0, ctlSeen.at - change.at));
    console.log(`switchover ${run}: ${leader} → ${candidate}: model +${(model.at - change.at).toFixed(0)} ms, patronictl list -W +${(ctlSeen.at - change.at).toFixed(0)} ms`);
    // Leave the modelSeen/patronictlSeen lists bounded.
    modelSeen.splice(0, Math.max(0, modelSeen.length - 4));
    patronictlSeen.splice(0, Math.max(0, patronictlSeen.length - 4));
  }
  console.log('');
  console.log(summary('pgcockpit model (etcd watch)', modelLatency));
  console.log(summary('patronictl list -W', ctlLatency));
} finally {
  ctl.kill('SIGTERM');
  await watcher.cancel();
  etcd.close();
  await patroni.close();
  await store.stop();
  await done();
}
