import { afterEach, beforeAll, inject } from 'vitest';
import { readLabTopology } from '../../src/lab/lab.js';
import { stopStrayChildren } from './cli.js';
import { mendLab } from './lab-faults.js';

/**
 * Run before every test file (vitest `setupFiles`). Whatever the file before left behind — a test that
 * failed or timed out half-way through breaking the lab on purpose — this file starts on a healthy lab:
 * mended (see mendLab; one probe when nothing is wrong). And no `pgcockpit` a test started outlives it:
 * a test that timed out does not leave its command acting on the lab (or the compose stack) meanwhile.
 */
beforeAll(async () => {
  const dir = inject('labDir');
  if (dir) await mendLab(readLabTopology(dir));
}, 300_000);

afterEach(async () => {
  await stopStrayChildren();
});
