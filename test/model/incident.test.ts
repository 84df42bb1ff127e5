import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveSnapshot } from '../../src/model/derive.js';
import { EventLogFile } from '../../src/model/event-log.js';
import { IncidentTracker, RESUME_WINDOW_MS, failoverCandidates } from '../../src/model/incident.js';
import type { ClusterSnapshot } from '../../src/model/snapshot.js';
import { auditEntries, formatTimelineMarkdown, modelEntries, parseSince } from '../../src/cli/timeline-command.js';
import { FAKE_NOW, fakeContext, fakeHealthyReadings, fakeReplication } from './fake-readings.js';

/** A FAKE cluster (fake readings through the real derivation) whose leader db1 dies at FAKE_NOW. */
function snapshotAt(now: number, change?: (r: ReturnType<typeof fakeHealthyReadings>) => void): ClusterSnapshot {
  const r = fakeHealthyReadings();
  change?.(r);
  return deriveSnapshot(r, fakeContext({ now }));
}

const dead = { member: 'db1', at: FAKE_NOW, restOk: false, restError: 'connection refused', sqlOk: false, sqlError: 'connection refused' };
const alive = { member: 'db1', at: FAKE_NOW, restOk: true, sqlOk: true };

describe('failoverCandidates', () => {
  it('orders replicas as Patroni would and says why the others are passed over', () => {
    const snapshot = snapshotAt(FAKE_NOW, (r) => {
      r.postgres.db1?.replication.splice(0, 2, fakeReplication('db2', 5 * 1024 * 1024), fakeReplication('db3', 0));
      if (r.postgres.db3) r.postgres.db3.receiveLsn = '0/6000000';
      if (r.postgres.db2) r.postgres.db2.receiveLsn = '0/5800000';
    });
    const candidates = failoverCandidates(snapshot, 'db1');
    expect(candidates.map((c) => [c.name, c.eligible, c.reason])).toEqual([
      ['db3', true, undefined],
      ['db2', false, 'lags 5.0 MB > 1.0 MB (maximum_lag_on_failover)'],
    ]);
  });

  it('a nofailover replica is never a candidate', () => {
    const snapshot = snapshotAt(FAKE_NOW, (r) => {
      const db2 = r.cluster?.members[1];
      if (db2) db2.nofailover = true;
    });
    expect(failoverCandidates(snapshot, 'db1').find((c) => c.name === 'db2')).toMatchObject({ eligible: false, reason: 'nofailover tag' });
  });
});

describe('IncidentTracker', () => {
  it('flags the leader, counts down to the lease, follows the election, the RTO and the rejoin', () => {
    const tracker = new IncidentTracker();
    expect(tracker.update({ snapshot: snapshotAt(FAKE_NOW - 500), leaderProbe: alive, now: FAKE_NOW - 500 }).view).toBeUndefined();

    const first = tracker.update({ snapshot: snapshotAt(FAKE_NOW), leaderProbe: dead, dcsReadAt: FAKE_NOW - 200, now: FAKE_NOW });
    expect(first.view?.phase).toBe('leader-unreachable');
    expect(first.view?.witnesses.map((w) => w.source)).toEqual(['rest', 'sql']);
    expect(first.view?.lease?.expiresAt).toBe(FAKE_NOW - 200 + 25_000);
    expect(first.view?.autoFailover).toBe(true);
    expect(first.transitions[0]?.message).toMatch(/^leader db1 unreachable \(REST API: connection refused; PostgreSQL: connection refused\)$/);

    // HAProxy marks it down and the replicas lose their WAL receivers: more witnesses, first-seen kept.
    const corroborated = tracker.update({
      snapshot: snapshotAt(FAKE_NOW + 1000, (r) => {
        if (r.haproxy) r.haproxy.writeTargets = [];
        for (const name of ['db2', 'db3']) {
          const replica = r.postgres[name];
          if (replica) replica.walReceiver = { status: 'waiting' };
        }
      }),
      leaderProbe: dead,
      now: FAKE_NOW + 1000,
    });
    expect(corroborated.view?.witnesses.map((w) => [w.source, w.at])).toEqual([
      ['rest', FAKE_NOW],
      ['sql', FAKE_NOW],
      ['haproxy', FAKE_NOW + 1000],
      ['replicas', FAKE_NOW + 1000],
    ]);

    // The lease expires: the key is gone.
    const expired = tracker.update({ snapshot: snapshotAt(FAKE_NOW + 25_000, (r) => r.dcs && delete r.dcs.leader), leaderProbe: dead, now: FAKE_NOW + 25_000 });
    expect(expired.view?.phase).toBe('electing');
    expect(expired.transitions.map((t) => t.kind)).toEqual(['lease-expired']);

    // db2 takes the key.
    const promoted = (now: number, oldLeaderState?: Partial<{ rest: boolean; role: 'replica'; timeline: number; streaming: boolean }>) =>
      snapshotAt(now, (r) => {
        if (r.dcs?.leader) r.dcs.leader.holder = 'db2';
        for (const m of r.cluster?.members ?? []) {
          m.role = m.name === 'db2' ? 'leader' : 'replica';
          m.timeline = m.name === 'db1' ? (oldLeaderState?.timeline ?? 1) : 2;
        }
        if (r.postgres.db2) Object.assign(r.postgres.db2, { inRecovery: false, replication: oldLeaderState?.streaming ? [fakeReplication('db1'), fakeReplication('db3')] : [fakeReplication('db3')] });
        if (!oldLeaderState?.rest) r.sources['patroni:db1'] = { source: 'patroni', key: 'patroni:db1', error: 'connection refused', failingSince: FAKE_NOW };
        if (!oldLeaderState?.rest) r.sources['postgres:db1'] = { source: 'postgres', key: 'postgres:db1', error: 'connection refused', failingSince: FAKE_NOW };
        if (r.haproxy) r.haproxy.writeTargets = ['db2'];
      });
    const elected = tracker.update({ snapshot: promoted(FAKE_NOW + 26_000), leaderProbe: dead, now: FAKE_NOW + 26_000 });
    expect(elected.view).toMatchObject({ phase: 'failed-over', newLeader: 'db2', newLeaderAt: FAKE_NOW + 26_000 });
    expect(elected.transitions[0]?.message).toBe('db2 is the new leader 26.0 s after db1 was flagged (predicted: db2 or db3)');

    const writes = tracker.update({
      snapshot: promoted(FAKE_NOW + 26_500),
      writeProbe: { at: FAKE_NOW + 26_500, ok: true, port: 15432, inRecovery: false },
      now: FAKE_NOW + 26_500,
    });
    expect(writes.view?.writesAt).toBe(FAKE_NOW + 26_500);
    expect(writes.transitions[0]?.message).toBe('writes flow through the write port to db2: RTO 26.5 s as observed');
    expect(writes.view?.checklist.find((c) => c.id === 'rejoined')?.label).toBe('rejoined as a replica on timeline 2');
    expect(writes.view?.checklist.map((c) => [c.id, c.done])).toEqual([
      ['writes', true],
      ['back', false],
      ['rejoined', false],
      ['streaming', false],
    ]);

    const back = tracker.update({ snapshot: promoted(FAKE_NOW + 40_000, { rest: true, timeline: 2, streaming: true }), now: FAKE_NOW + 40_000 });
    expect(back.transitions.map((t) => t.kind)).toEqual(['old-leader-back', 'rejoined', 'incident-closed']);
    expect(back.view?.phase).toBe('recovered');
    expect(tracker.update({ snapshot: promoted(FAKE_NOW + 101_000, { rest: true, timeline: 2, streaming: true }), now: FAKE_NOW + 101_000 }).view).toBeUndefined();
  });

  it('says no automatic failover will happen when the cluster is paused', () => {
    const tracker = new IncidentTracker();
    tracker.update({ snapshot: snapshotAt(FAKE_NOW - 500), leaderProbe: alive, now: FAKE_NOW - 500 });
    const paused = snapshotAt(FAKE_NOW, (r) => r.cluster && (r.cluster.paused = true));
    expect(tracker.update({ snapshot: paused, leaderProbe: dead, now: FAKE_NOW }).view?.autoFailover).toBe(false);
  });

  it('a blip (the leader answers again before its lease runs out) closes without a failover', () => {
    const tracker = new IncidentTracker();
    tracker.update({ snapshot: snapshotAt(FAKE_NOW), leaderProbe: dead, now: FAKE_NOW });
    const { view, transitions } = tracker.update({ snapshot: snapshotAt(FAKE_NOW + 1500), leaderProbe: alive, now: FAKE_NOW + 1500 });
    expect(view).toMatchObject({ phase: 'recovered', recoveredWithoutFailover: true });
    expect(transitions[0]?.message).toBe('leader db1 answers again; no failover happened');
  });

  it("a switchover's short PostgreSQL restart is no incident; PostgreSQL down for 5 s while Patroni answers is", () => {
    const tracker = new IncidentTracker();
    const sqlDown = (at: number) => ({ member: 'db1', at, restOk: true, sqlOk: false, sqlError: 'the database system is shutting down' });
    expect(tracker.update({ snapshot: snapshotAt(FAKE_NOW), leaderProbe: sqlDown(FAKE_NOW), now: FAKE_NOW }).view).toBeUndefined();
    expect(tracker.update({ snapshot: snapshotAt(FAKE_NOW + 2000), leaderProbe: sqlDown(FAKE_NOW + 2000), now: FAKE_NOW + 2000 }).view).toBeUndefined();
    expect(tracker.update({ snapshot: snapshotAt(FAKE_NOW + 2500), leaderProbe: alive, now: FAKE_NOW + 2500 }).view).toBeUndefined();
    tracker.update({ snapshot: snapshotAt(FAKE_NOW + 3000), leaderProbe: sqlDown(FAKE_NOW + 3000), now: FAKE_NOW + 3000 });
    const held = tracker.update({ snapshot: snapshotAt(FAKE_NOW + 8000), leaderProbe: sqlDown(FAKE_NOW + 8000), now: FAKE_NOW + 8000 });
    expect(held.view?.witnesses.map((w) => w.source)).toEqual(['sql']);
  });

  it('a cockpit restarted mid-incident picks it up from its event log: same first-seen time, no second flag', () => {
    const first = new IncidentTracker();
    first.update({ snapshot: snapshotAt(FAKE_NOW - 500), leaderProbe: alive, now: FAKE_NOW - 500 });
    const flagged = first.update({ snapshot: snapshotAt(FAKE_NOW), leaderProbe: dead, now: FAKE_NOW });
    const events = flagged.transitions.map((t) => ({ at: t.at, kind: 'incident' as const, message: t.message, member: t.member }));

    const restarted = new IncidentTracker();
    restarted.resume(events, FAKE_NOW + 3000);
    // Before the DCS is read (no leader key yet), the lease is not taken for expired.
    const early = restarted.update({ snapshot: snapshotAt(FAKE_NOW + 3000, (r) => { delete r.dcs; delete r.sources.dcs; }), now: FAKE_NOW + 3000 });
    expect(early.view).toMatchObject({ phase: 'leader-unreachable', oldLeader: 'db1', firstSeenAt: FAKE_NOW });
    expect(early.transitions).toEqual([]);
    const later = restarted.update({ snapshot: snapshotAt(FAKE_NOW + 4000), leaderProbe: dead, now: FAKE_NOW + 4000 });
    expect(later.transitions).toEqual([]);
    expect(later.view?.witnesses.map((w) => w.source)).toEqual(['rest', 'sql']);

    // A closed incident, or one whose last event is too old, is not picked up.
    const closed = new IncidentTracker();
    closed.resume([...events, { at: FAKE_NOW + 2000, kind: 'incident', message: 'leader db1 answers again; no failover happened', member: 'db1' }], FAKE_NOW + 3000);
    expect(closed.update({ snapshot: snapshotAt(FAKE_NOW + 3000), leaderProbe: alive, now: FAKE_NOW + 3000 }).view).toBeUndefined();
    const stale = new IncidentTracker();
    stale.resume(events, FAKE_NOW + RESUME_WINDOW_MS + 1);
    expect(stale.update({ snapshot: snapshotAt(FAKE_NOW + RESUME_WINDOW_MS + 1), leaderProbe: alive, now: FAKE_NOW + RESUME_WINDOW_MS + 1 }).view).toBeUndefined();
  });

  it('a new loss while the last incident still lingers on screen is flagged at once', () => {
    const tracker = new IncidentTracker();
    tracker.update({ snapshot: snapshotAt(FAKE_NOW), leaderProbe: dead, now: FAKE_NOW });
    expect(tracker.update({ snapshot: snapshotAt(FAKE_NOW + 1500), leaderProbe: alive, now: FAKE_NOW + 1500 }).view?.phase).toBe('recovered');
    const again = tracker.update({ snapshot: snapshotAt(FAKE_NOW + 5000), leaderProbe: dead, now: FAKE_NOW + 5000 });
    expect(again.view).toMatchObject({ phase: 'leader-unreachable', oldLeader: 'db1', firstSeenAt: FAKE_NOW + 5000 });
    expect(again.transitions.map((t) => t.kind)).toEqual(['leader-unreachable']);
  });

  it('the old leader taking its key again after it expired closes the incident without a failover', () => {
    const tracker = new IncidentTracker();
    tracker.update({ snapshot: snapshotAt(FAKE_NOW), leaderProbe: dead, now: FAKE_NOW });
    expect(tracker.update({ snapshot: snapshotAt(FAKE_NOW + 25_000, (r) => r.dcs && delete r.dcs.leader), leaderProbe: dead, now: FAKE_NOW + 25_000 }).view?.phase).toBe('electing');
    const back = tracker.update({ snapshot: snapshotAt(FAKE_NOW + 40_000), leaderProbe: alive, now: FAKE_NOW + 40_000 });
    expect(back.view).toMatchObject({ phase: 'recovered', recoveredWithoutFailover: true });
    expect(back.transitions[0]?.message).toBe('leader db1 answers again and holds the leader key; no failover happened');
  });

  it('HAProxy alone does not make an incident (the leader itself must fail to answer)', () => {
    const tracker = new IncidentTracker();
    const snapshot = snapshotAt(FAKE_NOW, (r) => r.haproxy && (r.haproxy.writeTargets = []));
    expect(tracker.update({ snapshot, leaderProbe: alive, now: FAKE_NOW }).view).toBeUndefined();
  });
});

describe('the event log on disk and the timeline export', () => {
  it('keeps events across restarts, rotates within its bound, and skips a line cut short', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-events-'));
    const file = path.join(dir, 'lab.jsonl');
    const writer = new EventLogFile(file, 2000, 2);
    expect(writer.acquire()).toBe(true);
    const second = new EventLogFile(file);
    expect(second.acquire()).toBe(false);
    for (let i = 0; i < 100; i++) writer.append([{ at: FAKE_NOW + i, kind: 'member-state', message: `event ${i}` }]);
    fs.appendFileSync(file, '{"at": 12, "kind": "mem');
    writer.close();
    const read = new EventLogFile(file, 2000, 2).read();
    expect(read.at(-1)?.message).toBe('event 99');
    expect(read.length).toBeLessThan(100);
    expect(read.length).toBeGreaterThan(20);
    const total = fs.readdirSync(dir).filter((f) => f.startsWith('lab.jsonl')).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
    expect(total).toBeLessThan(3 * 2000 + 200);
    expect(new EventLogFile(file).read(FAKE_NOW + 95).map((e) => e.message)).toEqual(['event 95', 'event 96', 'event 97', 'event 98', 'event 99']);
  });

  it('merges model events and audit lines in order, as Markdown', () => {
    const audit = [
      JSON.stringify({ time: new Date(FAKE_NOW + 10).toISOString(), cluster: 'lab', operation: 'switchover', event: 'end', result: 'done', user: 'alice' }),
      JSON.stringify({ time: new Date(FAKE_NOW + 10).toISOString(), cluster: 'other', operation: 'switchover', event: 'end' }),
      'not json',
    ].join('\n');
    const entries = [
      ...modelEntries([
        { at: FAKE_NOW, kind: 'incident', severity: 'critical', message: 'leader db1 unreachable (REST API: connection refused)' },
        { at: FAKE_NOW + 20, kind: 'leader-changed', message: 'leader changed: db1 → db2' },
        { at: FAKE_NOW + 5, kind: 'operation', message: 'switchover started' },
      ]),
      ...auditEntries(audit, 'lab', FAKE_NOW - 1000),
    ].sort((a, b) => a.at - b.at);
    expect(entries.map((e) => e.message)).toEqual([
      'leader db1 unreachable (REST API: connection refused)',
      'switchover end → done by alice',
      'leader changed: db1 → db2',
    ]);
    const markdown = formatTimelineMarkdown('lab', entries, FAKE_NOW - 1000);
    expect(markdown.split('\n').slice(2, 5)).toEqual([
      '| time (UTC) | source | what |',
      '|---|---|---|',
      '| 2026-11-21 12:00:00.000 | incident | **leader db1 unreachable (REST API: connection refused)** |',
    ]);
  });

  it('reads --since as an ISO time or an age, and refuses anything else', () => {
    expect(parseSince('2026-11-21T10:00:00Z')).toBe(Date.parse('2026-11-21T10:00:00Z'));
    expect(parseSince('30m', FAKE_NOW)).toBe(FAKE_NOW - 30 * 60_000);
    expect(() => parseSince('yesterday')).toThrow(/--since must be an ISO 8601 time/);
  });
});
