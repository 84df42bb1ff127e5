import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import type { ClusterSnapshot } from '../../src/model/snapshot.js';
import type { OperationRequest } from '../../src/ops/operations.js';
import type { RestoreListing } from '../../src/ops/pitr.js';
import { catalogFromView, parseTarget, validatePitrTarget } from '../../src/ops/pitr-target.js';
import type { OperationPlan, Preconditions } from '../../src/ops/types.js';
import { App } from '../../src/ui/App.js';
import { FakeOperationsRunner } from '../support/fake-runner.js';
import { FakeClusterStore } from '../support/fake-store.js';
import { FAKE_NOW, fakeLabSnapshot } from '../support/fake-snapshots.js';
import { KEYS, renderInk } from '../support/ink.js';

afterEach(() => cleanup());

/**
 * The backup and PITR dialogs against a FAKE runner whose check is the real target validation on the
 * snapshot's catalog (pure): no I/O, no timers. Each test drives the keys and waits on frames.
 */
class FakeRunner extends FakeOperationsRunner {
  constructor(private readonly snapshot: ClusterSnapshot) {
    super();
  }

  check = (request: OperationRequest): Preconditions => {
    if (request.operation !== 'pitr' && request.operation !== 'rewind') return { blockers: [], warnings: [] };
    const parsed = parseTarget(request.params.target);
    if (!parsed.ok) return { blockers: [parsed.reason], warnings: [] };
    const { blockers, warnings } = validatePitrTarget(parsed.target, catalogFromView(this.snapshot.backups), { now: FAKE_NOW, strict: false, ...(request.params.backupId ? { backupId: request.params.backupId } : {}) });
    return { blockers, warnings };
  };

  plan = (request: OperationRequest): OperationPlan => ({ operation: request.operation, summary: `${request.operation} planned`, checks: this.check(request), requests: [], verification: [] });
}

const LISTING: RestoreListing = {
  restores: [
    { id: 'r20250314-110000Z-abcd', cluster: 'lab', server: 'patroni1', backupId: 'b1', target: 'time x', dir: '/r', dataDir: '/r/data', logFile: '/r/log', host: '127.0.0.1', port: 25400, user: 'postgres', database: 'postgres', passwordRef: 'ref', status: 'running', createdAt: '' },
  ],
  safetyCopies: [{ id: 'db1-20250301T000000Z', member: 'db1', path: '/lab/members/db1/data.safety-20250301T000000Z', from: '/lab/members/db1/data', createdAt: '', reason: 'rewind to …' }],
};

/** The cockpit on the lab's FAKE snapshot with a FAKE runner, its first frame drawn. */
async function openCockpit() {
  const snapshot = fakeLabSnapshot();
  const runner = new FakeRunner(snapshot);
  const ui = renderInk(
    <App store={new FakeClusterStore(snapshot)} mode="cockpit" readOnly={false} batchMs={0} tickMs={0} runnerBatchMs={0} clock={() => FAKE_NOW} operations={runner} listRestores={() => LISTING} />,
    { columns: 160, rows: 48 },
  );
  await ui.waitForFrame('Members');
  return { runner, ui };
}

describe('the PITR dialog', () => {
  it('t → kind → a refused target says why with the window and stays → a valid one → backup → side restore → review → y runs it', async () => {
    const { runner, ui } = await openCockpit();
    let frame = await ui.pressAndWaitFor('t', 'choose the target');
    expect(frame).toContain('Recovery window:');
    expect(frame).toContain('r20250314-110000Z-abcd');
    expect(frame).toContain('postgresql://postgres@127.0.0.1:25400/postgres');

    frame = await ui.pressAndWaitFor(KEYS.enter, 'type the target');
    expect(frame).toContain('a time, with its time zone');
    // In the future: refused, with the window; nothing runs, the dialog stays on the target.
    ui.type('2099-01-01T00:00:00Z');
    await ui.waitForFrame('2099-01-01 00:00:00.000 UTC');
    frame = await ui.pressAndWaitFor(KEYS.enter, 'refused:');
    expect(frame).toMatch(/is in the future/);
    expect(frame).toContain('valid window:');
    expect(frame).toContain('type the target');
    expect(runner.runs).toEqual([]);

    // Corrected: an hour ago (inside the window).
    for (let i = 0; i < '2099-01-01T00:00:00Z'.length; i++) ui.press(KEYS.backspace);
    await ui.waitForFrame((f) => !f.includes('refused:') && f.includes('type the target'));
    const target = new Date(FAKE_NOW - 3600_000).toISOString();
    ui.type(target);
    await ui.waitForFrame(target);
    frame = await ui.pressAndWaitFor(KEYS.enter, 'choose the backup');
    expect(frame).toMatch(/❯ automatic: \S+/);
    await ui.pressAndWaitFor(KEYS.enter, 'side restore or rewind');
    frame = await ui.pressAndWaitFor(KEYS.enter, 'check and confirm');
    expect(frame).toContain('Side restore: a new directory');
    expect(frame).toMatch(/Target: time 2025-03-14 11:00:00\.000 UTC/);
    expect(frame).toContain('[y/N]');
    await ui.pressAndWaitFor('y', 'running for');
    expect(runner.runs).toEqual([{ operation: 'pitr', params: { target: { toTime: target } } }]);
    runner.finish({
      id: 'r',
      operation: 'pitr',
      params: {},
      status: 'done',
      startedAt: FAKE_NOW,
      durationMs: 9000,
      events: [],
      steps: [],
      warnings: [],
      result: { outcome: 'done', summary: 'side restore r1 runs', details: { uri: 'postgresql://postgres@127.0.0.1:25401/postgres', passwordRef: 'ref', stop: 'pg_ctl stop', remove: 'pgcockpit restores remove r1' } },
    });
    frame = await ui.waitForFrame("connect:  psql 'postgresql://postgres@127.0.0.1:25401/postgres'");
    expect(frame).toContain('remove:   pgcockpit restores remove r1');
    expect(frame).toContain('Side restores: 1');
  });

  it('the rewind: the cluster name typed, the safety copies listed', async () => {
    const { runner, ui } = await openCockpit();
    await ui.pressAndWaitFor('t', 'choose the target');
    // The last kind: end of backup (no value to type).
    for (const next of ['an LSN', 'a transaction id', 'a restore point name', 'the end of a backup']) await ui.pressAndWaitFor(KEYS.down, `❯ ${next}`);
    await ui.pressAndWaitFor(KEYS.enter, 'choose the backup');
    await ui.pressAndWaitFor(KEYS.enter, 'side restore or rewind');
    await ui.pressAndWaitFor(KEYS.down, '❯ cluster rewind');
    const frame = await ui.pressAndWaitFor(KEYS.enter, 'Type lab to confirm');
    expect(frame).toContain('Safety copies to be made');
    expect(frame).toContain('db1-20250301T000000Z');
    ui.type('lab');
    await ui.waitForFrame('Enter: lab');
    await ui.pressAndWaitFor(KEYS.enter, 'running for');
    expect(runner.runs).toEqual([{ operation: 'rewind', params: { target: { endOfBackup: true } } }]);
  });

  it('b opens the backup dialog: y/N', async () => {
    const { runner, ui } = await openCockpit();
    const frame = await ui.pressAndWaitFor('b', 'Barman backup');
    expect(frame).toContain('[y/N]');
    await ui.pressAndWaitFor('y', 'running for');
    expect(runner.runs).toEqual([{ operation: 'backup', params: {} }]);
  });
});
