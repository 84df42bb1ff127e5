/**
 * bench/status: wall time of `pgcockpit status` and `pgcockpit status --json` beside `patronictl list` on the
 * same lab, each run N times in turn (so the lab's load is the same for all three).
 *   node dist/bench/status.js [--runs 10] [--lab DIR] [--port-base 6000]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/util/package-root.js';
import { benchLab, percentile, summary } from './bench-lab.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, lab: { type: 'string' }, 'port-base': { type: 'string', default: '6000' } } });
const runs = Number(values.runs);
const { topology, done } = await benchLab({ ...(values.lab ? { dir: values.lab } : {}), portBase: Number(values['port-base']) });
const config = path.join(topology.options.dir, 'pgcockpit.yaml');
const bin = path.join(packageRoot(), 'bin', 'pgcockpit.js');

const commands: Array<{ label: string; argv: string[]; env?: NodeJS.ProcessEnv }> = [
  { label: 'pgcockpit status', argv: [process.execPath, bin, 'status', '--config', config] },
  { label: 'pgcockpit status --json', argv: [process.execPath, bin, 'status', '--json', '--config', config] },
  {
    label: 'patronictl list',
    argv: ['/usr/bin/patronictl', '-c', path.join(topology.members[0]?.dir ?? '', 'patroni.yml'), 'list'],
    env: { ...process.env, PATH: '/usr/bin:/bin' },
  },
];
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** CPU seconds of this process's reaped children (cutime + cstime): a command's own CPU and its children's (Barman's Python). */
function childrenCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) / CLK_TCK) * 1000;
}
const times = new Map<string, number[]>(commands.map((c) => [c.label, []]));
const cpu = new Map<string, number[]>(commands.map((c) => [c.label, []]));
const loadBefore = os.loadavg();
try {
  for (let run = 0; run < runs + 1; run++) {
    for (const c of commands) {
      const cpuBefore = childrenCpuMs();
      const started = performance.now();
      const result = spawnSync(c.argv[0] as string, c.argv.slice(1), { env: c.env ?? process.env, encoding: 'utf8' });
      const elapsed = performance.now() - started;
      const cpuMs = childrenCpuMs() - cpuBefore;
      if (result.status !== 0) throw new Error(`${c.label} exited ${result.status}: ${result.stderr}`);
      if (run > 0) {
        // the first round warms caches
        times.get(c.label)?.push(elapsed);
        cpu.get(c.label)?.push(cpuMs);
      }
    }
  }
  const loadAfter = os.loadavg();
  console.log(`status bench: ${runs} rounds (each command once per round, in turn), lab ${topology.options.dir}, Node ${process.version}`);
  console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
  for (const c of commands) console.log(summary(`${c.label} (wall)`, times.get(c.label) ?? []));
  // CPU time (the command and its children, e.g. Barman's Python) is what a loaded machine stretches least.
  for (const c of commands) console.log(summary(`${c.label} (CPU, with children)`, cpu.get(c.label) ?? []));
  const p50 = (label: string, from: Map<string, number[]>) => percentile(from.get(label) ?? [], 50);
  for (const label of ['pgcockpit status', 'pgcockpit status --json']) {
    const verdict = p50(label, times) < p50('patronictl list', times) ? 'faster' : 'NOT faster';
    console.log(`${label}: median wall ${p50(label, times).toFixed(0)} ms vs patronictl list ${p50('patronictl list', times).toFixed(0)} ms → ${verdict}`);
  }
} finally {
  await done();
}
