import { afterEach, describe, expect, it, vi } from 'vitest';
import { deriveSnapshot } from '../../src/model/derive.js';
import type * as DeriveModule from '../../src/model/derive.js';
import { LiveClusterStore } from '../../src/model/live-store.js';
import type { ClusterSources } from '../../src/model/sources.js';
import type { DcsView, PatroniMemberStatus } from '../../src/services/types.js';
import { waitFor } from '../../src/util/wait.js';
import { fakeHealthyReadings, fakeStoreCluster } from './fake-readings.js';

// deriveSnapshot as it is, counted: how many snapshots the store derives.
vi.mock('../../src/model/derive.js', async (importOriginal) => {
  const real = await importOriginal<typeof DeriveModule>();
  return { ...real, deriveSnapshot: vi.fn(real.deriveSnapshot) };
});
const derived = vi.mocked(deriveSnapshot);

/** FAKE sources (pure store logic): healthy readings; the leader's /patroni moves its WAL position on every call. */
function fakeSources(): ClusterSources & { leaderStatus: PatroniMemberStatus; probes: number } {
  const readings = fakeHealthyReadings();
  let lsn = 0x3000000;
  const sources = {
    leaderStatus: readings.memberStatus.db1 as PatroniMemberStatus,
    probes: 0,
    patroniCluster: async () => structuredClone(readings.cluster!),
    patroniHistory: async () => [],
    patroniConfig: async () => readings.config!,
    memberStatus: async (apiUrl: string) => {
      if (!apiUrl.includes('8001')) return structuredClone(readings.memberStatus.db2!);
      sources.probes += 1;
      lsn += 4096;
      return { ...structuredClone(sources.leaderStatus), walLsn: lsn, dcsLastSeen: sources.probes };
    },
    pingPostgres: async () => undefined,
    dcs: async () => structuredClone(readings.dcs as DcsView),
    etcdHealth: async () => readings.etcd!,
    postgres: async (member: { name: string }) => structuredClone(readings.postgres[member.name]!),
    close: async () => undefined,
  };
  return sources;
}

let store: LiveClusterStore | undefined;
afterEach(async () => {
  await store?.stop();
  store = undefined;
});

describe('the leader probe', () => {
  it('derives no new snapshot when it finds what it found last time (WAL positions aside), and one when the leader changes', async () => {
    const sources = fakeSources();
    store = new LiveClusterStore({ cluster: fakeStoreCluster(), sources, pollIntervalMs: 60_000, slowIntervalMs: 60_000, leaderProbeIntervalMs: 20, watchDcs: false });
    store.start();
    await store.whenFirstComplete();
    // Past the first probes' derivations (a derivation waits up to 100 ms for the rest of a round).
    await waitFor('ten probes', () => (sources.probes >= 10 ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
    const before = derived.mock.calls.length;
    const probesBefore = sources.probes;
    await waitFor('10 more probes', () => (sources.probes >= probesBefore + 10 ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
    expect(derived.mock.calls.length - before).toBe(0);

    // A finding that matters (a pending restart on the leader) is derived at once.
    sources.leaderStatus = { ...sources.leaderStatus, pendingRestart: true };
    await waitFor('the pending restart on screen', () => (store?.getSnapshot().members.find((m) => m.name === 'db1')?.pendingRestart ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 5,
    });
    expect(derived.mock.calls.length).toBeGreaterThan(before);
  });
});
