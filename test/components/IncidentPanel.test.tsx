import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { IncidentPanel, incidentPanelHeight, wrappedRows } from '../../components/IncidentPanel.js';
import type { IncidentView } from '../../src/model/snapshot.js';
import { App } from '../../src/ui/App.js';
import { FakeClusterStore } from '../support/fake-store.js';
import { FAKE_NOW, fakeLabSnapshot } from '../support/fake-snapshots.js';
import { renderInk } from '../support/ink.js';

afterEach(() => cleanup());

/** A FAKE leader loss: db1 gone 4 s ago, its lease 17 s from expiry, db2 and db3 tied, db4 nofailover. */
function fakeIncident(overrides: Partial<IncidentView> = {}): IncidentView {
  return {
    phase: 'leader-unreachable',
    oldLeader: 'db1',
    firstSeenAt: FAKE_NOW - 4000,
    witnesses: [
      { source: 'rest', at: FAKE_NOW - 4000, detail: 'REST API: connection refused' },
      { source: 'haproxy', at: FAKE_NOW - 3000, detail: 'HAProxy write backend: db1 DOWN' },
    ],
    lease: { expiresAt: FAKE_NOW + 17_000, readAt: FAKE_NOW - 1000, grantedTtlSeconds: 30 },
    autoFailover: true,
    quorumLost: false,
    candidates: [
      { name: 'db2', eligible: true, walPosition: 100, replayLagBytes: 0, replayLagSeconds: 0 },
      { name: 'db3', eligible: true, walPosition: 100, replayLagBytes: 0, replayLagSeconds: 0 },
      { name: 'db4', eligible: false, reason: 'nofailover tag', walPosition: 90 },
    ],
    checklist: [],
    ...overrides,
  };
}

describe('IncidentPanel', () => {
  it('counts the lease down, names a tie as "one of", and says why a candidate is passed over', async () => {
    let now = FAKE_NOW;
    const incident = fakeIncident();
    const ui = renderInk(<IncidentPanel incident={incident} now={now} width={160} />, { columns: 160, rows: 20 });
    const frame = await ui.waitForFrame('LEADER LOST');
    expect(frame).toContain('db1 unreachable for 4 s · leader lease expires in 17 s · Patroni will promote one of: db2 (replay lag 0 B, 0 s), db3 (replay lag 0 B, 0 s)');
    expect(frame).toContain('passed over: db4 (nofailover tag)');
    expect(frame).toMatch(/REST API: connection refused \(first seen \d\d:\d\d:\d\d\)/);
    now = FAKE_NOW + 18_000;
    const later = renderInk(<IncidentPanel incident={incident} now={now} width={160} />, { columns: 160, rows: 20 });
    expect(await later.waitForFrame('LEADER LOST')).toContain('db1 unreachable for 22 s · leader lease expired ·');
  });

  it('one predicted leader is named without "one of"', async () => {
    const incident = fakeIncident({ candidates: [{ name: 'db3', eligible: true, walPosition: 100, replayLagBytes: 0, replayLagSeconds: 0 }, { name: 'db2', eligible: true, walPosition: 80, replayLagBytes: 2048, replayLagSeconds: 1 }] });
    const ui = renderInk(<IncidentPanel incident={incident} now={FAKE_NOW} width={160} />, { columns: 160, rows: 20 });
    const frame = await ui.waitForFrame('Patroni will promote');
    expect(frame).toContain('Patroni will promote db3 (replay lag 0 B, 0 s)');
    expect(frame).not.toContain('one of');
  });

  it('says loudly that a paused cluster will not fail over, and explains a quorum loss', async () => {
    const ui = renderInk(<IncidentPanel incident={fakeIncident({ autoFailover: false, quorumLost: true })} now={FAKE_NOW} width={200} />, { columns: 200, rows: 20 });
    const frame = await ui.waitForFrame('MAINTENANCE MODE');
    expect(frame).toContain('MAINTENANCE MODE: no automatic failover will happen');
    expect(frame).toContain('Patroni will promote nobody (maintenance mode)');
    expect(frame).toContain('etcd quorum lost: Patroni keeps the leader read-write only while it can renew its key; at ttl it demotes it');
  });

  it('after the failover: the observed RTO and the checklist ticking', async () => {
    const incident = fakeIncident({
      phase: 'failed-over',
      leaseExpiredAt: FAKE_NOW + 17_000,
      newLeader: 'db2',
      newLeaderAt: FAKE_NOW + 23_500,
      writesAt: FAKE_NOW + 24_800,
      checklist: [
        { id: 'writes', label: 'writes through the write port', done: true },
        { id: 'old-back', label: 'old leader back', done: false },
      ],
    });
    const ui = renderInk(<IncidentPanel incident={incident} now={FAKE_NOW + 30_000} width={160} />, { columns: 160, rows: 20 });
    const frame = await ui.waitForFrame('INCIDENT');
    expect(frame).toContain('db1 lost; new leader db2 after 27.5 s · writes after 28.8 s (RTO as observed)');
    expect(frame).toContain('✓ writes through the write port');
    expect(frame).toContain('○ old leader back');
  });

  it('at 80 columns the panel is as tall as its wrapped text: the candidates and every checklist item show', async () => {
    const losing = fakeIncident({ candidates: fakeIncident().candidates.filter((c) => c.eligible) });
    const ui = renderInk(<IncidentPanel incident={losing} now={FAKE_NOW} width={80} />, { columns: 80, rows: 24 });
    const frame = await ui.waitForFrame('LEADER LOST');
    expect(frame.split('\n').filter((l) => l.trim() !== '')).toHaveLength(incidentPanelHeight(losing, FAKE_NOW, 80));
    expect(frame.replace(/[║\s]+/g, ' ')).toContain('Patroni will promote one of: db2 (replay lag 0 B, 0 s), db3 (replay lag 0 B, 0 s)');
    const over = fakeIncident({
      phase: 'recovered',
      newLeader: 'db2',
      newLeaderAt: FAKE_NOW + 23_500,
      writesAt: FAKE_NOW + 24_800,
      checklist: [
        { id: 'writes', label: 'writes through the write port', done: true },
        { id: 'back', label: 'old leader back (its Patroni answers)', done: true },
        { id: 'rejoined', label: 'rejoined as a replica on timeline 2', done: true },
        { id: 'streaming', label: 'streaming from db2', done: true },
      ],
    });
    const after = renderInk(<IncidentPanel incident={over} now={FAKE_NOW + 60_000} width={80} />, { columns: 80, rows: 24 });
    const done = await after.waitForFrame('INCIDENT OVER');
    expect(done.split('\n').filter((l) => l.trim() !== '')).toHaveLength(incidentPanelHeight(over, FAKE_NOW + 60_000, 80));
    expect(done).toContain('✓ streaming from db2');
  });

  it('counts wrapped rows the way Ink wraps them', () => {
    expect(wrappedRows('aaaa bbbb', 9)).toBe(1);
    expect(wrappedRows('aaaa bbbb', 8)).toBe(2);
    // A word that fills its row pushes the next space onto a row of its own start (wrap-ansi, trim off).
    expect(wrappedRows('aaaa bbbb cc', 9)).toBe(2);
    expect(wrappedRows('x '.repeat(3) + 'y'.repeat(25), 10)).toBe(4); // "x x x ", then 25 y broken hard
  });

  it('sits at the top of the cockpit and of the wallboard', async () => {
    for (const mode of ['cockpit', 'watch'] as const) {
      const store = new FakeClusterStore({ ...fakeLabSnapshot(), incident: fakeIncident() });
      const ui = renderInk(<App store={store} mode={mode} readOnly={false} batchMs={0} tickMs={0} clock={() => FAKE_NOW} />, { columns: 120, rows: 40 });
      const frame = await ui.waitForFrame('LEADER LOST');
      expect(frame).toContain('leader lease expires in 17 s');
      expect(frame.indexOf('LEADER LOST')).toBeLessThan(frame.indexOf('Members') === -1 ? frame.indexOf('ALERTS') : frame.indexOf('Members'));
      ui.unmount();
    }
  });
});

describe('T: timeline export', () => {
  it('runs the export it is given and shows the path; without one it says why', async () => {
    const written: string[] = [];
    const fakeExport = () => {
      written.push('x');
      return '/tmp/pgcockpit-timeline-lab-20250314T120000Z.md';
    };
    const store = new FakeClusterStore(fakeLabSnapshot());
    const ui = renderInk(<App store={store} mode="cockpit" readOnly={false} batchMs={0} tickMs={0} clock={() => FAKE_NOW} exportTimeline={fakeExport} />, { columns: 120, rows: 40 });
    await ui.waitForFrame('Members');
    await ui.pressAndWaitFor('T', 'timeline written to /tmp/pgcockpit-timeline-lab-20250314T120000Z.md');
    expect(written).toHaveLength(1);
    ui.unmount();
    const without = renderInk(<App store={new FakeClusterStore(fakeLabSnapshot())} mode="cockpit" readOnly={false} batchMs={0} tickMs={0} clock={() => FAKE_NOW} />, { columns: 120, rows: 40 });
    await without.waitForFrame('Members');
    await without.pressAndWaitFor('T', 'no event log here (pgcockpit timeline)');
  });
});
