import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { EtcdAdapter, decodePatroniKeys, quorumState, scopePrefix } from '../../src/services/etcd.js';
import { PatroniClient } from '../../src/services/patroni.js';
import type { DcsWatchEvent } from '../../src/services/types.js';
import { ServiceError } from '../../src/services/types.js';
import { waitFor } from '../../src/util/wait.js';
import { testLab } from '../support/lab.js';
import { unusedPort } from './fake-peer.js';
import { testLabCluster, waitForHealthyCluster } from './lab-config.js';

const lab = testLab();
const cluster = testLabCluster();
const etcd = EtcdAdapter.fromConfig(cluster.etcd);

afterAll(() => etcd.close());

describe('etcd on the lab', () => {
  it("reads Patroni's keys: the leader key agrees with Patroni, with a lease counting down from the ttl", async () => {
    const leader = await waitForHealthyCluster(cluster);
    const view = await etcd.readPatroniKeys(cluster.namespace, cluster.scope);
    expect(view.leader?.holder).toBe(leader);
    expect(view.leader?.leaseId).toMatch(/^\d+$/);
    expect(view.leader?.leaseGrantedTtlSeconds).toBe(30);
    expect(view.leader?.leaseTtlSeconds).toBeGreaterThan(0);
    expect(view.leader?.leaseTtlSeconds).toBeLessThanOrEqual(30);
    expect(Object.keys(view.members).sort()).toEqual(lab.members.map((m) => m.name).sort());
    expect(view.members[leader]?.api_url).toMatch(/\/patroni$/);
    expect(view.config).toMatchObject({ ttl: 30, loopWait: 10, maximumLagOnFailover: 1048576 });
    expect(view.initialize).toMatch(/^\d+$/);
    expect(view.status?.optime).toBeGreaterThan(0);
    expect(view.revision).toBeGreaterThan(0);
  });

  it('the DCS history matches GET /history', async () => {
    const patroni = PatroniClient.fromConfig(cluster.patroni);
    try {
      const [view, history] = await Promise.all([etcd.readPatroniKeys(cluster.namespace, cluster.scope), patroni.getHistory()]);
      expect(view.history.map((h) => [h.timeline, h.lsn])).toEqual(history.map((h) => [h.timeline, h.lsn]));
    } finally {
      await patroni.close();
    }
  });

  it('watches the scope prefix: a put and a delete under it arrive as events, and the disposer stops them', async () => {
    const events: DcsWatchEvent[] = [];
    const dispose = etcd.watchScope(cluster.namespace, cluster.scope, (e) => events.push(e));
    const writer = new Etcd3({ hosts: cluster.etcd.endpoints });
    const probeKey = `${scopePrefix(cluster.namespace, cluster.scope)}pgcockpit-watch-probe`;
    try {
      await waitFor('the watch to connect', () => (events.some((e) => e.kind === 'connected') ? true : undefined), { timeoutMs: 10_000 });
      await writer.put(probeKey).value('1');
      await writer.delete().key(probeKey);
      const seen = await waitFor(
        'the put and delete of the probe key',
        () => {
          const mine = events.filter((e) => (e.kind === 'put' || e.kind === 'delete') && e.name === 'pgcockpit-watch-probe');
          return mine.length >= 2 ? mine : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 20 },
      );
      expect(seen.map((e) => e.kind)).toEqual(['put', 'delete']);
      await dispose();
      const count = events.length;
      await writer.put(probeKey).value('2');
      await writer.delete().key(probeKey);
      // After the disposer: a fresh read shows the writes happened, and no event reached the listener.
      await etcd.readPatroniKeys(cluster.namespace, cluster.scope);
      expect(events.length).toBe(count);
    } finally {
      await dispose();
      await writer.delete().key(probeKey).catch(() => undefined);
      writer.close();
    }
  });

  it('cluster health: 3 healthy members, one raft leader, quorum healthy', async () => {
    const health = await etcd.clusterHealth();
    expect(health.members.map((m) => m.name).sort()).toEqual(lab.etcd.map((e) => e.name).sort());
    expect(health.members.every((m) => m.healthy)).toBe(true);
    expect(health.members.filter((m) => m.isLeader)).toHaveLength(1);
    expect(health.quorum).toBe('healthy');
  });
});

describe('etcd faults', () => {
  it('unreachable etcd: reads fail with "unreachable", health says quorum lost, quickly', async () => {
    const port = await unusedPort();
    const dead = new EtcdAdapter({ endpoints: [`http://127.0.0.1:${port}`], timeoutMs: 1500 });
    try {
      const started = Date.now();
      let error: unknown;
      try {
        await dead.readPatroniKeys(cluster.namespace, cluster.scope);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ source: 'etcd', endpoint: `http://127.0.0.1:${port}` });
      expect(['unreachable', 'timeout']).toContain((error as ServiceError).kind);
      expect((error as ServiceError).message).toContain(`etcd http://127.0.0.1:${port}`);
      const health = await dead.clusterHealth();
      expect(health.quorum).toBe('lost');
      expect(health.members[0]).toMatchObject({ healthy: false });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      dead.close();
    }
  });

  it('one endpoint dead among the configured ones: reads still work', async () => {
    const port = await unusedPort();
    const partial = new EtcdAdapter({ endpoints: [`http://127.0.0.1:${port}`, ...cluster.etcd.endpoints], timeoutMs: 2000 });
    try {
      const view = await waitFor('a read through a live endpoint', async () => partial.readPatroniKeys(cluster.namespace, cluster.scope).catch(() => undefined), { timeoutMs: 10_000 });
      expect(view.leader?.holder).toBeTruthy();
    } finally {
      partial.close();
    }
  });

  it('quorum arithmetic and key decoding (pure)', () => {
    expect([quorumState(3, 3), quorumState(3, 2), quorumState(3, 1), quorumState(5, 3), quorumState(0, 0)]).toEqual(['healthy', 'degraded', 'lost', 'degraded', 'lost']);
    const view = decodePatroniKeys(
      {
        leader: 'db2',
        'members/db1': '{"role":"replica"}',
        sync: '{"leader":"db2","sync_standby":"db1"}',
        failover: '{"leader":"db2","member":"db3","scheduled_at":"2030-01-01T00:00:00+00:00"}',
        history: 'not json',
        status: '{"optime":42,"slots":{"db1":40}}',
      },
      7,
    );
    expect(view).toMatchObject({ leader: { holder: 'db2' }, sync: { leader: 'db2', syncStandby: 'db1' }, failover: { leader: 'db2', member: 'db3', scheduledAt: '2030-01-01T00:00:00+00:00' }, history: [], status: { optime: 42, slots: { db1: 40 } }, revision: 7 });
    expect(scopePrefix('/service/', 'patroni1')).toBe('/service/patroni1/');
  });
});
