import { afterEach, describe, expect, it } from 'vitest';
import { LiveClusterStore } from '../../src/model/live-store.js';
import type { ClusterSources } from '../../src/model/sources.js';
import type { BarmanBackup, DcsView } from '../../src/services/types.js';
import { waitFor } from '../../src/util/wait.js';
import { fakeHealthyReadings, fakeStoreCluster } from '../model/fake-readings.js';

/**
 * A verified backup handed to the store (recordBackup, what the backup operation does with the backup.info
 * it read) shows in the snapshot at once, without a Barman read; a Barman read that began before it cannot
 * hide it; one that began after it is Barman's word. FAKE sources (the store's own logic): the backup
 * operation on the lab is tested in side-restore.test.ts and the cockpit's Backups pane in test/e2e.
 */

const OLD: BarmanBackup = { id: '20261122T010000', status: 'DONE', beginTime: '2026-11-22T01:00:00.000Z', endTime: '2026-11-22T01:00:10.000Z', beginWal: '000000010000000000000002', endWal: '000000010000000000000002', timeline: 1 };
const NEW: BarmanBackup = { id: '20261122T020000', status: 'DONE', beginTime: '2026-11-22T02:00:00.000Z', endTime: '2026-11-22T02:00:09.500Z', beginWal: '000000010000000000000005', endWal: '000000010000000000000005', beginLsn: '0/5000028', endLsn: '0/6000000', timeline: 1, sizeBytes: 1_128_815_151 };

class Sources implements ClusterSources {
  readings = fakeHealthyReadings();
  barmanReads = 0;
  /** What list-backups answers; `held` keeps the next answer until released. */
  list: BarmanBackup[] = [OLD];
  held: { release: () => void } | undefined;
  holdNext = false;

  patroniCluster = async () => structuredClone(this.readings.cluster!);
  patroniHistory = async () => [];
  patroniConfig = async () => this.readings.config!;
  memberStatus = async () => Object.values(this.readings.memberStatus)[0]!;
  dcs = async () => structuredClone(this.readings.dcs as DcsView);
  etcdHealth = async () => this.readings.etcd!;
  postgres = async (member: { name: string }) => structuredClone(this.readings.postgres[member.name]!);
  barmanBackups = async () => {
    this.barmanReads += 1;
    const answer = [...this.list];
    if (this.holdNext) {
      this.holdNext = false;
      await new Promise<void>((resolve) => (this.held = { release: resolve }));
    }
    return answer;
  };
  close = async () => undefined;
}

const cluster = fakeStoreCluster({ barman: { server: 'patroni1', transport: { kind: 'local' }, timeoutMs: 5000 } });

let store: LiveClusterStore | undefined;
afterEach(async () => {
  await store?.stop();
  store = undefined;
});

const ids = () => store?.getSnapshot().backups.backups.map((b) => b.id) ?? [];
const until = (what: string, predicate: () => boolean) => waitFor(what, () => (predicate() ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });

async function started(sources: Sources): Promise<LiveClusterStore> {
  // Slow sources (Barman) every 60 s: only a refresh reads Barman again.
  const live = new LiveClusterStore({ cluster, sources, pollIntervalMs: 1000, slowIntervalMs: 60_000, leaderProbeIntervalMs: 0 });
  store = live;
  live.start();
  await live.whenFirstComplete();
  return live;
}

describe('recordBackup', () => {
  it('shows a verified backup at once, newest first, with its details, without reading Barman', async () => {
    const sources = new Sources();
    const live = await started(sources);
    expect(ids()).toEqual([OLD.id]);
    const reads = sources.barmanReads;
    live.recordBackup(NEW);
    await until('the new backup in the snapshot', () => ids().includes(NEW.id));
    expect(ids()).toEqual([NEW.id, OLD.id]);
    const shown = live.getSnapshot().backups.backups[0];
    expect(shown).toMatchObject({ status: 'DONE', endLsn: '0/6000000', timeline: 1, sizeBytes: 1_128_815_151 });
    expect(sources.barmanReads).toBe(reads);
    expect(live.getSnapshot().alerts.map((a) => a.id)).not.toContain('no-backup');
  });

  it('a Barman read that began before the record cannot hide it; a read that began after it is Barman’s word', async () => {
    const sources = new Sources();
    const live = await started(sources);
    // A read under way when the backup is recorded: it answers what Barman listed when it began (marked, to see it land).
    sources.list = [{ ...OLD, sizeBytes: 1 }];
    sources.holdNext = true;
    live.refresh();
    await until('a Barman read under way', () => sources.held !== undefined);
    live.recordBackup(NEW);
    await until('the new backup in the snapshot', () => ids().includes(NEW.id));
    sources.held?.release();
    await until('the earlier read in the snapshot', () => live.getSnapshot().backups.backups.find((b) => b.id === OLD.id)?.sizeBytes === 1);
    expect(ids()).toEqual([NEW.id, OLD.id]);
    // Barman lists it now: one entry, Barman's list merged with the details recorded.
    const { beginLsn: _notListed, ...listed } = NEW;
    sources.list = [{ ...listed, walSizeBytes: 4096 }, OLD];
    live.refresh();
    await until('Barman’s list in the snapshot', () => live.getSnapshot().backups.backups[0]?.walSizeBytes === 4096);
    expect(ids()).toEqual([NEW.id, OLD.id]);
    expect(live.getSnapshot().backups.backups[0]).toMatchObject({ beginLsn: '0/5000028', walSizeBytes: 4096 });
    // Deleted in Barman: a read that began after the record no longer lists it, and neither does the snapshot.
    sources.list = [OLD];
    live.refresh();
    await until('the deletion seen', () => !ids().includes(NEW.id));
    expect(ids()).toEqual([OLD.id]);
  });

  it('a store that reads no Barman ignores it', async () => {
    const { barmanBackups: _omitted, ...withoutBarman } = new Sources();
    const sources: ClusterSources = withoutBarman;
    const live = new LiveClusterStore({ cluster, sources, pollIntervalMs: 1000, leaderProbeIntervalMs: 0 });
    store = live;
    live.start();
    await live.whenFirstComplete();
    live.recordBackup(NEW);
    await new Promise((resolve) => setImmediate(resolve));
    expect(live.getSnapshot().backups.backups).toEqual([]);
  });
});
