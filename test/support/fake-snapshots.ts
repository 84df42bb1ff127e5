/**
 * FAKE snapshots, built by hand for component tests and the render benchmark — not recorded from the lab.
 * Values are shaped like the native lab's (scope patroni1, members db1..db3 on 127.0.0.1, PostgreSQL 15,
 * LSNs like 0/5000060, Barman backup ids like 20250101T120000) so that what the tests assert is what an
 * operator would read. Every builder takes `now` so ages are deterministic.
 */
import type { Alert, ClusterEvent, ClusterSnapshot, MemberView } from '../../src/model/snapshot.js';
import type { LagSample } from '../../src/model/store.js';
import type { BarmanBackup } from '../../src/services/types.js';

/** A fixed instant for tests: 2025-03-14 12:00:00 UTC. */
export const FAKE_NOW = Date.UTC(2025, 2, 14, 12, 0, 0);

const MB = 1024 * 1024;

function fakeMember(overrides: Partial<MemberView> & Pick<MemberView, 'name' | 'role' | 'state'>): MemberView {
  const index = Number(overrides.name.replace(/\D/g, '')) || 1;
  return {
    host: '127.0.0.1',
    port: 15431 + index,
    apiUrl: `http://127.0.0.1:${18007 + index}/patroni`,
    timeline: 3,
    lagUnknown: false,
    pendingRestart: false,
    tags: {},
    nofailover: false,
    noloadbalance: false,
    restReachable: true,
    sqlReachable: true,
    patroniVersion: '3.3.2',
    serverVersion: '15.10',
    ...overrides,
  };
}

/** A replica streaming at the leader's LSN (0/5000060), no lag in bytes. */
function caughtUpReplica(name: string, overrides: Partial<MemberView> = {}): MemberView {
  return fakeMember({
    name,
    role: 'replica',
    state: 'streaming',
    patroniState: 'streaming',
    lsn: '0/5000060',
    receiveLsn: '0/5000060',
    replayLsn: '0/5000060',
    receiveLagBytes: 0,
    replayLagBytes: 0,
    receiveLagSeconds: 0,
    sqlSaysPrimary: false,
    ...overrides,
  });
}

function fakeBackup(id: string, beginMs: number, status: BarmanBackup['status'] = 'DONE'): BarmanBackup {
  const done = status === 'DONE';
  return {
    id,
    status,
    beginTime: new Date(beginMs).toISOString(),
    ...(done ? { endTime: new Date(beginMs + 42_000).toISOString(), durationSeconds: 42 } : {}),
    beginWal: '000000030000000000000004',
    ...(done ? { endWal: '000000030000000000000004' } : {}),
    timeline: 3,
    sizeBytes: 31.4 * MB,
    walSizeBytes: 16 * MB,
  };
}

function backupId(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
}

/** A healthy 3-member lab cluster on Patroni 3.3: db1 leads on timeline 3, db2 and db3 stream. */
export function fakeLabSnapshot(now = FAKE_NOW): ClusterSnapshot {
  const backups = [fakeBackup(backupId(now - 26 * 3600_000), now - 26 * 3600_000), fakeBackup(backupId(now - 2 * 3600_000), now - 2 * 3600_000)];
  return {
    cluster: 'lab',
    scope: 'patroni1',
    updatedAt: now - 1000,
    leader: 'db1',
    leaderKey: { holder: 'db1', leaseId: '694d8f1e2a3b4c5d', leaseTtlSeconds: 27, leaseGrantedTtlSeconds: 30, modRevision: 412 },
    members: [
      fakeMember({
        name: 'db1',
        role: 'leader',
        state: 'running',
        patroniState: 'running',
        lsn: '0/5000060',
        sqlSaysPrimary: true,
        detail: {
          replication: [
            { applicationName: 'db2', clientAddr: '127.0.0.1', state: 'streaming', syncState: 'async', replayLsn: '0/5000060', replayLagBytes: 0, replayLagSeconds: 0 },
            { applicationName: 'db3', clientAddr: '127.0.0.1', state: 'streaming', syncState: 'async', replayLsn: '0/5000060', replayLagBytes: 0, replayLagSeconds: 0 },
          ],
          connectionsByState: { active: 1, idle: 4, 'idle in transaction': 1 },
          maxConnections: 100,
          longestTransactions: [
            { pid: 4242, user: 'app', database: 'postgres', state: 'active', xactAgeSeconds: 12.5, query: 'UPDATE accounts SET balance = balance - 10 WHERE id = 7' },
          ],
          idleInTransaction: [{ pid: 4317, user: 'report', database: 'postgres', state: 'idle in transaction', xactAgeSeconds: 95, query: 'SELECT * FROM orders' }],
          blocking: [{ blockedPid: 4400, blockingPid: 4317, blockedQuery: 'ALTER TABLE orders ADD COLUMN note text', blockedSeconds: 8 }],
        },
      }),
      caughtUpReplica('db2', {
        replayLagSeconds: 0,
        detail: {
          replication: [],
          walReceiver: { status: 'streaming', senderHost: '127.0.0.1', senderPort: 15432, receivedLsn: '0/5000060', receivedTimeline: 3, lastMessageAt: new Date(now - 2000).toISOString(), slotName: 'db2' },
          connectionsByState: { idle: 1 },
          longestTransactions: [],
          idleInTransaction: [],
          blocking: [],
        },
      }),
      caughtUpReplica('db3', { replayLagSeconds: 0.2 }),
    ],
    history: [
      { timeline: 1, lsn: 50_331_808, lsnText: '0/30000A0', reason: 'no recovery target specified', at: new Date(now - 3 * 86_400_000).toISOString(), newLeader: 'db2' },
      { timeline: 2, lsn: 67_109_024, lsnText: '0/40000A0', reason: 'no recovery target specified', at: new Date(now - 3600_000).toISOString(), newLeader: 'db1' },
    ],
    paused: false,
    dcs: { ttl: 30, loopWait: 10, maximumLagOnFailover: MB },
    thresholds: { lagBytes: 1048576, lagBytesOrigin: 'maximum_lag_on_failover', lagSeconds: 30 },
    etcd: {
      quorum: 'healthy',
      members: [
        { name: 'etcd1', endpoint: 'http://127.0.0.1:12379', healthy: true, isLeader: true },
        { name: 'etcd2', endpoint: 'http://127.0.0.1:12381', healthy: true },
        { name: 'etcd3', endpoint: 'http://127.0.0.1:12383', healthy: true },
      ],
    },
    haproxy: {
      servers: [
        { backend: 'primary', server: 'db1', status: 'UP', up: true },
        { backend: 'primary', server: 'db2', status: 'DOWN', up: false },
        { backend: 'primary', server: 'db3', status: 'DOWN', up: false },
        { backend: 'replicas', server: 'db2', status: 'UP', up: true },
        { backend: 'replicas', server: 'db3', status: 'UP', up: true },
      ],
      writeTargets: ['db1'],
      readTargets: ['db2', 'db3'],
    },
    archiving: {
      member: 'db1',
      status: {
        archivedCount: 5,
        lastArchivedWal: '000000030000000000000004',
        lastArchivedAt: new Date(now - 40_000).toISOString(),
        failedCount: 0,
        failing: false,
        readyBacklog: 0,
      },
      logTail: [
        '2025-03-14 11:59:20 archived 000000030000000000000003',
        '2025-03-14 11:59:20 archived 000000030000000000000004',
      ],
      logMember: 'db1',
    },
    backups: {
      backups,
      recoveryWindow: { from: backups[0]?.beginTime ?? '', to: new Date(now - 40_000).toISOString(), oldestBackupId: backups[0]?.id ?? '' },
      newestDoneAgeSeconds: 2 * 3600 - 42,
      lastArchivedWal: '000000030000000000000004',
      lastArchivedAt: new Date(now - 40_000).toISOString(),
    },
    alerts: [],
    sources: {
      patroni: { source: 'patroni', key: 'patroni', asOf: now - 1000, lastDurationMs: 12 },
      etcd: { source: 'etcd', key: 'etcd', asOf: now - 800, lastDurationMs: 3 },
      'postgres:db1': { source: 'postgres', key: 'postgres:db1', asOf: now - 1200, lastDurationMs: 8 },
      haproxy: { source: 'haproxy', key: 'haproxy', asOf: now - 900, lastDurationMs: 2 },
      barman: { source: 'barman', key: 'barman', asOf: now - 20_000, lastDurationMs: 640 },
    },
  };
}

/** db2 is 12 MB / 1m 05s behind (threshold 1 MB) and has an alert for it; db3 is fine. */
export function fakeLaggingSnapshot(now = FAKE_NOW): ClusterSnapshot {
  const base = fakeLabSnapshot(now);
  const alert: Alert = { id: 'lag:db2', severity: 'warning', message: 'db2 replay lag 12.0 MB > 1.0 MB', member: 'db2', since: now - 65_000 };
  return {
    ...base,
    members: base.members.map((m) =>
      m.name === 'db2'
        ? { ...m, replayLsn: '0/4400060', replayLagBytes: 12 * MB, replayLagSeconds: 65, receiveLagBytes: 1.5 * MB, receiveLagSeconds: 3 }
        : m,
    ),
    alerts: [alert],
  };
}

/** Patroni's REST API stopped answering 45 s ago (connection refused); Barman too, 2 min ago. */
export function fakeStaleSnapshot(now = FAKE_NOW): ClusterSnapshot {
  const base = fakeLabSnapshot(now);
  return {
    ...base,
    sources: {
      ...base.sources,
      patroni: { source: 'patroni', key: 'patroni', asOf: now - 45_000, failingSince: now - 44_000, error: 'connect ECONNREFUSED 127.0.0.1:18008' },
      barman: { source: 'barman', key: 'barman', asOf: now - 130_000, failingSince: now - 120_000, error: 'barman exited 1: server patroni1 is not active' },
    },
  };
}

/** db3's PostgreSQL is stopped (Patroni still answers), a broken replica. */
export function fakeBrokenReplicaSnapshot(now = FAKE_NOW): ClusterSnapshot {
  const base = fakeLabSnapshot(now);
  return {
    ...base,
    members: base.members.map((m) =>
      m.name === 'db3'
        ? { ...m, state: 'stopped', patroniState: 'stopped', sqlReachable: false, sqlError: 'connect ECONNREFUSED 127.0.0.1:15434', replayLagBytes: undefined, replayLagSeconds: undefined, lagUnknown: true }
        : m,
    ),
    haproxy: base.haproxy ? { ...base.haproxy, readTargets: ['db2'] } : undefined,
    alerts: [{ id: 'state:db3', severity: 'critical', message: 'db3 PostgreSQL stopped', member: 'db3', since: now - 30_000 }],
  };
}

/**
 * Patroni 4.x-style data: role `primary` normalized to leader, receive and replay lag reported separately
 * (4.1+), pending restart with its reason (3.3+), a nofailover tag, paused cluster with a scheduled
 * switchover, and an archiver that is failing.
 */
export function fakePatroni4Snapshot(now = FAKE_NOW): ClusterSnapshot {
  const base = fakeLabSnapshot(now);
  return {
    ...base,
    paused: true,
    scheduledSwitchover: { at: new Date(now + 15 * 60_000).toISOString(), from: 'db1', to: 'db2' },
    members: base.members.map((m) => {
      const v4 = { ...m, patroniVersion: '4.0.4', serverVersion: '17.2' };
      if (m.name === 'db1') return { ...v4, patroniState: 'running', pendingRestart: true, pendingRestartReason: { max_connections: { oldValue: '100', newValue: '200' } } };
      if (m.name === 'db3') return { ...v4, tags: { nofailover: true, clonefrom: true }, nofailover: true, receiveLagBytes: 256, replayLagBytes: 4096, receiveLagSeconds: 0, replayLagSeconds: 0.4 };
      return v4;
    }),
    archiving: {
      ...base.archiving,
      status: {
        archivedCount: 5,
        lastArchivedWal: '000000030000000000000004',
        lastArchivedAt: new Date(now - 300_000).toISOString(),
        failedCount: 7,
        lastFailedWal: '000000030000000000000005',
        lastFailedAt: new Date(now - 10_000).toISOString(),
        failing: true,
        readyBacklog: 3,
      },
      logTail: [...base.archiving.logTail, '2025-03-14 11:59:50 ERROR: barman-wal-archive: connection refused (000000030000000000000005)'],
    },
    backups: {
      ...base.backups,
      running: fakeBackup('20250314T115800', now - 120_000, 'STARTED'),
      backups: [...base.backups.backups, fakeBackup('20250314T115800', now - 120_000, 'STARTED')],
    },
  };
}

/** Lag samples for a member over the last `minutes`, one every 10 s, rising to `peakBytes` at the end. */
export function fakeLagSamples(now: number, peakBytes: number, minutes = 5): LagSample[] {
  const count = minutes * 6;
  const samples: LagSample[] = [];
  for (let i = 0; i < count; i += 1) {
    const fraction = i / (count - 1);
    samples.push({ at: now - (count - 1 - i) * 10_000, replayLagBytes: Math.round(peakBytes * fraction * fraction), replayLagSeconds: 65 * fraction * fraction });
  }
  return samples;
}

/** A few events as the model would record them around a switchover. */
export function fakeEvents(now = FAKE_NOW): ClusterEvent[] {
  return [
    { at: now - 3600_000, kind: 'leader-changed', message: 'leader changed db2 → db1', member: 'db1', severity: 'warning' },
    { at: now - 3599_000, kind: 'timeline-changed', message: 'timeline 2 → 3', severity: 'info' },
    { at: now - 65_000, kind: 'alert-raised', message: 'db2 replay lag 12.0 MB > 1.0 MB', member: 'db2', severity: 'warning' },
    { at: now - 30_000, kind: 'member-state', message: 'db3 streaming → stopped', member: 'db3', severity: 'critical' },
  ];
}

/** The benchmark's synthetic cluster: 50 members, 500 events, 200 backups, a few laggards and broken ones. */
export function fakeLargeCluster(now = FAKE_NOW): { snapshot: ClusterSnapshot; events: ClusterEvent[]; lag: Map<string, LagSample[]> } {
  const base = fakeLabSnapshot(now);
  const members: MemberView[] = [];
  const lag = new Map<string, LagSample[]>();
  for (let i = 1; i <= 50; i += 1) {
    const name = `db${i}`;
    if (i === 1) {
      members.push(fakeMember({ name, role: 'leader', state: 'running', lsn: '2A/5000060', timeline: 12 }));
      continue;
    }
    const replayLagBytes = i % 7 === 0 ? 48 * MB : (i * 4096) % MB;
    members.push(
      fakeMember({
        name,
        role: i === 2 ? 'sync_standby' : 'replica',
        state: i % 11 === 0 ? 'stopped' : i % 13 === 0 ? 'archive recovery' : 'streaming',
        timeline: 12,
        lsn: '2A/4F00060',
        receiveLagBytes: Math.round(replayLagBytes / 3),
        replayLagBytes,
        replayLagSeconds: replayLagBytes / MB,
        receiveLagSeconds: 0.1,
        pendingRestart: i % 5 === 0,
        tags: i % 9 === 0 ? { nofailover: true } : {},
        nofailover: i % 9 === 0,
        restReachable: i % 17 !== 0,
      }),
    );
    lag.set(name, fakeLagSamples(now, replayLagBytes, 5));
  }
  const events: ClusterEvent[] = [];
  for (let i = 0; i < 500; i += 1) {
    events.push({
      at: now - (500 - i) * 30_000,
      kind: i % 10 === 0 ? 'alert-raised' : 'member-state',
      message: `db${(i % 49) + 2} event ${i}: streaming → ${i % 2 ? 'starting' : 'streaming'}`,
      member: `db${(i % 49) + 2}`,
      severity: i % 10 === 0 ? 'warning' : 'info',
    });
  }
  const backups: BarmanBackup[] = [];
  for (let i = 0; i < 200; i += 1) {
    const begin = now - (200 - i) * 6 * 3600_000;
    backups.push(fakeBackup(backupId(begin), begin, i % 23 === 0 ? 'FAILED' : 'DONE'));
  }
  const history = Array.from({ length: 11 }, (_, i) => ({
    timeline: i + 1,
    lsn: (i + 1) * 16 * MB,
    lsnText: `0/${((i + 1) * 16 * MB).toString(16).toUpperCase()}`,
    reason: 'no recovery target specified',
    at: new Date(now - (11 - i) * 86_400_000).toISOString(),
    newLeader: `db${(i % 3) + 1}`,
  }));
  const alerts: Alert[] = members
    .filter((m) => (m.replayLagBytes ?? 0) > MB)
    .map((m) => ({ id: `lag:${m.name}`, severity: 'warning', message: `${m.name} replay lag > 1.0 MB`, member: m.name, since: now - 60_000 }));
  return {
    snapshot: {
      ...base,
      cluster: 'synthetic',
      scope: 'big50',
      leader: 'db1',
      members,
      history,
      backups: { ...base.backups, backups },
      alerts,
      haproxy: { servers: [], writeTargets: ['db1'], readTargets: members.slice(1).map((m) => m.name) },
    },
    events,
    lag,
  };
}
