import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { CandidatePicker } from '../../components/CandidatePicker.js';
import { ConfirmPrompt } from '../../components/ConfirmPrompt.js';
import { OperationProgress } from '../../components/OperationProgress.js';
import { OperationResult } from '../../components/OperationResult.js';
import type { ClusterSnapshot } from '../../src/model/snapshot.js';
import type { CandidateOption } from '../../src/ops/checks.js';
import type { OperationRequest } from '../../src/ops/operations.js';
import type { OperationRun } from '../../src/ops/runner.js';
import type { OperationPlan, Preconditions, Reason } from '../../src/ops/types.js';
import { App } from '../../src/ui/App.js';
import { FakeOperationsRunner, fakeRun } from '../support/fake-runner.js';
import { FakeClusterStore } from '../support/fake-store.js';
import { FAKE_NOW, fakeLabSnapshot } from '../support/fake-snapshots.js';
import { KEYS, renderInk } from '../support/ink.js';

afterEach(() => cleanup());

/** A FAKE runner: answers check/plan from what the test sets (see FakeOperationsRunner). */
class FakeRunner extends FakeOperationsRunner {
  blockers: Reason[] = [];
  warnings: Reason[] = [];

  check = (): Preconditions => ({ blockers: this.blockers, warnings: this.warnings });

  plan = (request: OperationRequest): OperationPlan => ({
    operation: request.operation,
    summary: `${request.operation} ${JSON.stringify(request.params)}`,
    checks: this.check(),
    requests: [{ method: 'POST', url: 'http://127.0.0.1:8008/switchover', body: { leader: 'db1', candidate: 'db3' }, purpose: 'ask Patroni to switch over' }],
    verification: ['the leader key names the candidate'],
  });
}

const FAKE_STEPS: OperationRun['steps'] = [
  { type: 'step', id: 'preflight', title: 'preflight', status: 'done', startedAt: FAKE_NOW - 3000, durationMs: 120 },
  { type: 'step', id: 'request', title: 'switchover request', status: 'done', startedAt: FAKE_NOW - 2800, durationMs: 340 },
  { type: 'step', id: 'leader-key', title: 'leader key moves', status: 'started', startedAt: FAKE_NOW - 1500 },
];

/** The lab's three members, with db2 made ineligible (nofailover) and db3 healthy. */
function fakePickerSnapshot(): ClusterSnapshot {
  const snapshot = fakeLabSnapshot();
  return {
    ...snapshot,
    members: snapshot.members.map((m) => (m.name === 'db2' ? { ...m, nofailover: true, tags: { ...m.tags, nofailover: true } } : m.name === 'db3' ? { ...m, replayLagBytes: 0, replayLagSeconds: 0, state: 'streaming' as const } : m)),
  };
}

function renderCockpit(snapshot: ClusterSnapshot, runner: FakeRunner) {
  const store = new FakeClusterStore(snapshot);
  return renderInk(<App store={store} mode="cockpit" readOnly={false} batchMs={0} tickMs={0} runnerBatchMs={0} clock={() => FAKE_NOW} operations={runner} />, { columns: 120, rows: 40 });
}

describe('CandidatePicker', () => {
  it('lists eligible candidates with their lag and says why the others cannot be chosen', async () => {
    const options: CandidateOption[] = [
      { member: 'db2', state: 'streaming', replayLagBytes: 12 * 1024 * 1024, replayLagSeconds: 30, eligible: false, reasons: [{ code: 'candidate-lag', member: 'db2', message: 'candidate db2 lags 12.0 MB > 1.0 MB (maximum_lag_on_failover)' }] },
      { member: 'db3', state: 'streaming', replayLagBytes: 0, replayLagSeconds: 0, eligible: true, reasons: [] },
    ];
    const ui = renderInk(<CandidatePicker options={options} best="db3" onSelect={() => undefined} isFocused={false} />);
    const frame = await ui.waitForFrame('db3');
    expect(frame).toMatch(/❯ db3 +streaming +lag 0 B 0s +\(best\)/);
    expect(frame).toMatch(/✗ db2 .*lag 12\.0 \S+ 30s — candidate db2 lags 12.0 MB > 1.0 MB \(maximum_lag_on_failover\)/);
    expect(frame).not.toMatch(/❯ db2/);
  });
});

describe('ConfirmPrompt', () => {
  it('asks y/N for a planned operation, the typed name for a dangerous one', async () => {
    const yesNo = renderInk(<ConfirmPrompt kind="yes-no" question="switchover db1 → db3?" />);
    expect(await yesNo.waitForFrame('[y/N]')).toContain('switchover db1 → db3? [y/N]');
    const typed = renderInk(<ConfirmPrompt kind="type-name" question="This cannot be undone." name="db3" typed="db" nameError='"db2" is not db3: refused, nothing was done.' />);
    const frame = await typed.waitForFrame('Type db3 to confirm');
    expect(frame).toContain('"db2" is not db3: refused');
    expect(frame).toContain('Enter: db');
  });
});

describe('OperationProgress and OperationResult', () => {
  it('shows each step with its time, a byte progress bar, and the newest log and warning lines', async () => {
    const run = fakeRun({
      operation: 'reinit',
      steps: FAKE_STEPS,
      events: [
        { type: 'progress', stepId: 'leader-key', bytes: 512 * 1024 * 1024, totalBytes: 1024 * 1024 * 1024 },
        { type: 'log', message: 'pg_basebackup: 524288 kB' },
        { type: 'warning', message: 'db2 has a long transaction' },
      ],
    });
    const ui = renderInk(<OperationProgress run={run} now={FAKE_NOW} />);
    const frame = await ui.waitForFrame('leader key moves');
    expect(frame).toMatch(/✓ preflight +120 ms/);
    expect(frame).toMatch(/✓ switchover request +340 ms/);
    expect(frame).toMatch(/… leader key moves +1\.5 s/);
    expect(frame).toContain('[██████████░░░░░░░░░░] 50% 512 MB / 1.0 GB');
    expect(frame).toContain('pg_basebackup: 524288 kB');
    expect(frame).toContain('▲ db2 has a long transaction');
  });

  it('a result says how it ended and why', async () => {
    const done = renderInk(<OperationResult run={fakeRun({ status: 'done', durationMs: 4200, endedAt: FAKE_NOW, steps: FAKE_STEPS.slice(0, 2), result: { outcome: 'done', summary: 'db3 is the leader', details: {} } })} />);
    expect(await done.waitForFrame('switchover done')).toMatch(/switchover done {2}in 4\.2 s — db3 is the leader/);
    const refused = renderInk(<OperationResult run={fakeRun({ status: 'refused', endedAt: FAKE_NOW, reasons: [{ code: 'operation-running', message: 'reinit running since 12:00' }] })} />);
    const frame = await refused.waitForFrame('refused');
    expect(frame).toContain('✗ reinit running since 12:00');
    expect(frame).toContain('Nothing was changed.');
  });
});

describe('operation dialogs in the cockpit (fake runner)', () => {
  it('s: pick → summary with Preview → y → live progress → result until dismissed', async () => {
    const runner = new FakeRunner();
    runner.warnings = [{ code: 'backup-running', message: 'a Barman backup is running' }];
    const ui = renderCockpit(fakePickerSnapshot(), runner);
    await ui.waitForFrame('Members');
    let frame = await ui.pressAndWaitFor('s', 'choose a candidate');
    expect(frame).toMatch(/❯ db3 .*lag 0 B/);
    expect(frame).toMatch(/✗ db2 .*nofailover/);
    frame = await ui.pressAndWaitFor(KEYS.enter, 'check and confirm');
    expect(frame).toContain('switchover {"candidate":"db3"}');
    expect(frame).toContain('▲ a Barman backup is running');
    expect(frame).toContain('[y/N]');
    frame = await ui.pressAndWaitFor('p', 'Preview: the requests');
    expect(frame).toContain('1. POST http://127.0.0.1:8008/switchover');
    expect(runner.runs).toEqual([]);
    await ui.pressAndWaitFor('y', 'running for');
    expect(runner.runs).toEqual([{ operation: 'switchover', params: { candidate: 'db3' } }]);
    runner.progress(fakeRun({ steps: FAKE_STEPS }));
    frame = await ui.waitForFrame('leader key moves');
    // The members table keeps updating under the dialog.
    expect(frame).toContain('Members');
    ui.press('a');
    await ui.waitForFrame('abort requested');
    expect(runner.aborted).toBe(true);
    runner.finish(fakeRun({ status: 'done', endedAt: FAKE_NOW, durationMs: 4200, steps: FAKE_STEPS.slice(0, 2), result: { outcome: 'done', summary: 'db3 is the leader', details: {} } }));
    frame = await ui.waitForFrame('switchover done');
    expect(frame).toContain('db3 is the leader');
    await ui.pressAndWaitFor(KEYS.escape, (f) => !f.includes('switchover done') && f.includes('Members'));
  });

  it('Esc before the request closes with nothing run; a blocker forbids y', async () => {
    const runner = new FakeRunner();
    const ui = renderCockpit(fakePickerSnapshot(), runner);
    await ui.waitForFrame('Members');
    await ui.pressAndWaitFor('s', 'choose a candidate');
    await ui.pressAndWaitFor(KEYS.enter, 'check and confirm');
    runner.blockers = [{ code: 'candidate-lag', member: 'db3', message: 'candidate db3 lags 12.0 MB > 1.0 MB' }];
    await ui.pressAndWaitFor(KEYS.tab, 'Preview: the requests');
    const frame = await ui.waitForFrame('Cannot run now');
    expect(frame).toContain('✗ candidate db3 lags 12.0 MB > 1.0 MB');
    await ui.pressAndWaitFor('y', 'cannot run: a precondition fails');
    await ui.pressAndWaitFor(KEYS.escape, (f) => !f.includes('check and confirm'));
    expect(runner.runs).toEqual([]);
  });

  it('f: failover needs the candidate’s name typed; a wrong name refuses', async () => {
    const runner = new FakeRunner();
    const ui = renderCockpit(fakePickerSnapshot(), runner);
    await ui.waitForFrame('Members');
    await ui.pressAndWaitFor('f', 'choose a candidate');
    let frame = await ui.pressAndWaitFor(KEYS.enter, 'Type db3 to confirm');
    expect(frame).toContain('Failover (emergency: may lose data)');
    ui.type('db2');
    await ui.waitForFrame('Enter: db2');
    frame = await ui.pressAndWaitFor(KEYS.enter, 'refused, nothing was done');
    expect(frame).toContain('"db2" is not db3');
    expect(runner.runs).toEqual([]);
    ui.type('db3');
    await ui.waitForFrame('Enter: db3');
    await ui.pressAndWaitFor(KEYS.enter, 'running for');
    expect(runner.runs).toEqual([{ operation: 'failover', params: { candidate: 'db3' } }]);
  });

  it('p toggles by the snapshot: pause when running, resume when paused; a disabled key says the runner’s reason', async () => {
    const runner = new FakeRunner();
    const ui = renderCockpit({ ...fakePickerSnapshot(), paused: true }, runner);
    await ui.waitForFrame('Members');
    await ui.pressAndWaitFor('p', 'Resume automatic failover');
    await ui.pressAndWaitFor('y', 'running for');
    expect(runner.runs).toEqual([{ operation: 'resume', params: {} }]);

    const blocked = new FakeRunner();
    blocked.blockers = [{ code: 'operation-running', message: 'switchover running (started 12:00:01 by alice)' }];
    const other = renderCockpit(fakePickerSnapshot(), blocked);
    await other.waitForFrame('Members');
    const frame = await other.pressAndWaitFor('R', 'switchover running (started 12:00:01 by alice)');
    expect(frame).toContain('Reload the configuration of the selected member: switchover running');
    expect(blocked.runs).toEqual([]);
  });
});
