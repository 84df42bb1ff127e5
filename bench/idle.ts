/**
 * bench/idle: what the cockpit costs while it just watches. The real `pgcockpit` runs in a tmux terminal
 * against a lab under `lab load` (50 commits/s); beside it, at the same time and on the same lab,
 * `patronictl list -W` (which redraws every 2 s). Both are measured the same way: CPU (utime+stime from
 * /proc/PID/stat) over the window as % of one core, RSS (VmRSS from /proc/PID/status) sampled every
 * second, and bytes written to the terminal (wchar from /proc/PID/io). Goal: ≤ 1.5% of one core and
 * ≤ 120 MB RSS for the cockpit.
 *   npx tsc -p tsconfig.json && node dist/bench/idle.js [--seconds 60] [--lab DIR] [--port-base 5000] [--node-flags=--max-semi-space-size=1]
 * (--port-base: a fresh lab's; lab ports must stay below the ephemeral range, so below 17335. --node-flags: V8/Node
 * flags for the cockpit's process, to measure their effect.)
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/util/package-root.js';
import { killAllTmux, TmuxSession } from '../test/support/tmux.js';
import { benchLab, launcherFlags } from './bench-lab.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    lab: { type: 'string' },
    'port-base': { type: 'string', default: '5000' },
    'node-flags': { type: 'string', default: '' },
    columns: { type: 'string', default: '160' },
    rows: { type: 'string', default: '50' },
  },
});
const seconds = Number(values.seconds);
const size = { columns: Number(values.columns), rows: Number(values.rows) };
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface ProcSample {
  cpuSeconds: number;
  rssMb: number;
  writtenBytes: number;
}

function sample(pid: number): ProcSample {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
  const writtenBytes = Number(/^wchar:\s+(\d+)/m.exec(io)?.[1] ?? NaN);
  return { cpuSeconds, rssMb: rssKb / 1024, writtenBytes };
}

interface Measured {
  label: string;
  cpuPercent: number;
  rssMeanMb: number;
  rssMaxMb: number;
  rssFirstMb: number;
  rssLastMb: number;
  writtenKbPerSecond: number;
}

/** Sample pids side by side over the same window. */
async function measure(targets: Array<{ label: string; pid: number }>, windowSeconds: number): Promise<Measured[]> {
  const first = targets.map((t) => sample(t.pid));
  const rss = targets.map(() => [] as number[]);
  const started = performance.now();
  while (performance.now() - started < windowSeconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    targets.forEach((t, i) => rss[i]?.push(sample(t.pid).rssMb));
  }
  const elapsed = (performance.now() - started) / 1000;
  return targets.map((t, i) => {
    const last = sample(t.pid);
    const start = first[i] as ProcSample;
    const r = rss[i] as number[];
    return {
      label: t.label,
      cpuPercent: ((last.cpuSeconds - start.cpuSeconds) / elapsed) * 100,
      rssMeanMb: r.reduce((a, b) => a + b, 0) / r.length,
      rssMaxMb: Math.max(...r),
      rssFirstMb: start.rssMb,
      rssLastMb: last.rssMb,
      writtenKbPerSecond: (last.writtenBytes - start.writtenBytes) / 1024 / elapsed,
    };
  });
}

const { topology, done } = await benchLab({ ...(values.lab ? { dir: values.lab } : {}), portBase: Number(values['port-base']) });
const labDir = topology.options.dir;
const bin = path.join(packageRoot(), 'bin', 'pgcockpit.js');
const patroniYml = path.join(topology.members[0]?.dir ?? '', 'patroni.yml');
/** The Node flags on bin/pgcockpit.js's shebang line (`#!/usr/bin/env -S node <flags>`). */
const load = spawn(process.execPath, [bin, 'lab', 'load', '--dir', labDir, '--rate', '50'], { stdio: 'ignore' });
try {
  // By default the flags bin/pgcockpit.js's shebang gives Node (how the installed `pgcockpit` starts).
  const nodeFlags = values['node-flags'] ? values['node-flags'].split(/\s+/).filter(Boolean) : launcherFlags(bin);
  const cockpit = await TmuxSession.start({ ...size, command: [process.execPath, ...nodeFlags, bin, '--config', path.join(labDir, 'pgcockpit.yaml')] });
  const patronictl = await TmuxSession.start({
    ...size,
    command: ['/usr/bin/patronictl', '-c', patroniYml, 'list', '-W'],
    env: { PATH: '/usr/bin:/bin' },
  });
  await cockpit.waitFor(/leader ★ \S+/, { timeoutMs: 30_000 });
  await patronictl.waitFor(/\| Leader /, { timeoutMs: 30_000 });
  // Let both settle (startup, first reads, the JIT) before the window opens.
  await cockpit.waitFor((s) => /streaming/.test(s), { timeoutMs: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const targets = [
    { label: 'pgcockpit (cockpit)', pid: await cockpit.panePid() },
    { label: 'patronictl list -W', pid: await patronictl.panePid() },
  ];
  const loadBefore = os.loadavg();
  const results = await measure(targets, seconds);
  const loadAfter = os.loadavg();
  const screen = await cockpit.screen();
  console.log(
    `idle bench: ${seconds} s, ${size.columns}×${size.rows} terminal, lab ${labDir} under lab load (50 commits/s), Node ${process.version}${nodeFlags.length ? ` ${nodeFlags.join(' ')}` : ''}`,
  );
  console.log(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
  for (const r of results) {
    console.log(
      `${r.label.padEnd(22)} CPU ${r.cpuPercent.toFixed(2).padStart(5)}% of one core   RSS mean ${r.rssMeanMb.toFixed(1)} MB  max ${r.rssMaxMb.toFixed(1)} MB  (${r.rssFirstMb.toFixed(1)} → ${r.rssLastMb.toFixed(1)})   terminal output ${r.writtenKbPerSecond.toFixed(1)} kB/s`,
    );
  }
  const ours = results[0] as Measured;
  const verdict = ours.cpuPercent <= 1.5 && ours.rssMaxMb <= 120 ? 'within the goal' : 'OVER the goal';
  console.log(`goal ≤ 1.5% of one core and ≤ 120 MB RSS: ${verdict}`);
  if (!/leader ★/.test(screen)) console.log(`(the cockpit's screen at the end did not show a leader:\n${screen})`);
  process.exitCode = verdict === 'within the goal' ? 0 : 1;
} finally {
  load.kill('SIGINT');
  await killAllTmux();
  await done();
}
