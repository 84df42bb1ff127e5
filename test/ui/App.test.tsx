import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { NO_COLOR_THEME } from '../../components/theme.js';
import { formatKeys, KEYMAP, OPERATIONS_NOT_AVAILABLE_REASON, READ_ONLY_REASON } from '../../src/keymap/keymap.js';
import type { ClusterSnapshot } from '../../src/model/snapshot.js';
import { App } from '../../src/ui/App.js';
import { FakeClusterStore } from '../support/fake-store.js';
import { FAKE_NOW, fakeEvents, fakeLaggingSnapshot, fakeLagSamples, fakeLabSnapshot, fakeStaleSnapshot } from '../support/fake-snapshots.js';
import { KEYS, renderInk } from '../support/ink.js';

afterEach(() => cleanup());

const MB = 1024 * 1024;

function renderApp(
  snapshot: ClusterSnapshot,
  options: { mode?: 'cockpit' | 'watch'; columns?: number; rows?: number; noColor?: boolean; onQuit?: () => void } = {},
) {
  const store = new FakeClusterStore(snapshot, {
    events: fakeEvents(),
    lag: new Map([
      ['db2', fakeLagSamples(FAKE_NOW, 12 * MB)],
      ['db3', fakeLagSamples(FAKE_NOW, 2048)],
    ]),
  });
  const ui = renderInk(
    <App
      store={store}
      mode={options.mode ?? 'cockpit'}
      readOnly={false}
      batchMs={0}
      tickMs={0}
      clock={() => FAKE_NOW}
      {...(options.noColor ? { theme: NO_COLOR_THEME } : {})}
      {...(options.onQuit ? { onQuit: options.onQuit } : {})}
    />,
    { columns: options.columns ?? 120, rows: options.rows ?? 40 },
  );
  return { ui, store };
}

describe('App (cockpit)', () => {
  it('at 80×24 shows header, members, a pane and the footer', async () => {
    const { ui } = renderApp(fakeLabSnapshot(), { columns: 80, rows: 24 });
    const frame = await ui.waitForFrame('Members');
    expect(frame).toContain('leader ★ db1');
    expect(frame).toContain('? help');
    expect(frame.split('\n').length).toBeLessThanOrEqual(24);
    for (const line of frame.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('says the terminal is too small at 60×20, and recovers on resize', async () => {
    const { ui } = renderApp(fakeLabSnapshot(), { columns: 60, rows: 20 });
    const frame = await ui.waitForFrame('terminal too small');
    expect(frame).toContain('terminal too small (need 80×24)');
    expect(frame).toContain('now 60×20');
    ui.resize(100, 30);
    await ui.waitForFrame('Members');
  });

  it('a stale source shows STALE with its age', async () => {
    const { ui } = renderApp(fakeStaleSnapshot());
    const frame = await ui.waitForFrame('STALE');
    expect(frame).toContain('STALE barman: data 2m 10s old');
    expect(frame).toContain('STALE patroni: data 45s old');
  });

  it('a lagging replica shows its lag and the threshold in the members and the Lag pane', async () => {
    const { ui } = renderApp(fakeLaggingSnapshot());
    const frame = await ui.waitForFrame('▲ OVER');
    expect(frame).toContain('12.0 MB 1m 05s');
    expect(frame).toContain('lagging > 1.0 MB');
    expect(frame).toContain('threshold 1.0 MB');
    expect(frame).toMatch(/db2 +[▁▂▃▄▅▆▇█]+ +12\.0 MB 1m 05s \/ 1\.0 MB +▲ OVER/);
  });

  it('judges lag by the threshold the model used (snapshot.thresholds), not maximum_lag_on_failover', async () => {
    const lagging = fakeLaggingSnapshot();
    const { ui } = renderApp({ ...lagging, alerts: [], thresholds: { lagBytes: 16 * MB, lagBytesOrigin: 'config', lagSeconds: 30 } });
    const frame = await ui.waitForFrame('lag threshold 16.0 MB');
    expect(lagging.dcs.maximumLagOnFailover).toBe(MB);
    expect(frame).toMatch(/db2 +[▁▂▃▄▅▆▇█ ]+ +12\.0 MB 1m 05s \/ 16\.0 MB/);
    expect(frame).not.toContain('▲ OVER');
    expect(frame).not.toContain('lagging >');
  });

  it('Tab and Shift-Tab move the focus around the panes', async () => {
    const { ui } = renderApp(fakeLabSnapshot(), { columns: 80, rows: 24 });
    await ui.waitForFrame('▶ Members');
    await ui.pressAndWaitFor(KEYS.tab, '▶ Lag');
    await ui.pressAndWaitFor(KEYS.tab, '▶ Timeline');
    await ui.pressAndWaitFor(KEYS.tab, '▶ Archive');
    await ui.pressAndWaitFor(KEYS.tab, '▶ Backups');
    await ui.pressAndWaitFor(KEYS.tab, '▶ Members');
    await ui.pressAndWaitFor(KEYS.shiftTab, '▶ Backups');
  });

  it('j/k and arrows move the selection; Enter opens the member detail and Esc closes it', async () => {
    const { ui } = renderApp(fakeLabSnapshot());
    await ui.waitForFrame('›★ db1');
    await ui.pressAndWaitFor('j', /›✓ db2/.test.bind(/›✓ db2/));
    await ui.pressAndWaitFor(KEYS.down, (f) => f.includes('›✓ db3'));
    await ui.pressAndWaitFor('k', (f) => f.includes('›✓ db2'));
    const detail = await ui.pressAndWaitFor(KEYS.enter, 'Member db2');
    expect(detail).toContain('WAL receiver');
    expect(detail).toContain('streaming from 127.0.0.1:15432');
    const back = await ui.pressAndWaitFor(KEYS.escape, (f) => !f.includes('Member db2'));
    expect(back).toContain('RECEIVE LAG');
  });

  it('the leader detail lists replication, connections, long and idle transactions, blocking', async () => {
    const { ui } = renderApp(fakeLabSnapshot());
    await ui.waitForFrame('›★ db1');
    const frame = await ui.pressAndWaitFor(KEYS.enter, 'Member db1');
    expect(frame).toContain('Replication (2)');
    expect(frame).toContain('Connections by state');
    expect(frame).toContain('idle in transaction 1');
    expect(frame).toContain('Longest transactions (1)');
    expect(frame).toContain('Idle in transaction (1)');
    expect(frame).toContain('4400 waits on 4317');
    expect(frame).toContain('Patroni 3.3.2');
  });

  it('? opens a help overlay listing every binding of the keymap, with the reasons', async () => {
    const { ui } = renderApp(fakeLabSnapshot(), { columns: 200, rows: 50 });
    await ui.waitForFrame('Members');
    const frame = await ui.pressAndWaitFor('?', 'Keys —');
    for (const command of KEYMAP) {
      expect(frame, command.id).toContain(formatKeys(command.keys));
      expect(frame, command.id).toContain(command.description);
    }
    expect(frame).toContain(OPERATIONS_NOT_AVAILABLE_REASON);
    await ui.pressAndWaitFor(KEYS.escape, (f) => !f.includes('Keys —'));
  });

  it('at 80×24 the help still shows every key', async () => {
    const { ui } = renderApp(fakeLabSnapshot(), { columns: 80, rows: 24 });
    await ui.waitForFrame('Members');
    const frame = await ui.pressAndWaitFor('?', 'Keys —');
    for (const command of KEYMAP) expect(frame, command.id).toContain(formatKeys(command.keys));
  });

  it('an operation key does nothing but say why', async () => {
    const { ui } = renderApp(fakeLabSnapshot());
    await ui.waitForFrame('Members');
    const frame = await ui.pressAndWaitFor('s', OPERATIONS_NOT_AVAILABLE_REASON);
    expect(frame).toContain('Switchover to a healthy replica: not available yet');
  });

  it('/ filters members and events; Esc clears the filter', async () => {
    const { ui } = renderApp(fakeLaggingSnapshot(), { columns: 160, rows: 50 });
    await ui.waitForFrame('Timeline');
    await ui.pressAndWaitFor('/', '/ ');
    ui.type('db3');
    const frame = await ui.waitForFrame('1 member, 1 event match');
    expect(frame).toContain('1 of 3');
    expect(frame).toContain('db3 streaming → stopped');
    expect(frame).not.toContain('leader changed db2 → db1');
    expect(frame).not.toMatch(/\sdb2\s+replica/);
    await ui.pressAndWaitFor(KEYS.enter, '/ edit · Esc clear');
    await ui.pressAndWaitFor(KEYS.escape, (f) => f.includes('leader changed db2 → db1') && !f.includes('match'));
  });

  it('/ takes text that arrives in one chunk (a paste, fast typing over SSH) as typed text', async () => {
    const { ui } = renderApp(fakeLaggingSnapshot(), { columns: 160, rows: 50 });
    await ui.waitForFrame('Timeline');
    await ui.pressAndWaitFor('/', '/ ');
    ui.press('db3 stre');
    const frame = await ui.waitForFrame('/db3 stre');
    expect(frame).toContain('0 members, 1 event match');
    expect(frame).toContain('db3 streaming → stopped');
  });

  it(': opens the command palette, fuzzy-filters the keymap and runs the choice', async () => {
    const { ui } = renderApp(fakeLabSnapshot());
    await ui.waitForFrame('Members');
    await ui.pressAndWaitFor(':', 'Enter run');
    ui.type('help');
    await ui.waitForFrame((f) => f.includes('› ?') && f.includes('Help'));
    await ui.pressAndWaitFor(KEYS.enter, 'Keys —');
  });

  it.each([
    ['q', 'q'],
    ['Ctrl-C', KEYS.ctrlC],
  ])('%s quits', async (_name, key) => {
    let quit!: () => void;
    const quitted = new Promise<void>((resolve) => (quit = resolve));
    const { ui } = renderApp(fakeLabSnapshot(), { onQuit: quit });
    await ui.waitForFrame('Members');
    ui.press(key);
    await quitted;
  });

  it('Ctrl-C quits also while typing a filter, q does not', async () => {
    let quit!: () => void;
    const quitted = new Promise<void>((resolve) => (quit = resolve));
    const { ui } = renderApp(fakeLabSnapshot(), { onQuit: quit });
    await ui.waitForFrame('Members');
    await ui.pressAndWaitFor('/', 'Enter apply');
    await ui.pressAndWaitFor('q', '/q');
    ui.press(KEYS.ctrlC);
    await quitted;
  });

  it('NO_COLOR: no color codes, still readable by symbols and words', async () => {
    const { ui } = renderApp(fakeLaggingSnapshot(), { noColor: true });
    await ui.waitForFrame('▲ OVER');
    // eslint-disable-next-line no-control-regex
    expect(ui.rawFrame()).not.toMatch(/\u001B\[(3[0-7]|9[0-7])m/);
    expect(ui.frame()).toContain('lagging > 1.0 MB');
  });

  it('renders again when the store changes (a new leader)', async () => {
    const { ui, store } = renderApp(fakeLabSnapshot());
    await ui.waitForFrame('leader ★ db1');
    const before = fakeLabSnapshot();
    store.setSnapshot({
      ...before,
      leader: 'db2',
      members: before.members.map((m) => (m.name === 'db2' ? { ...m, role: 'leader', timeline: 4 } : m.name === 'db1' ? { ...m, role: 'replica' } : m)),
    });
    await ui.waitForFrame('leader ★ db2 TL 4');
  });
});

describe('App (watch mode)', () => {
  it('is a read-only wallboard: verdict bar, alerts first, no operation keys', async () => {
    const { ui } = renderApp(fakeLaggingSnapshot(), { mode: 'watch' });
    const frame = await ui.waitForFrame('ALERTS');
    expect(frame).toContain('D E G R A D E D');
    expect(frame).toContain('WARNING');
    expect(frame).toContain('db2 replay lag 12.0 MB > 1.0 MB');
    expect(frame).toContain('watch · read-only');
    expect(frame).not.toContain('ops s');
    const refused = await ui.pressAndWaitFor('s', READ_ONLY_REASON);
    expect(refused).toContain('read-only (watch mode)');
  });

  it('makes STALE unmistakable', async () => {
    const { ui } = renderApp(fakeStaleSnapshot(), { mode: 'watch' });
    const frame = await ui.waitForFrame('S T A L E');
    expect(frame).toContain('patroni 45s old');
    expect(frame).toContain('STALE barman: data 2m 10s old');
  });
});
