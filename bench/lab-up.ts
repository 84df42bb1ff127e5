/**
 * bench/lab-up: time from a clean directory to a ready lab (leader, replicas streaming, HAProxy routing,
 * Barman check OK), and the lab's total RSS once ready (every daemon with its children).
 *   node dist/bench/lab-up.js [--runs N] [--port-base B] [--members M]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { labDestroy, labStatus, labUp } from '../src/lab/lab.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, 'port-base': { type: 'string', default: '5000' }, members: { type: 'string', default: '3' } },
});
const runs = Number(values.runs);
const portBase = Number(values['port-base']);
const members = Number(values.members);

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const times: number[] = [];
const rss: number[] = [];
for (let run = 1; run <= runs; run++) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-bench-lab-'));
  try {
    const started = process.hrtime.bigint();
    await labUp({ dir, portBase, members, restAuth: false }, () => undefined);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const status = await labStatus(dir);
    times.push(seconds);
    rss.push(status.totalRssBytes);
    const perProcess = status.processes.map((p) => `${p.name} ${mib(p.rssBytes)}`).join(', ');
    console.log(`run ${run}: clean → ready ${seconds.toFixed(1)} s; total RSS ${mib(status.totalRssBytes)} (${perProcess})`);
  } finally {
    await labDestroy(dir, () => undefined);
  }
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
console.log(
  `lab-up (${members} members, ${runs} runs): median ${median.toFixed(1)} s, min ${sorted[0]?.toFixed(1)} s, max ${sorted.at(-1)?.toFixed(1)} s; ` +
    `total RSS median ${mib([...rss].sort((a, b) => a - b)[Math.floor(rss.length / 2)] ?? 0)}`,
);
