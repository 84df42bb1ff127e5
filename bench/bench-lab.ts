import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labDestroy, labUp, readLabTopology } from '../src/lab/lab.js';
import type { LabTopology } from '../src/lab/topology.js';

/**
 * A lab for a benchmark: `--lab DIR` uses a running lab as it is; otherwise a fresh one is brought up in a
 * temporary directory on its own port base and destroyed at the end.
 */
export async function benchLab(options: { dir?: string; portBase: number; members?: number }): Promise<{ topology: LabTopology; done: () => Promise<void> }> {
  if (options.dir) return { topology: readLabTopology(options.dir), done: async () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-bench-'));
  process.stderr.write(`bringing a lab up in ${dir} (port base ${options.portBase})…\n`);
  await labUp({ dir, portBase: options.portBase, members: options.members ?? 3, restAuth: false }, () => undefined);
  return {
    topology: readLabTopology(dir),
    done: async () => {
      await labDestroy(dir, () => undefined);
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function summary(label: string, values: number[], unit = 'ms'): string {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return `${label.padEnd(44)} n=${values.length}  p50 ${percentile(values, 50).toFixed(0)} ${unit}  p95 ${percentile(values, 95).toFixed(0)} ${unit}  mean ${mean.toFixed(0)} ${unit}`;
}

/** The Node flags bin/pgcockpit.js's shebang gives Node (`#!/usr/bin/env -S node <flags>`): how the installed `pgcockpit` starts. */
export function launcherFlags(bin: string): string[] {
  const first = fs.readFileSync(bin, 'utf8').split('\n', 1)[0] ?? '';
  return (/^#!.*\bnode\b(.*)$/.exec(first)?.[1]?.trim() ?? '').split(/\s+/).filter(Boolean);
}
