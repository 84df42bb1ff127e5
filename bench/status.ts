/**
 * bench/status: wall time of `pgcockpit status` and `pgcockpit status --json` beside `patronictl list` on the
 * same lab, each run N times in turn (so the lab's load is the same for all three).
 *   node dist/bench/status.js [--runs 10] [--lab DIR] [--port-base 6000]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/util/package-root.js';
import { benchLab, summary } from './bench-lab.js';

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
const times = new Map<string, number[]>(commands.map((c) => [c.label, []]));
try {
  for (let run = 0; run < runs + 1; run++) {
    for (const c of commands) {
      const started = performance.now();
      const result = spawnSync(c.argv[0] as string, c.argv.slice(1), { env: c.env ?? process.env, encoding: 'utf8' });
      const elapsed = performance.now() - started;
      if (result.status !== 0) throw new Error(`${c.label} exited ${result.status}: ${result.stderr}`);
      if (run > 0) times.get(c.label)?.push(elapsed); // the first round warms caches
    }
  }
  for (const c of commands) console.log(summary(c.label, times.get(c.label) ?? []));
} finally {
  await done();
}
