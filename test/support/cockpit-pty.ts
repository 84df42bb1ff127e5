import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { LabTopology } from '../../src/lab/topology.js';
import { packageRoot } from '../../src/util/package-root.js';
import { mendLab, restoreLab, waitHealthy } from './lab-faults.js';
import { killAllTmux, shellQuote, type TmuxSession } from './tmux.js';

/**
 * What the pseudo-terminal tests (test/e2e) share: the real executable, the shell line that runs it and
 * says how it exited, quitting it, and the hooks around a suite (the lab healthy before, no tmux session
 * left behind, the lab restored after).
 */

/** The real `pgcockpit` (bin/pgcockpit.js on the build). */
export const COCKPIT_BIN = path.join(packageRoot(), 'bin', 'pgcockpit.js');

/** The line the shell prints once the cockpit exits (see `cockpitLine`). */
export const EXITED = /^pgcockpit exited with (\d+)$/m;

/**
 * The shell line that runs the cockpit with `args` on `config`, then says how it exited. The quotes are
 * split so that the typed line itself never matches EXITED.
 */
export function cockpitLine(config: string, args: string[] = []): string {
  return `${[process.execPath, COCKPIT_BIN, ...args, '--config', config].map(shellQuote).join(' ')}; echo "pgcockpit exit""ed with $?"`;
}

/** Press q, wait until the shell says the cockpit exited, expect exit 0; the screen after it. */
export async function quitCockpit(session: TmuxSession, timeoutMs = 15_000): Promise<string> {
  await session.keys('q');
  const screen = await session.waitFor(EXITED, { timeoutMs });
  expect(EXITED.exec(screen)?.[1]).toBe('0');
  return screen;
}

export interface PtySuiteHooks {
  /** After the lab is healthy, before the first test. */
  before?: () => Promise<void> | void;
  /** After the last test, once no tmux session is left, before the lab is restored. */
  after?: () => Promise<void> | void;
  /** Restore the lab after the suite (every member running, a leader, replicas streaming): default true. */
  restore?: boolean;
}

/** Register the hooks every pty suite needs around `lab`. */
export function cockpitPtySuite(lab: LabTopology, hooks: PtySuiteHooks = {}): void {
  beforeAll(async () => {
    await waitHealthy(lab);
    await hooks.before?.();
  });
  afterEach(async () => {
    await killAllTmux();
    // A test that failed half-way (a member killed, the cluster paused) leaves the next one a healthy lab.
    if (hooks.restore ?? true) await mendLab(lab);
  });
  afterAll(async () => {
    await killAllTmux();
    try {
      await hooks.after?.();
    } finally {
      if (hooks.restore ?? true) await restoreLab(lab);
    }
  });
}
