import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { MembersTable, memberColumns } from '../../components/MembersTable.js';
import { fakeBrokenReplicaSnapshot, fakeLaggingSnapshot, fakeLabSnapshot, fakePatroni4Snapshot } from '../support/fake-snapshots.js';
import { renderInk } from '../support/ink.js';

afterEach(() => cleanup());

const MB = 1024 * 1024;

function lineOf(frame: string, name: string): string {
  return frame.split('\n').find((line) => new RegExp(`\\s${name}\\s`).test(line)) ?? '';
}

describe('MembersTable', () => {
  it('shows every member with role, state, timeline, LSN, lags and reachability; the leader as ★', async () => {
    const s = fakeLabSnapshot();
    const ui = renderInk(<MembersTable members={s.members} leader="db1" thresholdBytes={MB} selectedMember="db1" focused width={120} height={10} />);
    const frame = await ui.waitForFrame('db3');
    expect(frame).toContain('NAME');
    expect(frame).toContain('RECEIVE LAG');
    expect(frame).toContain('REPLAY LAG');
    expect(frame).toContain('REST SQL');
    expect(lineOf(frame, 'db1')).toMatch(/›★ db1\s+leader\s+running\s+3 0\/5000060/);
    expect(lineOf(frame, 'db2')).toMatch(/✓ db2\s+replica\s+streaming\s+3 0\/5000060\s+0 B 0s\s+0 B 0s\s+✓\s+✓/);
    expect(lineOf(frame, 'db3')).toContain('0 B 0.2s');
  });

  it('a lagging replica reads as ▲ with its lag in bytes and seconds and the threshold — not by color', async () => {
    const s = fakeLaggingSnapshot();
    const ui = renderInk(<MembersTable members={s.members} leader="db1" alerts={s.alerts} thresholdBytes={MB} focused={false} width={120} height={10} />);
    const frame = await ui.waitForFrame('db2');
    const row = lineOf(frame, 'db2');
    expect(row).toMatch(/▲ db2/);
    expect(row).toContain('1.5 MB 3s');
    expect(row).toContain('12.0 MB 1m 05s');
    expect(row).toContain('lagging > 1.0 MB');
    expect(frame).toContain('lag threshold 1.0 MB');
  });

  it('a broken replica reads as ✗ with its state and what is down', async () => {
    const s = fakeBrokenReplicaSnapshot();
    const ui = renderInk(<MembersTable members={s.members} leader="db1" alerts={s.alerts} thresholdBytes={MB} focused={false} width={120} height={10} />);
    const row = lineOf(await ui.waitForFrame('db3'), 'db3');
    expect(row).toMatch(/✗ db3\s+replica\s+stopped/);
    expect(row).toContain('unknown');
    expect(row).toMatch(/✓\s+✗/);
  });

  it('shows pending restart and tags such as nofailover (Patroni 4.x data)', async () => {
    const s = fakePatroni4Snapshot();
    const ui = renderInk(<MembersTable members={s.members} leader="db1" thresholdBytes={MB} focused={false} width={140} height={10} />);
    const frame = await ui.waitForFrame('db3');
    expect(lineOf(frame, 'db1')).toContain('pending restart');
    expect(lineOf(frame, 'db3')).toContain('nofailover');
    expect(lineOf(frame, 'db3')).toContain('256 B 0s');
    expect(lineOf(frame, 'db3')).toContain('4.0 kB 0.4s');
  });

  it('fits 80 columns: drops LSN, keeps both lags in bytes and seconds', () => {
    const columns = memberColumns(80, 4);
    expect(columns.map((c) => c.key)).toEqual(['marker', 'name', 'role', 'state', 'tl', 'recv', 'replay', 'reach', 'notes']);
    expect(columns.reduce((n, c) => n + c.width + 1, 0)).toBeLessThanOrEqual(80);
  });

  it('scrolls to keep the selected member visible', async () => {
    const s = fakeLabSnapshot();
    const ui = renderInk(<MembersTable members={s.members} leader="db1" thresholdBytes={MB} selectedMember="db3" focused width={120} height={3} />);
    const frame = await ui.waitForFrame('db3');
    expect(frame).toContain('rows 3-3');
    expect(frame).not.toMatch(/\sdb1\s/);
  });
});
