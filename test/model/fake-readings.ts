import type { ClusterConfig } from '../../src/config/schema.js';
import { clusterSchema, thresholdsSchema } from '../../src/config/schema.js';
import type { DeriveContext, Readings } from '../../src/model/derive.js';
import type { PatroniClusterMember, PostgresMemberStatus, ReplicationRow } from '../../src/services/types.js';

/**
 * FAKE readings for pure-logic tests of the model: a healthy 3-member cluster shaped like what the lab's
 * sources report (Patroni 3.0.2, PostgreSQL 15). Tests change one thing and look at what follows.
 */
export const FAKE_NOW = Date.parse('2026-11-21T12:00:00Z');

function fakeMember(name: string, role: PatroniClusterMember['role'], port: number): PatroniClusterMember {
  return {
    name,
    role,
    rawRole: role === 'leader' ? 'leader' : 'replica',
    state: 'running',
    rawState: 'running',
    apiUrl: `http://127.0.0.1:${8000 + port - 15430}/patroni`,
    host: '127.0.0.1',
    port,
    timeline: 1,
    lagUnknown: false,
    pendingRestart: false,
    tags: {},
    nofailover: false,
    noloadbalance: false,
    ...(role === 'leader' ? {} : { replayLagBytes: 0, lagBasis: 'wal-position' as const }),
  };
}

function fakeReplication(name: string, replayLagBytes = 0): ReplicationRow {
  return {
    applicationName: name,
    clientAddr: '127.0.0.1',
    state: 'streaming',
    syncState: 'async',
    replayLagBytes,
    writeLagBytes: 0,
    flushLagBytes: 0,
    ...(replayLagBytes === 0 ? {} : { replayLagSeconds: 3.5 }),
  };
}

function fakePostgres(inRecovery: boolean, replication: ReplicationRow[] = []): PostgresMemberStatus {
  return {
    inRecovery,
    serverVersion: '15.14',
    timeline: 1,
    currentLsn: inRecovery ? undefined : '0/5000060',
    replayLsn: inRecovery ? '0/5000060' : undefined,
    receiveLsn: inRecovery ? '0/5000060' : undefined,
    replication,
    connectionsByState: { active: 1, idle: 2 },
    maxConnections: 100,
    longestTransactions: [],
    idleInTransaction: [],
    blocking: [],
    ...(inRecovery ? { walReceiver: { status: 'streaming', senderHost: '127.0.0.1', senderPort: 15431, receivedTimeline: 1 } } : {}),
    ...(inRecovery ? {} : { archiver: { archivedCount: 12, lastArchivedWal: '000000010000000000000004', lastArchivedAt: '2026-11-21T11:59:00Z', failedCount: 0, failing: false, readyBacklog: 0 } }),
  };
}

export function fakeHealthyReadings(): Readings {
  const ok = (key: string) => ({ source: key.split(':')[0] as never, key, asOf: FAKE_NOW - 500, lastDurationMs: 5 });
  return {
    cluster: {
      members: [fakeMember('db1', 'leader', 15431), fakeMember('db2', 'replica', 15432), fakeMember('db3', 'replica', 15433)],
      paused: false,
      endpoint: 'http://127.0.0.1:8001',
    },
    history: [],
    config: { ttl: 30, loopWait: 10, retryTimeout: 10, maximumLagOnFailover: 1048576, paused: false, raw: {} },
    memberStatus: Object.fromEntries(
      ['db1', 'db2', 'db3'].map((name) => [
        name,
        {
          name,
          role: name === 'db1' ? ('leader' as const) : ('replica' as const),
          rawRole: name === 'db1' ? 'master' : 'replica',
          state: 'running' as const,
          rawState: 'running',
          timeline: 1,
          patroniVersion: '3.0.2',
          pendingRestart: false,
          paused: false,
          tags: {},
          replication: [],
        },
      ]),
    ),
    dcs: {
      leader: { holder: 'db1', leaseId: '694d93c1a2b3c4d5', leaseTtlSeconds: 25, leaseGrantedTtlSeconds: 30 },
      members: {},
      history: [],
      revision: 42,
    },
    etcd: {
      members: ['etcd1', 'etcd2', 'etcd3'].map((name, i) => ({ name, endpoint: `http://127.0.0.1:${2379 + 100 * i}`, healthy: true })),
      quorum: 'healthy',
    },
    postgres: {
      db1: fakePostgres(false, [fakeReplication('db2'), fakeReplication('db3')]),
      db2: fakePostgres(true),
      db3: fakePostgres(true),
    },
    haproxy: {
      servers: [],
      writeTargets: ['db1'],
      readTargets: ['db2', 'db3'],
    },
    backups: [
      { id: '20261121T100000', status: 'DONE', beginTime: '2026-11-21T10:00:00Z', endTime: '2026-11-21T10:00:05Z', sizeBytes: 23_000_000 },
    ],
    barmanStatus: { active: true, lastArchivedWal: '000000010000000000000004', lastArchivedAt: '2026-11-21T11:59:00Z', raw: {} },
    sources: Object.fromEntries(
      ['patroni', 'dcs', 'etcd', 'history', 'config', 'haproxy', 'barman', 'patroni:db1', 'patroni:db2', 'patroni:db3', 'postgres:db1', 'postgres:db2', 'postgres:db3'].map(
        (key) => [key, ok(key)],
      ),
    ),
  };
}

export function fakeContext(overrides: Partial<DeriveContext> = {}): DeriveContext {
  return {
    cluster: 'lab',
    scope: 'patroni1',
    thresholds: thresholdsSchema.parse({}),
    now: FAKE_NOW,
    previousAlerts: [],
    pending: new Map(),
    configured: { haproxy: true, barman: true, archiveLog: false },
    ...overrides,
  };
}

export { fakeReplication };

/**
 * The cluster a store over FAKE sources is opened for: the lab's shape (scope patroni1), short timeouts;
 * `extra` adds sections (e.g. barman).
 */
export function fakeStoreCluster(extra: Record<string, unknown> = {}): ClusterConfig {
  return clusterSchema.parse({
    name: 'lab',
    scope: 'patroni1',
    patroni: { endpoints: ['http://127.0.0.1:8001'], timeoutMs: 300 },
    etcd: { endpoints: ['http://127.0.0.1:2379'], timeoutMs: 300 },
    postgres: { timeoutMs: 300 },
    ...extra,
  });
}
