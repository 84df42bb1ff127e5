import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { ArchivePane } from '../../components/ArchivePane.js';
import { BackupsPane } from '../../components/BackupsPane.js';
import { CommandPalette } from '../../components/CommandPalette.js';
import { HelpOverlay } from '../../components/HelpOverlay.js';
import { LagPane } from '../../components/LagPane.js';
import { TimelinePane } from '../../components/TimelinePane.js';
import { TooSmall } from '../../components/TooSmall.js';
import { formatKeys, helpEntries, KEYMAP, paletteItems, READ_ONLY_REASON } from '../../src/keymap/keymap.js';
import { FAKE_NOW, fakeEvents, fakeLagSamples, fakeLabSnapshot, fakeLargeCluster, fakePatroni4Snapshot } from '../support/fake-snapshots.js';
import { renderInk } from '../support/ink.js';

afterEach(() => cleanup());

const MB = 1024 * 1024;

describe('LagPane', () => {
  it('per replica: sparkline, current lag in bytes and seconds, the threshold, ▲ OVER above it', async () => {
    const ui = renderInk(
      <LagPane
        series={[
          { member: 'db2', samples: fakeLagSamples(FAKE_NOW, 12 * MB), currentBytes: 12 * MB, currentSeconds: 65 },
          { member: 'db3', samples: fakeLagSamples(FAKE_NOW, 2048), currentBytes: 2048, currentSeconds: 0.2 },
        ]}
        thresholdBytes={MB}
        focused
        width={100}
        height={4}
      />,
    );
    const frame = await ui.waitForFrame('db3');
    expect(frame).toContain('replay lag, last 4m 50s · threshold 1.0 MB');
    expect(frame).toMatch(/db2 .*█ +12\.0 MB 1m 05s \/ 1\.0 MB +▲ OVER/);
    expect(frame).toMatch(/db3 .* 2\.0 kB 0\.2s \/ 1\.0 MB\s*$/m);
  });
});

describe('TimelinePane', () => {
  it('shows the timeline history (newest first) beside the event log (newest first)', async () => {
    const s = fakeLabSnapshot();
    const ui = renderInk(<TimelinePane history={s.history} events={fakeEvents()} scroll={0} focused width={140} height={8} />);
    const frame = await ui.waitForFrame('EVENT');
    const lines = frame.split('\n');
    expect(lines[2]).toMatch(/^\s+2 0\/40000A0\s+db1\s+\d\d-\d\d \d\d:\d\d no recovery target/);
    expect(lines[3]).toMatch(/^\s+1 0\/30000A0\s+db2/);
    expect(lines[2]).toContain('✗ db3 streaming → stopped');
    expect(frame).toContain('leader changed db2 → db1');
  });

  it('scrolls the event log and says how many newer events are above', async () => {
    const big = fakeLargeCluster();
    const ui = renderInk(<TimelinePane history={big.snapshot.history} events={big.events} scroll={10} focused width={140} height={8} />);
    const frame = await ui.waitForFrame('newer above');
    expect(frame).toContain('(10 newer above)');
    expect(frame).toContain('event 489');
    expect(frame).not.toContain('event 499');
  });
});

describe('ArchivePane', () => {
  it('last archived WAL and its age, failures, backlog and the archive.log tail', async () => {
    const s = fakePatroni4Snapshot();
    const ui = renderInk(<ArchivePane archiving={s.archiving} now={FAKE_NOW} focused={false} width={120} height={10} />);
    const frame = await ui.waitForFrame('archive.log');
    expect(frame).toContain('last archived 000000030000000000000004 5m 00s ago');
    expect(frame).toContain('✗ FAILING');
    expect(frame).toContain('failed 7 · last failure 000000030000000000000005 10s ago');
    expect(frame).toContain('backlog 3 segments waiting');
    expect(frame).toContain('ERROR: barman-wal-archive: connection refused');
  });
});

describe('BackupsPane', () => {
  it('recovery window, newest backup age, a running backup as RUNNING, then backups newest first', async () => {
    const s = fakePatroni4Snapshot();
    const ui = renderInk(<BackupsPane backups={s.backups} now={FAKE_NOW} scroll={0} focused={false} width={120} height={10} />);
    const frame = await ui.waitForFrame('DURATION');
    expect(frame).toContain('recovery window');
    expect(frame).toContain('newest backup 1h 59m old');
    expect(frame).toContain('⟳ RUNNING 20250314T115800 started 2m 00s ago');
    const rows = frame.split('\n').filter((l) => /\d{8}T\d{6}/.test(l) && !l.includes('⟳ RUNNING 2025'));
    expect(rows[0]).toMatch(/⟳ 20250314T115800\s+RUNNING .* running\s+2m 00s\s+31\.4 MB\s+16\.0 MB/);
    expect(rows[1]).toMatch(/✓ 20250314T100000\s+DONE .*42s\s+31\.4 MB\s+16\.0 MB/);
  });

  it('renders only the rows that fit, also with 200 backups', async () => {
    const big = fakeLargeCluster();
    const ui = renderInk(<BackupsPane backups={big.snapshot.backups} now={FAKE_NOW} scroll={0} focused width={120} height={8} />);
    const frame = await ui.waitForFrame('DURATION');
    expect(frame.split('\n').length).toBeLessThanOrEqual(8);
    expect(frame).toContain('200 in Barman');
  });
});

describe('HelpOverlay', () => {
  it('lists every binding of the keymap; in read-only mode the operations say why once', async () => {
    const entries = helpEntries({ readOnly: true, operationsAvailable: false, focusedPane: 'members', selectedMember: 'db1' });
    const ui = renderInk(<HelpOverlay entries={entries} width={200} height={40} />);
    const frame = await ui.waitForFrame('Operations');
    for (const command of KEYMAP) expect(frame, command.id).toContain(`${formatKeys(command.keys)}`);
    expect(frame.split(READ_ONLY_REASON).length - 1).toBe(1);
  });

  it('fits 80×23 in two columns, every binding on screen', async () => {
    const entries = helpEntries({ readOnly: false, operationsAvailable: false, focusedPane: 'members' });
    const ui = renderInk(<HelpOverlay entries={entries} width={80} height={23} />, { columns: 80, rows: 24 });
    const frame = await ui.waitForFrame('Operations');
    for (const category of ['Navigation', 'View', 'Text input', 'Application', 'Operations', 'Export']) expect(frame).toContain(category);
    for (const command of KEYMAP) expect(frame, command.id).toContain(formatKeys(command.keys));
    expect(frame).toContain('not available yet: operations come');
  });
});

describe('CommandPalette', () => {
  it('lists matching commands with keys and the disabled reason', async () => {
    const context = { readOnly: false, operationsAvailable: false, focusedPane: 'members' as const };
    const ui = renderInk(<CommandPalette query="restart" items={paletteItems('restart', context)} selectedIndex={0} width={120} height={6} />);
    const frame = await ui.waitForFrame('Restart');
    expect(frame).toMatch(/› r +Restart PostgreSQL on the selected member ✗ not available yet/);
  });
});

describe('TooSmall', () => {
  it('says what is needed and what there is', async () => {
    const ui = renderInk(<TooSmall columns={60} rows={20} minColumns={80} minRows={24} />, { columns: 60, rows: 20 });
    const frame = await ui.waitForFrame('too small');
    expect(frame).toContain('terminal too small (need 80×24)');
    expect(frame).toContain('now 60×20');
  });
});
