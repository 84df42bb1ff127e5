import { describe, expect, it } from 'vitest';
import { SPLIT_BRAIN_HOLD_MS, deriveSnapshot } from '../../src/model/derive.js';
import { diffEvents } from '../../src/model/events.js';
import { FAKE_NOW, fakeContext, fakeHealthyReadings, fakeReplication } from './fake-readings.js';

const ids = (readings = fakeHealthyReadings(), context = fakeContext()) => deriveSnapshot(readings, context).alerts.map((a) => a.id);

describe('deriveSnapshot', () => {
  it('a healthy cluster: one leader, two streaming replicas, no alert, a recovery window', () => {
    const snapshot = deriveSnapshot(fakeHealthyReadings(), fakeContext());
    expect(snapshot.leader).toBe('db1');
    expect(snapshot.members.map((m) => [m.name, m.role, m.state])).toEqual([
      ['db1', 'leader', 'running'],
      ['db2', 'replica', 'streaming'],
      ['db3', 'replica', 'streaming'],
    ]);
    expect(snapshot.alerts).toEqual([]);
    expect(snapshot.backups.recoveryWindow).toEqual({ from: '2026-11-21T10:00:00Z', to: '2026-11-21T11:59:00Z', oldestBackupId: '20261121T100000' });
    expect(snapshot.backups.newestDoneAgeSeconds).toBe(119 * 60);
  });

  it('no leader is critical', () => {
    const r = fakeHealthyReadings();
    delete r.dcs?.leader;
    for (const m of r.cluster?.members ?? []) m.role = 'replica';
    const snapshot = deriveSnapshot(r, fakeContext());
    expect(snapshot.leader).toBeUndefined();
    expect(snapshot.alerts[0]).toMatchObject({ id: 'no-leader', severity: 'critical' });
  });

  it('split brain is raised only once it holds, not for the blink of a switchover', () => {
    const r = fakeHealthyReadings();
    (r.postgres.db2 as { inRecovery: boolean }).inRecovery = false;
    const pending = new Map<string, number>();
    expect(ids(r, fakeContext({ pending }))).not.toContain('split-brain');
    const later = deriveSnapshot(r, fakeContext({ pending, now: FAKE_NOW + SPLIT_BRAIN_HOLD_MS }));
    const splitBrain = later.alerts.find((a) => a.id === 'split-brain');
    expect(splitBrain?.severity).toBe('critical');
    expect(splitBrain?.message).toContain('db1 and db2 accept writes');
    // cleared: the pending mark goes too
    expect(ids(fakeHealthyReadings(), fakeContext({ pending, now: FAKE_NOW + SPLIT_BRAIN_HOLD_MS + 1 }))).not.toContain('split-brain');
    expect(pending.size).toBe(0);
  });

  it('lag over maximum_lag_on_failover says the figure and the limit', () => {
    const r = fakeHealthyReadings();
    r.postgres.db1?.replication.splice(0, 1, fakeReplication('db2', 12 * 1024 * 1024));
    const alert = deriveSnapshot(r, fakeContext()).alerts.find((a) => a.id === 'lag:db2');
    expect(alert?.message).toBe('db2 replay lag 12.0 MB > 1.0 MB (maximum_lag_on_failover); it cannot be promoted automatically.');
  });

  it('without the leader’s pg_stat_replication, replay lag comes from positions, not from Patroni’s received-WAL figure', () => {
    // Replay paused on db2: it receives everything (Patroni 3.x /cluster says lag 0) but replays nothing.
    const r = fakeHealthyReadings();
    r.sources['postgres:db1'] = { ...r.sources['postgres:db1'], source: 'postgres', key: 'postgres:db1', error: 'timeout after 3000 ms', failingSince: FAKE_NOW - 2000 };
    const leaderStatus = r.memberStatus.db1;
    if (leaderStatus) leaderStatus.walLsn = 0x5000060 + 3 * 1024 * 1024;
    Object.assign(r.postgres.db2 ?? {}, { replayLsn: '0/5000060', receiveLsn: '0/5300060', replayPaused: true });
    const db2 = deriveSnapshot(r, fakeContext()).members.find((m) => m.name === 'db2');
    expect(r.cluster?.members[1]?.replayLagBytes).toBe(0);
    expect(db2?.replayLagBytes).toBe(3 * 1024 * 1024);
    expect(db2?.receiveLagBytes).toBe(0);
    // Positions unknown: Patroni 3.x's figure counts received WAL, so it is no replay lag: unknown, with why.
    delete leaderStatus?.walLsn;
    const unknown = deriveSnapshot(r, fakeContext()).members.find((m) => m.name === 'db2');
    expect(unknown?.replayLagBytes).toBeUndefined();
    expect(unknown?.replayLagUnknown).toBe(
      "the leader db1's WAL position is unknown (postgres:db1: timeout after 3000 ms; patroni:db1: not read yet); Patroni's /cluster lag counts received WAL, not replayed",
    );
  });

  it('lag in seconds over the threshold', () => {
    const r = fakeHealthyReadings();
    r.postgres.db1?.replication.splice(1, 1, { ...fakeReplication('db3', 1000), replayLagSeconds: 45 });
    expect(deriveSnapshot(r, fakeContext()).alerts.find((a) => a.id === 'lag:db3')?.message).toBe('db3 replay lag 45 s > 30 s.');
  });

  it('a replica missing from the leader’s replication is not streaming; stopped is critical', () => {
    const r = fakeHealthyReadings();
    r.postgres.db1?.replication.splice(1, 1);
    const member = r.cluster?.members[2];
    if (member) member.state = 'stopped';
    // Its Patroni answers and says the same: PostgreSQL is stopped.
    Object.assign(r.memberStatus.db3 ?? {}, { state: 'stopped', rawState: 'stopped' });
    const snapshot = deriveSnapshot(r, fakeContext());
    expect(snapshot.members[2]?.state).toBe('stopped');
    expect(snapshot.alerts.find((a) => a.id === 'not-streaming:db3')).toMatchObject({ severity: 'critical', message: 'db3 is not streaming from db1 (state: stopped).' });
  });

  it('a member key in the DCS still saying "stopped" loses to the member’s own /patroni and the leader’s replication', () => {
    // After a restart Patroni rewrites its member key only at its next HA loop: /cluster lags the member.
    const r = fakeHealthyReadings();
    const db2 = r.cluster?.members[1];
    if (db2) Object.assign(db2, { state: 'stopped', rawState: 'stopped' });
    const snapshot = deriveSnapshot(r, fakeContext());
    expect(snapshot.members[1]).toMatchObject({ name: 'db2', state: 'streaming', patroniState: 'running' });
    // With its REST API down, /cluster's word is what there is.
    r.sources['patroni:db2'] = { ...r.sources['patroni:db2'], source: 'patroni', key: 'patroni:db2', error: 'connection refused', failingSince: FAKE_NOW - 4000 };
    expect(deriveSnapshot(r, fakeContext()).members[1]?.state).toBe('stopped');
  });

  it('a member whose REST and SQL both fail is unreachable, and stale sources are flagged', () => {
    const r = fakeHealthyReadings();
    for (const key of ['patroni:db3', 'postgres:db3']) r.sources[key] = { ...r.sources[key], source: 'patroni', key, error: 'connection refused', failingSince: FAKE_NOW - 4000 };
    const snapshot = deriveSnapshot(r, fakeContext());
    expect(snapshot.members[2]).toMatchObject({ state: 'unreachable', restReachable: false, sqlReachable: false, restError: 'connection refused' });
    expect(snapshot.alerts.map((a) => a.id)).toContain('unreachable:db3');
  });

  it('archiving failing, backlog, old backup, etcd degraded and lost, paused, write port off the leader', () => {
    const r = fakeHealthyReadings();
    const archiver = r.postgres.db1?.archiver;
    if (archiver) Object.assign(archiver, { failing: true, failedCount: 3, lastFailedWal: '000000010000000000000005', lastFailedAt: '2026-11-21T11:59:30Z', readyBacklog: 25 });
    r.backups = [{ id: 'old', status: 'DONE', beginTime: '2026-11-19T10:00:00Z', endTime: '2026-11-19T10:00:05Z' }];
    const etcd = r.etcd;
    if (etcd?.members[2]) etcd.members[2].healthy = false;
    if (etcd) etcd.quorum = 'degraded';
    if (r.cluster) r.cluster.paused = true;
    if (r.haproxy) r.haproxy.writeTargets = ['db1', 'db2'];
    const alerts = deriveSnapshot(r, fakeContext()).alerts;
    const byId = Object.fromEntries(alerts.map((a) => [a.id, a]));
    expect(byId['archiving-failing']?.severity).toBe('critical');
    expect(byId['archive-backlog']?.message).toBe('25 WAL segments wait to be archived (> 10).');
    expect(byId['backup-old']?.message).toMatch(/^The newest backup is 2d 1h old \(> 26 h\)\.$/);
    expect(byId['etcd-quorum']).toMatchObject({ severity: 'warning' });
    expect(byId.paused?.message).toContain('will not fail over automatically');
    expect(byId['haproxy-write']?.message).toBe('HAProxy write port routes to db1, db2, not only to the leader db1.');
    if (etcd?.members[1]) etcd.members[1].healthy = false;
    if (etcd) etcd.quorum = 'lost';
    expect(deriveSnapshot(r, fakeContext()).alerts.find((a) => a.id === 'etcd-quorum')?.severity).toBe('critical');
  });

  it('a member whose REST and SQL have not answered yet is neither unreachable nor alerting (start-up)', () => {
    const r = fakeHealthyReadings();
    for (const key of ['patroni:db3', 'postgres:db3', 'postgres:db1']) delete r.sources[key];
    delete r.memberStatus.db3;
    delete r.postgres.db3;
    delete r.postgres.db1;
    const snapshot = deriveSnapshot(r, fakeContext());
    expect(snapshot.members[2]?.state).toBe('running');
    expect(snapshot.alerts).toEqual([]);
  });

  it('a leader whose REST and SQL have not answered yet stays the running leader, marked as not read yet (start-up)', () => {
    const r = fakeHealthyReadings();
    for (const key of ['patroni:db1', 'postgres:db1']) delete r.sources[key];
    delete r.memberStatus.db1;
    delete r.postgres.db1;
    const snapshot = deriveSnapshot(r, fakeContext());
    expect(snapshot.members[0]).toMatchObject({ name: 'db1', role: 'leader', state: 'running', restPending: true, sqlPending: true, restReachable: false });
    expect(snapshot.alerts.filter((a) => a.severity === 'critical')).toEqual([]);
    // Asked and failed is another matter: unreachable, critical.
    for (const key of ['patroni:db1', 'postgres:db1']) r.sources[key] = { ...r.sources[key], source: 'patroni', key, error: 'connection refused', failingSince: FAKE_NOW - 4000 };
    const failed = deriveSnapshot(r, fakeContext());
    expect(failed.members[0]).toMatchObject({ state: 'unreachable' });
    expect(failed.members[0]?.restPending).toBeUndefined();
    expect(failed.alerts.find((a) => a.id === 'unreachable:db1')).toMatchObject({ severity: 'critical', member: 'db1' });
  });

  it('falls back to the DCS member list when no Patroni REST API answers', () => {
    const r = fakeHealthyReadings();
    r.sources.patroni = { source: 'patroni', key: 'patroni', error: 'every endpoint refused', failingSince: FAKE_NOW - 1000 };
    if (r.dcs) {
      r.dcs.members = {
        db1: { conn_url: 'postgres://127.0.0.1:15431/postgres', api_url: 'http://127.0.0.1:8001/patroni', role: 'master', state: 'running', timeline: 1 },
        db2: { conn_url: 'postgres://127.0.0.1:15432/postgres', api_url: 'http://127.0.0.1:8002/patroni', role: 'replica', state: 'running', timeline: 1, tags: { nofailover: true } },
      };
    }
    const snapshot = deriveSnapshot(r, fakeContext());
    expect(snapshot.members.map((m) => [m.name, m.role, m.port, m.nofailover])).toEqual([
      ['db1', 'leader', 15431, false],
      ['db2', 'replica', 15432, true],
    ]);
    expect(snapshot.alerts.find((a) => a.id === 'stale:patroni')?.severity).toBe('critical');
  });

  it('keeps an alert’s since across snapshots', () => {
    const r = fakeHealthyReadings();
    if (r.cluster) r.cluster.paused = true;
    const first = deriveSnapshot(r, fakeContext());
    const second = deriveSnapshot(r, fakeContext({ now: FAKE_NOW + 10_000, previousAlerts: first.alerts }));
    expect(second.alerts[0]?.since).toBe(FAKE_NOW);
  });
});

describe('diffEvents', () => {
  it('records a leader change, a timeline increment, state changes and alerts raised and cleared', () => {
    const before = deriveSnapshot(fakeHealthyReadings(), fakeContext());
    const r = fakeHealthyReadings();
    if (r.dcs?.leader) r.dcs.leader.holder = 'db2';
    r.history = [{ timeline: 1, lsn: 83886240, lsnText: '0/5000060', reason: 'no recovery target specified', at: '2026-11-21T12:00:01Z', newLeader: 'db2' }];
    for (const m of r.cluster?.members ?? []) {
      m.role = m.name === 'db2' ? 'leader' : 'replica';
      m.timeline = 2;
    }
    if (r.cluster?.members[0]) r.cluster.members[0].state = 'stopped';
    Object.assign(r.memberStatus.db1 ?? {}, { state: 'stopped', rawState: 'stopped' });
    r.postgres.db2 = { ...(r.postgres.db2 as NonNullable<typeof r.postgres.db2>), inRecovery: false, replication: [fakeReplication('db3')] };
    r.haproxy = { servers: [], writeTargets: ['db2'], readTargets: ['db3'] };
    const after = deriveSnapshot(r, fakeContext({ now: FAKE_NOW + 2000, previousAlerts: before.alerts }));
    const events = diffEvents(before, after);
    const messages = events.map((e) => e.message);
    expect(messages).toContain('leader changed: db1 → db2');
    expect(messages).toContain('timeline 1 → 2 at 0/5000060 (no recovery target specified)');
    expect(messages).toContain('db1: running → stopped');
    expect(messages).toContain('db2: replica → leader');
    expect(events.find((e) => e.kind === 'alert-raised')?.message).toBe('db1 is not streaming from db2 (state: stopped).');
    const cleared = diffEvents(after, deriveSnapshot(fakeHealthyReadings(), fakeContext({ now: FAKE_NOW + 4000 })));
    expect(cleared.some((e) => e.kind === 'alert-cleared' && e.message.includes('db1 is not streaming'))).toBe(true);
  });
});
