/**
 * bench/leader-loss: over N kills of the leader (kill -9 of its Patroni and its postmaster), the time from the
 * kill to the cockpit's "leader unreachable" flag — on the screen of the real `pgcockpit` running in a tmux
 * terminal (80×24), and as the model's event (an in-process store on the same config) — beside the time
 * until `patronictl list` stops showing the dead member as Leader (re-run in a loop, as an operator would).
 * Between kills the old leader is started again and the lab waited on until healthy.
 * The screen is polled with `tmux capture-pane` every ~20 ms and `patronictl list` is re-run as soon as it
 * returns (each is a process, so the figures include up to one poll of delay).
 *   npx tsc -p tsconfig.json && node dist/bench/leader-loss.js [--runs 5] [--lab DIR] [--port-base 7000]
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import type { ClusterConfig } from '../src/config/schema.js';
import { labUp, postmasterPid } from '../src/lab/lab.js';
import { readLabState } from '../src/lab/lab-state.js';
import { probeLab } from '../src/lab/probe.js';
import { LiveClusterStore } from '../src/model/live-store.js';
import { createServiceSources } from '../src/model/service-sources.js';
import { packageRoot } from '../src/util/package-root.js';
import { waitFor } from '../src/util/wait.js';
import { killAllTmux, TmuxSession } from '../test/support/tmux.js';
import { benchLab, summary } from './bench-lab.js';

const run = promisify(execFile);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, lab: { type: 'string' }, 'port-base': { type: 'string', default: '7000' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number ≥ 1, got "${values.runs}"`);
const { topology, done } = await benchLab({ ...(values.lab ? { dir: values.lab } : {}), portBase: Number(values['port-base']) });
const configFile = path.join(topology.options.dir, 'pgcockpit.yaml');
const config = loadConfig(configFile);
const cluster = config.clusters[0] as ClusterConfig;
const bin = path.join(packageRoot(), 'bin', 'pgcockpit.js');
const patronictlConfig = path.join(topology.members[0]?.dir ?? '', 'patroni.yml');

/** The member `patronictl list` shows as Leader (undefined when none, or when it fails). */
async function patronictlLeader(): Promise<string | undefined> {
  try {
    const { stdout } = await run('/usr/bin/patronictl', ['-c', patronictlConfig, 'list', '-f', 'json'], { env: { ...process.env, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
    return (JSON.parse(stdout) as Array<{ Member: string; Role: string }>).find((m) => m.Role === 'Leader')?.Member;
  } catch {
    return undefined;
  }
}

async function healthyLab(): Promise<string> {
  const ready = await waitFor(
    'a healthy lab',
    async () => {
      const r = await probeLab(topology);
      return r.ready ? r : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 250 },
  );
  return ready.leader as string;
}

const loadBefore = os.loadavg();
// The model on its own (the cockpit's intervals, no event log: the cockpit in tmux writes that one).
const store = new LiveClusterStore({ cluster, sources: createServiceSources(cluster), pollIntervalMs: config.pollIntervalMs, leaderProbeIntervalMs: config.leaderProbeIntervalMs });
store.start();
await store.whenFirstComplete();
const screenMs: number[] = [];
const modelMs: number[] = [];
const ctlMs: number[] = [];
try {
  const session = await TmuxSession.start({ columns: 80, rows: 24, command: [process.execPath, bin, '--config', configFile] });
  for (let kill = 1; kill <= runs; kill++) {
    const leaderName = await healthyLab();
    // The cockpit follows the healthy cluster, and the previous incident (if any) is over.
    await session.waitFor((s) => s.includes(`leader ★ ${leaderName}`) && (!s.includes('◆') || s.includes('◆ INCIDENT OVER')), { timeoutMs: 120_000 });
    await waitFor('the model to follow the healthy cluster', () => (store.getSnapshot().leader === leaderName && (store.getSnapshot().incident?.phase ?? 'recovered') === 'recovered' ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 50,
    });
    const leader = topology.members.find((m) => m.name === leaderName);
    const record = readLabState(topology.paths.stateFile)?.processes[leaderName];
    if (!leader || !record) throw new Error(`no lab process for the leader ${leaderName}`);
    const eventsBefore = store.getEvents().length;
    const postmaster = postmasterPid(leader);
    const killedAt = Date.now();
    process.kill(record.pid, 'SIGKILL');
    if (postmaster) process.kill(postmaster, 'SIGKILL');
    const flaggedOnScreen = session.waitFor(`◆ LEADER LOST ${leaderName} unreachable`, { timeoutMs: 60_000, intervalMs: 20 }).then(() => Date.now());
    const flaggedInModel = waitFor(
      'the model to flag the leader',
      () => store.getEvents().slice(eventsBefore).find((e) => e.kind === 'incident' && e.message.startsWith(`leader ${leaderName} unreachable`))?.at,
      { timeoutMs: 60_000, intervalMs: 10 },
    );
    const ctlGone = (async () => {
      for (;;) {
        if ((await patronictlLeader()) !== leaderName) return Date.now();
        if (Date.now() - killedAt > 120_000) throw new Error(`patronictl list still shows ${leaderName} as Leader 120 s after the kill`);
      }
    })();
    const [screenAt, modelAt, ctlAt] = await Promise.all([flaggedOnScreen, flaggedInModel, ctlGone]);
    screenMs.push(screenAt - killedAt);
    modelMs.push(modelAt - killedAt);
    ctlMs.push(ctlAt - killedAt);
    console.log(
      `kill ${kill}: ${leaderName}: cockpit screen flags it +${screenAt - killedAt} ms (model event +${modelAt - killedAt} ms); ` +
        `patronictl list stops showing it as Leader +${ctlAt - killedAt} ms`,
    );
    await labUp(topology.options, () => undefined); // the old leader's Patroni back; it rejoins
  }
  await healthyLab();
  console.log('');
  console.log(`leader-loss bench: ${runs} kills, lab ${topology.options.dir}, leader probe every ${config.leaderProbeIntervalMs} ms, Node ${process.version}`);
  console.log(`load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} after, on ${os.cpus().length} CPUs`);
  console.log(summary('cockpit screen: kill → leader flagged', screenMs));
  console.log(summary('cockpit model: kill → flag event', modelMs));
  console.log(summary('patronictl list: kill → dead one not Leader', ctlMs));
} finally {
  await killAllTmux();
  await store.stop();
  await done();
}
