import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { Header, headerHeight } from '../../components/Header.js';
import { fakeBrokenReplicaSnapshot, fakeLabSnapshot, fakePatroni4Snapshot, fakeStaleSnapshot, FAKE_NOW } from '../support/fake-snapshots.js';
import { renderInk } from '../support/ink.js';

afterEach(() => cleanup());

describe('Header', () => {
  it('names the cluster, the leader, etcd quorum, HAProxy routing, alerts and the last update', async () => {
    const ui = renderInk(<Header snapshot={fakeLabSnapshot()} now={FAKE_NOW} width={120} />);
    const frame = await ui.waitForFrame('leader');
    expect(frame).toContain('lab · scope patroni1');
    expect(frame).toContain('leader ★ db1 TL 3');
    expect(frame).toContain('etcd ✓ quorum healthy 3/3');
    expect(frame).toContain('HAProxy write→db1 read→db2,db3');
    expect(frame).toContain('alerts ✗0 crit ▲0 warn ·0 info');
    expect(frame).toContain('(1s ago)');
    expect(frame).not.toContain('STALE');
    expect(frame).not.toContain('PAUSED');
  });

  it('marks each failing source STALE with the age of its data and the error', async () => {
    const ui = renderInk(<Header snapshot={fakeStaleSnapshot()} now={FAKE_NOW} width={120} />);
    const frame = await ui.waitForFrame('STALE');
    expect(frame).toContain('STALE barman: data 2m 10s old');
    expect(frame).toContain('STALE patroni: data 45s old — connect ECONNREFUSED 127.0.0.1:18008');
  });

  it('shows PAUSED loudly and the scheduled switchover (Patroni 4.x data)', async () => {
    const ui = renderInk(<Header snapshot={fakePatroni4Snapshot()} now={FAKE_NOW} width={120} />);
    const frame = await ui.waitForFrame('PAUSED');
    expect(frame).toContain('⏸ PAUSED: no automatic failover');
    expect(frame).toMatch(/⏲ switchover at \d\d:\d\d:\d\d db1→db2/);
  });

  it('says NO LEADER and a write route that is not the leader', async () => {
    const snapshot = { ...fakeLabSnapshot(), leader: undefined, haproxy: { servers: [], writeTargets: [], readTargets: ['db2'] } };
    const ui = renderInk(<Header snapshot={snapshot} now={FAKE_NOW} width={120} />);
    const frame = await ui.waitForFrame('NO LEADER');
    expect(frame).toContain('write→none ✗');
  });

  it('counts alerts by severity', async () => {
    const ui = renderInk(<Header snapshot={fakeBrokenReplicaSnapshot()} now={FAKE_NOW} width={120} />);
    expect(await ui.waitForFrame('alerts')).toContain('✗1 crit');
  });

  it('knows its own height, so the panes below can be sized', () => {
    expect(headerHeight(fakeLabSnapshot(), FAKE_NOW, 160)).toBe(1);
    expect(headerHeight(fakeLabSnapshot(), FAKE_NOW, 80)).toBe(3);
    expect(headerHeight(fakeStaleSnapshot(), FAKE_NOW, 160)).toBe(3);
  });
});
