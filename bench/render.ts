/**
 * Time to render one cockpit frame (React reconcile + Yoga layout + output string, via Ink's
 * renderToString) for the lab's 3 members and for a synthetic 50-member cluster with 500 events and 200
 * backups. Goal: ≤ 10 ms per frame at 50 members.
 *   npm run build && node dist/bench/render.js [frames]
 */
import { createElement } from 'react';
import { renderToString } from 'ink';
import { INITIAL_UI_STATE } from '../src/ui/cockpit-state.js';
import type { CockpitUiState } from '../src/ui/cockpit-state.js';
import type { CockpitMode } from '../src/ui/cockpit-view.js';
import { buildCockpitView } from '../src/ui/cockpit-view.js';
import { CockpitScreen } from '../src/ui/CockpitScreen.js';
import { WatchScreen } from '../src/ui/WatchScreen.js';
import type { ClusterEvent, ClusterSnapshot } from '../src/model/snapshot.js';
import type { LagSample } from '../src/model/store.js';
import { FAKE_NOW, fakeEvents, fakeLabSnapshot, fakeLagSamples, fakeLargeCluster } from '../test/support/fake-snapshots.js';

interface Case {
  name: string;
  snapshot: ClusterSnapshot;
  events: readonly ClusterEvent[];
  lag: ReadonlyMap<string, readonly LagSample[]>;
  mode: CockpitMode;
  ui: CockpitUiState;
  columns: number;
  rows: number;
}

function renderFrame(c: Case, now: number): string {
  const view = buildCockpitView({
    snapshot: c.snapshot,
    events: c.events,
    lagHistories: c.lag,
    ui: c.ui,
    config: { mode: c.mode, readOnly: c.mode === 'watch', operationsAvailable: false },
  });
  const size = { columns: c.columns, rows: c.rows };
  const screen = createElement(c.mode === 'watch' ? WatchScreen : CockpitScreen, { view, size, now });
  return renderToString(screen, { columns: c.columns });
}

function measure(c: Case, frames: number): { mean: number; p95: number; max: number } {
  for (let i = 0; i < Math.min(20, frames); i += 1) renderFrame(c, FAKE_NOW + i); // warm up the JIT
  const times: number[] = [];
  for (let i = 0; i < frames; i += 1) {
    const start = performance.now();
    renderFrame(c, FAKE_NOW + i * 1000); // a new `now` each frame, as the 1 s tick does
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return { mean, p95: times[Math.floor(times.length * 0.95)] ?? mean, max: times[times.length - 1] ?? mean };
}

const frames = Number(process.argv[2] ?? 200);
const lab = fakeLabSnapshot();
const labLag = new Map([
  ['db2', fakeLagSamples(FAKE_NOW, 4096)],
  ['db3', fakeLagSamples(FAKE_NOW, 2048)],
]);
const big = fakeLargeCluster();
const cases: Case[] = [
  { name: 'lab 3 members, 80×24', snapshot: lab, events: fakeEvents(), lag: labLag, mode: 'cockpit', ui: INITIAL_UI_STATE, columns: 80, rows: 24 },
  { name: 'lab 3 members, 160×50', snapshot: lab, events: fakeEvents(), lag: labLag, mode: 'cockpit', ui: INITIAL_UI_STATE, columns: 160, rows: 50 },
  { name: '50 members/500 events/200 backups, 160×50', snapshot: big.snapshot, events: big.events, lag: big.lag, mode: 'cockpit', ui: INITIAL_UI_STATE, columns: 160, rows: 50 },
  { name: '50 members, 200×70 (all panes)', snapshot: big.snapshot, events: big.events, lag: big.lag, mode: 'cockpit', ui: INITIAL_UI_STATE, columns: 200, rows: 70 },
  { name: '50 members, watch 200×70', snapshot: big.snapshot, events: big.events, lag: big.lag, mode: 'watch', ui: INITIAL_UI_STATE, columns: 200, rows: 70 },
];

const GOAL_MS = 10;
console.log(`render bench: ${frames} frames per case, Node ${process.version}, goal ≤ ${GOAL_MS} ms per frame at 50 members`);
let failed = false;
for (const c of cases) {
  const r = measure(c, frames);
  const bigCase = c.snapshot.members.length >= 50;
  const verdict = bigCase ? (r.p95 <= GOAL_MS ? 'ok' : 'OVER GOAL') : '';
  if (bigCase && r.p95 > GOAL_MS) failed = true;
  console.log(`${c.name.padEnd(44)} mean ${r.mean.toFixed(2).padStart(6)} ms  p95 ${r.p95.toFixed(2).padStart(6)} ms  max ${r.max.toFixed(2).padStart(6)} ms  ${verdict}`);
}
process.exitCode = failed ? 1 : 0;
