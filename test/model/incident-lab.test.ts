import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { EventLogFile } from '../../src/model/event-log.js';
import { predictedLeaders } from '../../src/model/incident.js';
import { LiveClusterStore } from '../../src/model/live-store.js';
import { createServiceSources } from '../../src/model/service-sources.js';
import type { ClusterSnapshot } from '../../src/model/snapshot.js';
import { PatroniClient } from '../../src/services/patroni.js';
import { waitFor } from '../../src/util/wait.js';
import { killLeader as killLabLeader, restoreLab, waitHealthy } from '../support/lab-faults.js';
import { testLab } from '../support/lab.js';

// Incident mode on the real lab: kill -9 the leader (Patroni and its postmaster) and follow what happens.
const lab = testLab();
const cluster = loadConfig(path.join(inject('labDir'), 'pgcockpit.yaml')).clusters[0] as ClusterConfig;
const killLeader = () => killLabLeader(lab, cluster);
const eventDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-incident-events-'));
let store: LiveClusterStore;

function until(what: string, predicate: (s: ClusterSnapshot) => boolean, timeoutMs = 90_000): Promise<ClusterSnapshot> {
  let last = '';
  return waitFor(
    what,
    () => {
      const s = store.getSnapshot();
      last = `leader ${s.leader}, incident ${JSON.stringify(s.incident ?? null).slice(0, 400)}`;
      return predicate(s) ? s : undefined;
    },
    { timeoutMs, intervalMs: 20, describeFailure: () => last },
  );
}

function openStore(): LiveClusterStore {
  const s = new LiveClusterStore({
    cluster,
    sources: createServiceSources(cluster),
    pollIntervalMs: 1000,
    leaderProbeIntervalMs: 300,
    eventLog: new EventLogFile(EventLogFile.pathFor(cluster.name, eventDir)),
  });
  s.start();
  return s;
}


beforeAll(async () => {
  await waitHealthy(lab);
  store = openStore();
  await store.whenFirstComplete();
});

afterAll(async () => {
  await store.stop();
  await restoreLab(lab);
});

describe('incident mode on the lab', () => {
  it('flags a killed leader within 2 s, counts down to the lease, predicts the new leader, shows the RTO and tracks the rejoin', async () => {
    await until('no incident and a leader', (s) => s.incident === undefined && s.leader !== undefined);
    const { leader, killedAt, leaseExpiresAt } = await killLeader();

    const flagged = await until('the leader flagged unreachable', (s) => s.incident?.oldLeader === leader, 10_000);
    const flagEvent = store.getEvents().find((e) => e.kind === 'incident' && e.message.startsWith(`leader ${leader} unreachable`));
    expect(flagEvent).toBeDefined();
    expect((flagEvent?.at ?? Infinity) - killedAt).toBeLessThan(2000);
    await until('the lease read', (s) => s.incident?.lease !== undefined, 10_000);
    const lease = store.getSnapshot().incident?.lease;
    expect(Math.abs((lease?.expiresAt ?? 0) - leaseExpiresAt)).toBeLessThan(2000);
    const predicted = predictedLeaders(flagged.incident?.candidates ?? []);
    expect(predicted.length).toBeGreaterThan(0);

    const failedOver = await until('a new leader', (s) => s.incident?.newLeader !== undefined, 90_000);
    // On an idle lab the replicas are often at the same WAL position: a tie, which Patroni settles by a race.
    expect(predicted).toContain(failedOver.incident?.newLeader);
    const withWrites = await until('writes through the write port', (s) => s.incident?.writesAt !== undefined, 30_000);
    expect((withWrites.incident?.writesAt ?? 0) - (withWrites.incident?.firstSeenAt ?? 0)).toBeGreaterThan(0);
    expect(store.getEvents().some((e) => /RTO [\d.]+ s as observed/.test(e.message))).toBe(true);

    // The old leader comes back: the lab starts its Patroni again; it rejoins as a replica.
    await restoreLab(lab);
    await until('the old leader streaming again', (s) => s.incident?.checklist.every((c) => c.done) === true, 120_000);

    // A cockpit restarted now still has the whole story, in order.
    await store.stop();
    store = openStore();
    await store.whenFirstComplete();
    const kinds = store
      .getEvents()
      .filter((e) => e.at >= killedAt - 1000)
      .map((e) => (e.kind === 'incident' ? e.message.split(' ').slice(0, 3).join(' ') : e.kind));
    const order = [`leader ${leader} unreachable`, 'leader key of', 'leader-changed', 'timeline-changed', `${leader}: rejoined as`];
    const positions = order.map((prefix) => kinds.findIndex((k) => k.startsWith(prefix.split(' ').slice(0, 3).join(' '))));
    expect(positions.every((p) => p >= 0), JSON.stringify(kinds)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  }, 300_000);

  it('with the cluster paused, says no automatic failover will happen', async () => {
    await waitHealthy(lab);
    await until('the previous incident over', (s) => s.incident === undefined || s.incident.phase === 'recovered');
    const patroni = PatroniClient.fromConfig(cluster.patroni);
    try {
      await patroni.patchConfig({ pause: true });
      await until('paused', (s) => s.paused);
      const { leader } = await killLeader();
      const incident = await until('the leader flagged', (s) => s.incident?.oldLeader === leader && s.incident.phase === 'leader-unreachable', 10_000);
      expect(incident.incident?.autoFailover).toBe(false);
      expect(incident.alerts.find((a) => a.id === 'paused')?.message).toContain('will not fail over automatically');
    } finally {
      // Resume (Patroni then fails over as usual) and bring the killed member back.
      await patroni.patchConfig({ pause: false });
      await patroni.close();
    }
    await until('resumed', (s) => !s.paused);
    await restoreLab(lab);
  }, 300_000);
});
