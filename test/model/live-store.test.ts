import { afterEach, describe, expect, it } from 'vitest';
import { LiveClusterStore } from '../../src/model/live-store.js';
import type { SourceSelection } from '../../src/model/source-selection.js';
import { unreadSources } from '../../src/model/source-selection.js';
import type { ClusterSources } from '../../src/model/sources.js';
import type { CallOptions, DcsView } from '../../src/services/types.js';
import { waitFor } from '../../src/util/wait.js';
import { fakeHealthyReadings, fakeStoreCluster } from './fake-readings.js';

/**
 * FAKE sources for the poller's own logic (skip-while-busy, back-off, staleness, the watch trigger);
 * the real adapters are tested against the lab in test/services and test/model/live-store-lab.test.ts.
 */
class FakeClusterSources implements ClusterSources {
  readings = fakeHealthyReadings();
  calls: Record<string, number> = {};
  concurrent: Record<string, number> = {};
  maxConcurrent: Record<string, number> = {};
  failing = new Set<string>();
  hanging = new Set<string>();
  watcher: (() => void) | undefined;

  private async answer<T>(key: string, value: () => T, options: CallOptions): Promise<T> {
    this.calls[key] = (this.calls[key] ?? 0) + 1;
    this.concurrent[key] = (this.concurrent[key] ?? 0) + 1;
    this.maxConcurrent[key] = Math.max(this.maxConcurrent[key] ?? 0, this.concurrent[key] ?? 0);
    try {
      if (this.hanging.has(key)) {
        await new Promise((_, reject) => options.signal?.addEventListener('abort', () => reject(options.signal?.reason as Error), { once: true }));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (this.failing.has(key)) throw new Error(`${key} refused the connection`);
      return value();
    } finally {
      this.concurrent[key] = (this.concurrent[key] ?? 1) - 1;
    }
  }

  patroniCluster = (o: CallOptions) => this.answer('patroni', () => structuredClone(this.readings.cluster!), o);
  patroniHistory = (o: CallOptions) => this.answer('history', () => [], o);
  patroniConfig = (o: CallOptions) => this.answer('config', () => this.readings.config!, o);
  memberStatus = (apiUrl: string, o: CallOptions) => this.answer(`patroni:${apiUrl}`, () => Object.values(this.readings.memberStatus)[0]!, o);
  dcs = (o: CallOptions) => this.answer('dcs', () => structuredClone(this.readings.dcs as DcsView), o);
  etcdHealth = (o: CallOptions) => this.answer('etcd', () => this.readings.etcd!, o);
  postgres = (member: { name: string }, o: CallOptions) => this.answer(`postgres:${member.name}`, () => structuredClone(this.readings.postgres[member.name]!), o);
  haproxy = (o: CallOptions) => this.answer('haproxy', () => this.readings.haproxy!, o);
  watchDcs = (onChange: () => void) => {
    this.watcher = onChange;
    return () => (this.watcher = undefined);
  };
  close = async () => undefined;
}

const cluster = fakeStoreCluster();

let store: LiveClusterStore | undefined;
afterEach(async () => {
  await store?.stop();
  store = undefined;
});

function until(what: string, predicate: () => boolean, timeoutMs = 5000) {
  return waitFor(what, () => (predicate() ? true : undefined), { timeoutMs, intervalMs: 5 });
}

describe('LiveClusterStore', () => {
  it('builds the snapshot from every source and reports when the first round is complete', async () => {
    const sources = new FakeClusterSources();
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 100 });
    store.start();
    await store.whenFirstComplete();
    const snapshot = store.getSnapshot();
    expect(snapshot.leader).toBe('db1');
    expect(snapshot.members.map((m) => m.state)).toEqual(['running', 'streaming', 'streaming']);
    expect(snapshot.alerts).toEqual([]);
    expect(store.getEvents()[0]?.message).toBe('watching lab (patroni1): leader db1, 3 members');
  });

  it('never runs a second read of a source while the first runs, however often a refresh is asked', async () => {
    const sources = new FakeClusterSources();
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 20 });
    store.start();
    await store.whenFirstComplete();
    for (let i = 0; i < 50; i++) store.refresh();
    await until('20 more reads of /cluster', () => (sources.calls.patroni ?? 0) > 20);
    expect(sources.maxConcurrent.patroni).toBe(1);
    expect(sources.maxConcurrent.dcs).toBe(1);
  });

  it('marks a hanging source stale with its timeout, keeps the rest updating, and backs off', async () => {
    const sources = new FakeClusterSources();
    sources.hanging.add('haproxy');
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 20, maxBackoffMs: 400 });
    store.start();
    await store.whenFirstComplete();
    const haproxy = store.getSnapshot().sources.haproxy;
    expect(haproxy?.error).toBe('timed out after 300 ms');
    expect(haproxy?.failingSince).toBeTypeOf('number');
    expect(store.getSnapshot().alerts.map((a) => a.id)).toContain('stale:haproxy');
    // meanwhile the fast sources go on: /cluster is read again and again while HAProxy still hangs
    const before = sources.calls.patroni ?? 0;
    await until('5 more reads of /cluster', () => (sources.calls.patroni ?? 0) >= before + 5);
    expect(store.getSnapshot().sources.haproxy?.error).toBe('timed out after 300 ms');
  });

  it('a failing source is stale with its error; when it answers again the alert clears', async () => {
    const sources = new FakeClusterSources();
    sources.failing.add('postgres:db2');
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 20, maxBackoffMs: 100 });
    store.start();
    await store.whenFirstComplete();
    const db2 = store.getSnapshot().members.find((m) => m.name === 'db2');
    expect(db2?.sqlReachable).toBe(false);
    expect(db2?.sqlError).toBe('postgres:db2 refused the connection');
    expect(store.getSnapshot().alerts.map((a) => a.id)).toContain('sql-unreachable:db2');
    sources.failing.delete('postgres:db2');
    await until('db2 SQL back', () => store?.getSnapshot().members.find((m) => m.name === 'db2')?.sqlReachable === true);
    expect(store.getSnapshot().alerts.map((a) => a.id)).not.toContain('sql-unreachable:db2');
    expect(store.getEvents().some((e) => e.kind === 'alert-cleared' && e.message.includes('db2: PostgreSQL does not answer'))).toBe(true);
  });

  it('a DCS watch event brings a leader change in at once, not at the next poll', async () => {
    const sources = new FakeClusterSources();
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 60_000, slowIntervalMs: 60_000 });
    store.start();
    await store.whenFirstComplete();
    expect(store.getSnapshot().leader).toBe('db1');
    if (sources.readings.dcs?.leader) sources.readings.dcs.leader.holder = 'db2';
    const changed = new Promise<number>((resolve) => {
      const off = store?.subscribe(() => {
        if (store?.getSnapshot().leader === 'db2') {
          off?.();
          resolve(Date.now());
        }
      });
    });
    const fired = Date.now();
    sources.watcher?.();
    const seen = await changed;
    expect(seen - fired).toBeLessThan(500);
    expect(store.getEvents().some((e) => e.kind === 'leader-changed' && e.message === 'leader changed: db1 → db2')).toBe(true);
  });

  it('keeps lag history bounded', async () => {
    const sources = new FakeClusterSources();
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 10, lagHistoryCapacity: 5 });
    store.start();
    await store.whenFirstComplete();
    await until('the lag history to fill', () => store?.getLagHistory('db2').length === 5);
    const first = store.getLagHistory('db2')[0]?.at;
    await until('older samples to be dropped', () => (store?.getLagHistory('db2')[0]?.at ?? 0) > (first ?? 0));
    const history = store.getLagHistory('db2');
    expect(history.length).toBe(5);
    expect(store.getLagHistory('db1')).toEqual([]);
  });

  it("the cockpit's start-up: Patroni alone until the first frame with its answer is drawn (othersAfter), then every source and the watch", async () => {
    const sources = new FakeClusterSources();
    let drawn: () => void = () => undefined;
    const othersAfter = new Promise<void>((resolve) => {
      drawn = resolve;
    });
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 20, patroniFirstMs: 60_000, othersAfter });
    store.start();
    await until('/cluster read twice', () => (sources.calls.patroni ?? 0) >= 2);
    // Nothing else yet: not the DCS, not the members' REST and SQL that /cluster named, not the watch.
    expect(Object.keys(sources.calls)).toEqual(['patroni']);
    expect(sources.watcher).toBeUndefined();
    expect(store.getSnapshot().leader).toBe('db1');
    expect(store.getSnapshot().members.map((m) => m.name)).toEqual(['db1', 'db2', 'db3']);
    drawn();
    await store.whenFirstComplete();
    expect(sources.calls.dcs).toBeGreaterThan(0);
    expect(sources.calls['postgres:db2']).toBeGreaterThan(0);
    expect(sources.watcher).toBeTypeOf('function');
  });

  it("the cockpit's start-up: the other sources wait patroniFirstMs at most when no frame comes", async () => {
    const sources = new FakeClusterSources();
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 20, patroniFirstMs: 150, othersAfter: new Promise<void>(() => undefined) });
    const started = performance.now();
    store.start();
    await store.whenFirstComplete();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(sources.calls.dcs).toBeGreaterThan(0);
    expect(sources.watcher).toBeTypeOf('function');
  });
});

describe('LiveClusterStore: some sources only (a one-shot command)', () => {
  const backupReads: SourceSelection = { keys: ['patroni', 'dcs'], leader: true };

  it("runs only the selected sources (a member's for the leader only) and says when they are read", async () => {
    const sources = new FakeClusterSources();
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 100, watchDcs: false, leaderProbeIntervalMs: 0, only: backupReads });
    store.start();
    await store.whenSourcesRead(backupReads);
    const snapshot = store.getSnapshot();
    expect(Object.keys(snapshot.sources).sort()).toEqual(['dcs', 'patroni', 'patroni:db1', 'postgres:db1']);
    expect(unreadSources(backupReads, snapshot)).toEqual([]);
    expect(snapshot.leader).toBe('db1');
    expect(snapshot.members.find((m) => m.name === 'db1')?.state).toBe('running');
    // Never started: etcd's health, the history, the dynamic config, HAProxy, the replicas' REST APIs and PostgreSQL.
    for (const key of ['etcd', 'history', 'config', 'haproxy', 'postgres:db2', 'postgres:db3', 'patroni:http://127.0.0.1:8002/patroni', 'patroni:http://127.0.0.1:8003/patroni']) {
      expect(sources.calls[key], key).toBeUndefined();
    }
  });

  it('waits for a selected source that answers late: resolved by its failure, not before', async () => {
    const sources = new FakeClusterSources();
    sources.hanging.add('postgres:db1');
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 100, watchDcs: false, leaderProbeIntervalMs: 0, only: backupReads });
    let resolved = false;
    store.start();
    const read = store.whenSourcesRead(backupReads).then(() => (resolved = true));
    await until("db1's REST API read", () => store?.getSnapshot().sources['patroni:db1']?.asOf !== undefined);
    expect(resolved).toBe(false);
    expect(unreadSources(backupReads, store.getSnapshot())).toEqual(['postgres:db1']);
    await read;
    expect(store.getSnapshot().sources['postgres:db1']?.error).toBe('timed out after 300 ms');
    expect(unreadSources(backupReads, store.getSnapshot())).toEqual([]);
  });

  it('resolves once every source it runs is read, leaving unread what it does not run', async () => {
    const sources = new FakeClusterSources();
    store = new LiveClusterStore({ cluster, sources, pollIntervalMs: 100, watchDcs: false, leaderProbeIntervalMs: 0 });
    store.start();
    // No Barman in these sources: it can never be read, and the wait ends with the first complete round.
    const withBarman: SourceSelection = { keys: ['patroni', 'barman'] };
    await store.whenSourcesRead(withBarman);
    expect(unreadSources(withBarman, store.getSnapshot())).toEqual(['barman']);
    // Nothing selected: nothing to wait for.
    await expect(new LiveClusterStore({ cluster, sources: new FakeClusterSources(), pollIntervalMs: 100 }).whenSourcesRead({ keys: [] })).resolves.toBeUndefined();
  });

  it('keeps what a runner records after the store stopped, and no timer keeps the process alive for it', async () => {
    // A side restore's store: no source at all.
    store = new LiveClusterStore({ cluster, sources: new FakeClusterSources(), pollIntervalMs: 100, only: { keys: [] } });
    store.start();
    await store.whenSourcesRead({ keys: [] });
    await store.stop();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    for (const step of ['preflight', 'request:backup', 'verify']) store.recordEvent({ at: Date.now(), kind: 'operation', severity: 'info', message: `backup: ${step} done` });
    expect(timers()).toBe(before);
    expect(store.getEvents().at(-1)?.message).toBe('backup: verify done');
  });
});
