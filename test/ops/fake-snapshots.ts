import { clusterSchema } from '../../src/config/schema.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import type { Readings } from '../../src/model/derive.js';
import { deriveSnapshot, emptyReadings } from '../../src/model/derive.js';
import type { ClusterSnapshot, MemberView } from '../../src/model/snapshot.js';
import { thresholdsSchema } from '../../src/config/schema.js';
import { normalizeCluster, normalizeConfig, patroniClusterSchema, patroniConfigSchema } from '../../src/services/patroni.js';
import type { PreconditionContext } from '../../src/ops/types.js';

/**
 * FAKE snapshots for the pure precondition tests: hand-built, shaped like what the model derives from the
 * lab (3 members, Patroni 3.0.2, maximum_lag_on_failover 1 MiB), plus ones derived from Patroni 4.x-shaped
 * /cluster payloads (role "leader"/"replica", state "streaming", receive_lag/replay_lag). None of this was
 * read from a real cluster.
 */

export const FAKE_NOW = Date.parse('2026-11-21T12:00:00Z');

export function fakeCluster(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  const base = clusterSchema.parse({
    name: 'fake',
    scope: 'patroni1',
    patroni: { endpoints: ['http://127.0.0.1:8001', 'http://127.0.0.1:8002', 'http://127.0.0.1:8003'] },
    etcd: { endpoints: ['http://127.0.0.1:2379'] },
    postgres: {},
    haproxy: { statsUrl: 'http://127.0.0.1:5553/;csv', write: { host: '127.0.0.1', port: 5551 } },
    lab: { dir: '/nonexistent/fake-lab', portBase: 0 },
  });
  return { ...base, ...overrides };
}

export function fakeContext(overrides: Partial<PreconditionContext> = {}): PreconditionContext {
  return { cluster: fakeCluster(), now: FAKE_NOW, ...overrides };
}

export function fakeMember(name: string, overrides: Partial<MemberView> = {}): MemberView {
  const index = Number(name.replace(/\D/g, '')) || 1;
  return {
    name,
    role: 'replica',
    state: 'streaming',
    patroniState: 'running',
    host: '127.0.0.1',
    port: 15430 + index,
    apiUrl: `http://127.0.0.1:${8000 + index}/patroni`,
    timeline: 1,
    replayLagBytes: 0,
    lagUnknown: false,
    pendingRestart: false,
    tags: {},
    nofailover: false,
    noloadbalance: false,
    restReachable: true,
    sqlReachable: true,
    ...overrides,
  };
}

/** A healthy 3-member cluster: db1 leads, db2 and db3 stream with no lag. */
export function fakeHealthySnapshot(change: (s: ClusterSnapshot) => void = () => undefined): ClusterSnapshot {
  const snapshot: ClusterSnapshot = {
    cluster: 'fake',
    scope: 'patroni1',
    updatedAt: FAKE_NOW,
    members: [
      fakeMember('db1', { role: 'leader', state: 'running', replayLagBytes: undefined, sqlSaysPrimary: true, detail: { replication: [], connectionsByState: {}, longestTransactions: [], idleInTransaction: [], blocking: [] } }),
      fakeMember('db2'),
      fakeMember('db3'),
    ],
    leader: 'db1',
    history: [],
    paused: false,
    dcs: { ttl: 30, loopWait: 10, maximumLagOnFailover: 1_048_576 },
    thresholds: { lagBytes: 1_048_576, lagBytesOrigin: 'maximum_lag_on_failover', lagSeconds: 30 },
    etcd: { quorum: 'healthy', members: [{ name: 'etcd1', endpoint: 'http://127.0.0.1:2379', healthy: true }] },
    archiving: { logTail: [] },
    backups: { backups: [] },
    alerts: [],
    sources: {},
  };
  change(snapshot);
  return snapshot;
}

export function member(snapshot: ClusterSnapshot, name: string): MemberView {
  const found = snapshot.members.find((m) => m.name === name);
  if (!found) throw new Error(`fake snapshot has no ${name}`);
  return found;
}

/**
 * A snapshot derived by the real model from a Patroni 4.x-shaped /cluster payload (and its /config), with
 * no SQL reading: Patroni 4 says "streaming" itself and sends receive_lag/replay_lag.
 */
export function fakePatroni4Snapshot(replicaOverrides: Record<string, Record<string, unknown>> = {}): ClusterSnapshot {
  const payload = {
    scope: 'patroni1',
    members: [
      { name: 'db1', role: 'leader', state: 'running', api_url: 'http://127.0.0.1:8001/patroni', host: '127.0.0.1', port: 15431, timeline: 4 },
      {
        name: 'db2',
        role: 'replica',
        state: 'streaming',
        api_url: 'http://127.0.0.1:8002/patroni',
        host: '127.0.0.1',
        port: 15432,
        timeline: 4,
        receive_lag: 0,
        receive_lsn: '0/7000060',
        replay_lag: 0,
        replay_lsn: '0/7000060',
        lag: 0,
        lsn: '0/7000060',
        ...replicaOverrides.db2,
      },
      {
        name: 'db3',
        role: 'quorum_standby',
        state: 'streaming',
        api_url: 'http://127.0.0.1:8003/patroni',
        host: '127.0.0.1',
        port: 15433,
        timeline: 4,
        receive_lag: 0,
        replay_lag: 0,
        lag: 0,
        ...replicaOverrides.db3,
      },
    ],
  };
  const readings: Readings = emptyReadings();
  readings.cluster = normalizeCluster(patroniClusterSchema.parse(payload), 'http://127.0.0.1:8001');
  readings.config = normalizeConfig(patroniConfigSchema.parse({ ttl: 30, loop_wait: 10, maximum_lag_on_failover: 1048576, synchronous_mode: 'quorum' }));
  for (const m of readings.cluster.members) {
    readings.memberStatus[m.name] = {
      name: m.name,
      role: m.role,
      rawRole: m.rawRole,
      state: m.state,
      rawState: m.rawState,
      pendingRestart: false,
      paused: false,
      tags: {},
      replication: [],
      patroniVersion: '4.0.4',
    };
  }
  return deriveSnapshot(readings, {
    cluster: 'fake',
    scope: 'patroni1',
    thresholds: thresholdsSchema.parse({}),
    now: FAKE_NOW,
    previousAlerts: [],
    pending: new Map(),
    configured: { haproxy: false, barman: false, archiveLog: false },
  });
}
