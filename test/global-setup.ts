import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { labDown, labUp } from '../src/lab/lab.js';

/**
 * One native lab for the whole test run, on its own port base (default 10000, so it never collides with
 * a developer's default lab) in a fresh directory, torn down at the end, also when tests fail.
 *   PGCOCKPIT_TEST_PORT_BASE  another port base (two runs side by side)
 *   PGCOCKPIT_TEST_LAB_DIR    reuse this directory (and its running lab); it is then left running
 *   PGCOCKPIT_TEST_NO_LAB=1   start no lab (for a quick run of unit and component tests only; suites
 *                             that need the lab then fail at their first inject('labDir'))
 */
export const TEST_PORT_BASE_DEFAULT = 10000;

declare module 'vitest' {
  export interface ProvidedContext {
    labDir: string;
    labPortBase: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const portBase = Number(process.env.PGCOCKPIT_TEST_PORT_BASE ?? TEST_PORT_BASE_DEFAULT);
  if (process.env.PGCOCKPIT_TEST_NO_LAB === '1') {
    project.provide('labDir', '');
    project.provide('labPortBase', portBase);
    return async () => undefined;
  }
  const reuse = process.env.PGCOCKPIT_TEST_LAB_DIR;
  const dir = reuse ? path.resolve(reuse) : fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-test-lab-'));
  const log = (line: string) => process.stderr.write(`[lab] ${line}\n`);
  const started = Date.now();
  try {
    await labUp({ dir, portBase, members: 3, restAuth: false }, log);
  } catch (error) {
    await labDown(dir, log).catch(() => undefined);
    throw error;
  }
  log(`test lab ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${dir} (port base ${portBase})`);
  project.provide('labDir', dir);
  project.provide('labPortBase', portBase);
  return async () => {
    if (reuse) return;
    await labDown(dir, log);
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
