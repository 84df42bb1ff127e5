/**
 * bench/startup: time from launching `pgcockpit` in a terminal (tmux) to its first complete frame — the
 * header names the leader and the members table shows every member — over several runs; beside it, the
 * wall time of `patronictl list` on the same lab. Goal: ≤ 500 ms.
 * The screen is polled with `tmux capture-pane` every ~10 ms (each poll is itself a process, so the
 * figures include up to one poll of delay).
 * It measures what bin/pgcockpit.js runs: the bundle (dist/bundle/) after `npm run build`, tsc's dist/src/ after a
 * bare `tsc` (the first line printed says which). Each run also writes the cockpit's start-up trace
 * (PGCOCKPIT_TRACE_STARTUP: ms since the process started at each phase); the medians of the phases are printed.
 *   npm run build && node dist/bench/startup.js [--runs 7] [--lab DIR] [--port-base 8000]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/util/package-root.js';
import { killAllTmux, TmuxSession } from '../test/support/tmux.js';
import { benchLab, launcherFlags, summary } from './bench-lab.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, lab: { type: 'string' }, 'port-base': { type: 'string', default: '8000' } },
});
const runs = Number(values.runs);
const { topology, done } = await benchLab({ ...(values.lab ? { dir: values.lab } : {}), portBase: Number(values['port-base']) });
const labDir = topology.options.dir;
const bin = path.join(packageRoot(), 'bin', 'pgcockpit.js');
const members = topology.members.map((m) => m.name);

/** What bin/pgcockpit.js will run (its own rule): the bundle when it is not older than tsc's output. */
function entryOfBin(): string {
  const mtime = (file: string) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : undefined);
  const bundle = mtime(path.join(packageRoot(), 'dist', 'bundle', 'main.js'));
  const compiled = mtime(path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js'));
  const wanted = process.env.NODE_ENV !== 'development' && process.env.PGCOCKPIT_NO_BUNDLE !== '1';
  return wanted && bundle !== undefined && (compiled === undefined || bundle >= compiled) ? 'the bundle (dist/bundle/)' : "tsc's output (dist/src/; `npm run build` bundles)";
}

/** Every member has a row in the table: its marker (★ ✓ ▲ ✗ ·) and name at the start of a line. */
function complete(screen: string): boolean {
  if (!/leader ★ \S+/.test(screen)) return false;
  return members.every((name) => new RegExp(`^.?[★✓▲✗·] ${name}\\s`, 'm').test(screen));
}

const entryAtStart = entryOfBin();
const frames: number[] = [];
const patronictl: number[] = [];
/** Per phase of the start-up trace, its time (ms since the process started) in each run. */
const phases = new Map<string, number[]>();
const traceFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-startup-')), 'trace.txt');
const PHASES = ['main', 'config read', 'config parsed', 'config loaded, store started', 'cockpit loaded', 'read patroni', 'patroni read', 'render', 'first frame with patroni'];
try {
  for (let run = 0; run < runs + 1; run += 1) {
    fs.rmSync(traceFile, { force: true });
    const started = performance.now();
    const session = await TmuxSession.start({
      columns: 120,
      rows: 40,
      command: [process.execPath, ...launcherFlags(bin), bin, '--config', path.join(labDir, 'pgcockpit.yaml')],
      env: { PGCOCKPIT_TRACE_STARTUP: traceFile },
    });
    await session.waitFor(complete, { timeoutMs: 30_000, intervalMs: 10 });
    const elapsed = performance.now() - started;
    await session.kill();
    const before = performance.now();
    const result = spawnSync('/usr/bin/patronictl', ['-c', path.join(topology.members[0]?.dir ?? '', 'patroni.yml'), 'list'], {
      env: { ...process.env, PATH: '/usr/bin:/bin' },
      encoding: 'utf8',
    });
    const patronictlMs = performance.now() - before;
    if (result.status !== 0) throw new Error(`patronictl list exited ${result.status}: ${result.stderr}`);
    if (run === 0) continue; // the first round warms the page cache and the lab's connections
    frames.push(elapsed);
    patronictl.push(patronictlMs);
    for (const line of fs.existsSync(traceFile) ? fs.readFileSync(traceFile, 'utf8').split('\n') : []) {
      const match = /^([\d.]+) (.+)$/.exec(line);
      if (!match || !PHASES.includes(match[2] as string) || phases.get(match[2] as string)?.length === frames.length) continue;
      phases.set(match[2] as string, [...(phases.get(match[2] as string) ?? []), Number(match[1])]);
    }
  }
  console.log(`startup bench: ${runs} runs, 120×40 terminal, lab ${labDir}, Node ${process.version} ${launcherFlags(bin).join(' ')}, bin runs ${entryAtStart}`);
  if (entryOfBin() !== entryAtStart) console.log(`  (dist/ was rebuilt during the runs: bin now runs ${entryOfBin()}; the figures mix both)`);
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
  console.log(summary('pgcockpit: launch → first complete frame', frames));
  console.log(summary('patronictl list (wall)', patronictl));
  console.log('start-up phases (median ms since the process started; the trace of each run):');
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  for (const phase of PHASES) {
    const values = phases.get(phase);
    if (values?.length) console.log(`  ${median(values).toFixed(0).padStart(5)} ms  ${phase}`);
  }
  const p50 = [...frames].sort((a, b) => a - b)[Math.floor(frames.length / 2)] ?? NaN;
  console.log(`goal ≤ 500 ms (median): ${p50 <= 500 ? 'met' : 'NOT met'}`);
  process.exitCode = p50 <= 500 ? 0 : 1;
} finally {
  await killAllTmux();
  await done();
}
