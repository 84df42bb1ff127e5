import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  formatLsn,
  normalizeCluster,
  normalizeConfig,
  normalizeHistory,
  normalizeMemberStatus,
  parseLsn,
  patroniClusterSchema,
  patroniConfigSchema,
  patroniHistorySchema,
  patroniMemberStatusSchema,
} from '../../src/services/patroni.js';
import { describeIssues } from '../../src/services/errors.js';

const fixtures = path.join(import.meta.dirname, '..', 'fixtures');
const read = (...parts: string[]): unknown => JSON.parse(fs.readFileSync(path.join(fixtures, ...parts), 'utf8'));
const cluster = (...parts: string[]) => normalizeCluster(patroniClusterSchema.parse(read(...parts)), 'http://fixture:8008');
const member = (...parts: string[]) => normalizeMemberStatus(patroniMemberStatusSchema.parse(read(...parts)), new Date('2024-08-28T19:50:00Z'));

describe('Patroni 4.1 /cluster (docs example)', () => {
  const c = cluster('patroni-4', 'cluster-4.1.json');

  it('reads the leader and a streaming replica with receive and replay lag and LSNs', () => {
    const [leader, replica] = c.members;
    expect(leader).toMatchObject({ name: 'patroni1', role: 'leader', rawRole: 'leader', state: 'running', timeline: 5, host: '10.89.0.4', port: 5432 });
    expect(leader?.replayLagBytes).toBeUndefined();
    expect(replica).toMatchObject({
      name: 'patroni2',
      role: 'replica',
      state: 'streaming',
      receiveLagBytes: 0,
      replayLagBytes: 0,
      receiveLsn: '0/4000060',
      replayLsn: '0/4000060',
      lagUnknown: false,
      apiUrl: 'http://10.89.0.6:8008/patroni',
    });
  });

  it('reads the scheduled switchover', () => {
    expect(c.scheduledSwitchover).toEqual({ at: '2023-09-24T10:36:00+02:00', from: 'patroni1', to: 'patroni3' });
    expect(c.paused).toBe(false);
    expect(c.endpoint).toBe('http://fixture:8008');
  });
});

describe('Patroni 4.1 /cluster with unknown lag, quorum standby, pause (constructed from cluster_as_json)', () => {
  const c = cluster('patroni-4', 'cluster-4.1-lag-unknown.json');
  const byName = Object.fromEntries(c.members.map((m) => [m.name, m]));

  it('marks "unknown" lag as lagUnknown with no numbers and no LSNs', () => {
    expect(byName.patroni2).toMatchObject({ role: 'sync_standby', rawRole: 'quorum_standby', state: 'in archive recovery', lagUnknown: true, nofailover: true });
    expect(byName.patroni2?.replayLagBytes).toBeUndefined();
    expect(byName.patroni2?.receiveLagBytes).toBeUndefined();
    expect(byName.patroni2?.replayLsn).toBeUndefined();
  });

  it('keeps receive and replay lag apart (replay lag is not the old `lag`)', () => {
    expect(byName.patroni3).toMatchObject({ receiveLagBytes: 1024, replayLagBytes: 2097152, replayLsn: '0/4E00000', noloadbalance: true, nofailover: false });
    expect(byName.patroni3?.scheduledRestart).toEqual({ at: '2025-03-01T03:00:00+00:00', postgresVersion: '17.4' });
  });

  it('reads pending_restart_reason and pause', () => {
    expect(byName.patroni1).toMatchObject({ pendingRestart: true, pendingRestartReason: { max_connections: { oldValue: '100', newValue: '101' } } });
    expect(c.paused).toBe(true);
  });
});

describe('Patroni 4.0 /cluster (single lag field)', () => {
  const c = cluster('patroni-4', 'cluster-4.0.json');
  it('takes `lag` as the replay lag, and "unknown" as unknown', () => {
    expect(c.members[1]).toMatchObject({ role: 'sync_standby', state: 'streaming', replayLagBytes: 16384, lagUnknown: false });
    expect(c.members[1]?.receiveLagBytes).toBeUndefined();
    expect(c.members[2]).toMatchObject({ state: 'starting', lagUnknown: true });
    expect(c.members[2]?.timeline).toBeUndefined();
  });
});

describe('Patroni 4.0 /patroni (docs examples)', () => {
  it('normalizes role primary to leader and reads replication rows, name and version', () => {
    const s = member('patroni-4', 'patroni-primary-4.0.json');
    expect(s).toMatchObject({ role: 'leader', rawRole: 'primary', state: 'running', name: 'patroni1', patroniVersion: '4.0.0', scope: 'demo', walLsn: 67395656, timeline: 1, serverVersion: 160004 });
    expect(s.replication.map((r) => [r.applicationName, r.state, r.syncState])).toEqual([
      ['patroni2', 'streaming', 'async'],
      ['patroni3', 'streaming', 'async'],
    ]);
    expect(s.tags).toEqual({ clonefrom: true });
    expect(s.dcsLastSeenAt).toBe(new Date(1692356718 * 1000).toISOString());
    expect(s.dcsLastSeen).toBeGreaterThan(0);
  });

  it('reads a replica in an unlocked cluster (replayed_timestamp null)', () => {
    const s = member('patroni-4', 'patroni-replica-unlocked-4.0.json');
    expect(s).toMatchObject({ role: 'replica', clusterUnlocked: true, receivedLsn: 67419744, replayedLsn: 67419744, replayPaused: false });
    expect(s.replayedTimestamp).toBeUndefined();
  });

  it('reads pause and pending_restart_reason', () => {
    expect(member('patroni-4', 'patroni-paused-4.0.json').paused).toBe(true);
    const s = member('patroni-4', 'patroni-pending-restart-4.0.json');
    expect(s).toMatchObject({ role: 'leader', pendingRestart: true, pendingRestartReason: { max_connections: { oldValue: '100', newValue: '101' } } });
  });

  it('accepts the failsafe example', () => {
    expect(member('patroni-4', 'patroni-unlocked-failsafe-4.0.json')).toMatchObject({ role: 'replica', clusterUnlocked: true, walLsn: 67420024 });
  });
});

describe('Patroni /history and /config', () => {
  it('reads 4- and 5-element history lines', () => {
    const h = normalizeHistory(patroniHistorySchema.parse(read('patroni-4', 'history.json')));
    expect(h).toHaveLength(4);
    expect(h[0]).toEqual({ timeline: 1, lsn: 25623960, lsnText: '0/186FD98', reason: 'no recovery target specified', at: '2019-09-23T16:57:57+02:00' });
    const withLeader = normalizeHistory(patroniHistorySchema.parse(read('patroni-4', 'history-with-leader.json')));
    expect(withLeader[1]?.newLeader).toBe('patroni1');
  });

  it('reads the dynamic configuration, numbers given as numbers or strings', () => {
    const c = normalizeConfig(patroniConfigSchema.parse(read('patroni-4', 'config.json')));
    expect(c).toMatchObject({ ttl: 30, loopWait: 10, retryTimeout: 10, maximumLagOnFailover: 1048576, paused: false });
    expect(normalizeConfig(patroniConfigSchema.parse({ ttl: '20', synchronous_mode: 'quorum', pause: true }))).toMatchObject({ ttl: 20, synchronousMode: true, paused: true });
  });

  it('formats and parses LSNs both ways', () => {
    expect(formatLsn(0x4000060)).toBe('0/4000060');
    expect(formatLsn(0x1_0000_0010)).toBe('1/10');
    expect(parseLsn('1/10')).toBe(0x1_0000_0010);
    expect(parseLsn('nonsense')).toBeUndefined();
  });
});

describe('Patroni 3.0.2 payloads recorded from the lab', () => {
  it('normalizes /cluster: one leader, replicas with a numeric lag', () => {
    const c = cluster('lab', 'patroni-cluster.json');
    const leaders = c.members.filter((m) => m.role === 'leader');
    expect(leaders).toHaveLength(1);
    for (const m of c.members.filter((x) => x.role !== 'leader')) {
      expect(m.role).toBe('replica');
      expect(m.state).toBe('running');
      expect(typeof m.replayLagBytes).toBe('number');
      expect(m.receiveLagBytes).toBeUndefined();
    }
  });

  it('normalizes /patroni: role master → leader on exactly one member', () => {
    const names = fs.readdirSync(path.join(fixtures, 'lab')).filter((f) => f.startsWith('patroni-member-'));
    expect(names.length).toBeGreaterThanOrEqual(2);
    const statuses = names.map((f) => ({ raw: read('lab', f) as { role: string }, s: member('lab', f) }));
    const leaders = statuses.filter((x) => x.s.role === 'leader');
    expect(leaders).toHaveLength(1);
    expect(leaders[0]?.raw.role).toBe('master');
    expect(leaders[0]?.s.replication.length).toBe(names.length - 1);
    for (const x of statuses.filter((y) => y.s.role !== 'leader')) {
      expect(x.s.patroniVersion).toBe('3.0.2');
      expect(x.s.receivedLsn).toBeGreaterThan(0);
      expect(x.s.name).toBeUndefined(); // 3.0.2 does not send patroni.name
    }
  });

  it('rejects what is not a Patroni payload, saying what is wrong', () => {
    const nameless = patroniClusterSchema.safeParse({ members: [{ role: 'leader' }] });
    expect(nameless.success).toBe(false);
    expect(describeIssues(nameless.error?.issues ?? [])).toBe('members[0].name: Invalid input: expected string, received undefined');
    expect(patroniHistorySchema.safeParse([['x']]).success).toBe(false);
  });
});
