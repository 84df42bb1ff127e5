import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { EtcdAdapter, scopePrefix } from '../../src/services/etcd.js';
import { EtcdHttpReader } from '../../src/services/etcd-http.js';
import type { DcsWatchEvent } from '../../src/services/types.js';
import { ServiceError } from '../../src/services/types.js';
import { waitFor } from '../../src/util/wait.js';
import { unusedPort } from './fake-peer.js';
import { testLabCluster, waitForHealthyCluster } from './lab-config.js';

const cluster = testLabCluster();
const etcd = EtcdAdapter.fromConfig(cluster.etcd);
const reader = new EtcdHttpReader({ endpoints: cluster.etcd.endpoints, timeoutMs: cluster.etcd.timeoutMs });
afterAll(async () => {
  etcd.close();
  await reader.close();
});

describe("etcd's JSON gateway (one-shot reads) on the lab", () => {
  it('reads the same Patroni keys and lease as etcd3', async () => {
    const leader = await waitForHealthyCluster(cluster);
    const [viaGateway, viaGrpc] = await Promise.all([reader.readPatroniKeys(cluster.namespace, cluster.scope), etcd.readPatroniKeys(cluster.namespace, cluster.scope)]);
    expect(viaGateway.leader?.holder).toBe(leader);
    expect(viaGateway.leader?.leaseId).toBe(viaGrpc.leader?.leaseId);
    expect(viaGateway.leader?.leaseGrantedTtlSeconds).toBe(30);
    expect(viaGateway.leader?.leaseTtlSeconds).toBeGreaterThan(0);
    expect(Object.keys(viaGateway.members).sort()).toEqual(Object.keys(viaGrpc.members).sort());
    expect(viaGateway.config).toEqual(viaGrpc.config);
    expect(viaGateway.history).toEqual(viaGrpc.history);
    expect(viaGateway.initialize).toBe(viaGrpc.initialize);
  });

  it("reads every member's health as etcd3 does", async () => {
    const [viaGateway, viaGrpc] = await Promise.all([reader.clusterHealth(), etcd.clusterHealth()]);
    expect(viaGateway.quorum).toBe('healthy');
    expect(viaGateway.members.map((m) => [m.name, m.endpoint, m.healthy]).sort()).toEqual(viaGrpc.members.map((m) => [m.name, m.endpoint, m.healthy]).sort());
    expect(viaGateway.members.filter((m) => m.isLeader)).toHaveLength(1);
  });

  it('an unreachable endpoint is an unreachable ServiceError naming it; the next endpoint is tried', async () => {
    const dead = `http://127.0.0.1:${await unusedPort()}`;
    const only = new EtcdHttpReader({ endpoints: [dead], timeoutMs: 1000 });
    try {
      const error = await only.readPatroniKeys(cluster.namespace, cluster.scope).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceError);
      expect((error as ServiceError).kind).toBe('unreachable');
      expect((error as ServiceError).message).toContain(dead);
    } finally {
      await only.close();
    }
    const both = new EtcdHttpReader({ endpoints: [dead, ...cluster.etcd.endpoints], timeoutMs: 2000 });
    try {
      expect((await both.readPatroniKeys(cluster.namespace, cluster.scope)).leader?.holder).toBeDefined();
    } finally {
      await both.close();
    }
  });

  it('watches the scope prefix through the gateway: a put (with its value) and a delete arrive, a dead first endpoint is skipped, the disposer stops them', async () => {
    const dead = `http://127.0.0.1:${await unusedPort()}`;
    const watcher = new EtcdHttpReader({ endpoints: [dead, ...cluster.etcd.endpoints], timeoutMs: 1000 });
    const events: DcsWatchEvent[] = [];
    const dispose = watcher.watchScope(cluster.namespace, cluster.scope, (e) => events.push(e));
    const writer = new Etcd3({ hosts: cluster.etcd.endpoints });
    const probeKey = `${scopePrefix(cluster.namespace, cluster.scope)}pgcockpit-gateway-watch-probe`;
    const mine = () => events.filter((e): e is Extract<DcsWatchEvent, { kind: 'put' | 'delete' }> => (e.kind === 'put' || e.kind === 'delete') && e.name === 'pgcockpit-gateway-watch-probe');
    try {
      await waitFor('the watch to connect', () => (events.some((e) => e.kind === 'connected') ? true : undefined), { timeoutMs: 10_000 });
      expect(events.find((e) => e.kind === 'disconnected')).toMatchObject({ kind: 'disconnected' });
      await writer.put(probeKey).value('{"state":"running"}');
      await writer.delete().key(probeKey);
      const seen = await waitFor('the put and delete of the probe key', () => (mine().length >= 2 ? mine() : undefined), { timeoutMs: 10_000, intervalMs: 20 });
      expect(seen.map((e) => [e.kind, e.value])).toEqual([
        ['put', '{"state":"running"}'],
        ['delete', undefined],
      ]);
      expect(seen[0]?.revision).toBeLessThan(seen[1]?.revision ?? 0);
      await dispose();
      const count = events.length;
      await writer.put(probeKey).value('2');
      await writer.delete().key(probeKey);
      // After the disposer: a fresh read shows the writes happened, and no event reached the listener.
      await reader.readPatroniKeys(cluster.namespace, cluster.scope);
      expect(events.length).toBe(count);
    } finally {
      await dispose();
      await writer.delete().key(probeKey).catch(() => undefined);
      writer.close();
      await watcher.close();
    }
  });
});
