import { describe, expect, it } from 'vitest';
import { archivedReader } from '../../src/ops/pitr.js';
import { fakeCluster, fakeHealthySnapshot } from '../ops/fake-snapshots.js';
import { FakeClusterStore } from '../support/fake-store.js';

/**
 * The end of the recovery window a side restore validates against: the pg_stat_archiver of the server Barman
 * backs up, asked with one SQL query (FAKE member queries and Barman status), so that a one-shot side restore
 * needs none of the store's sources.
 */

const ARCHIVED_EPOCH = Date.parse('2026-11-21T11:59:00Z') / 1000;

function reader(options: { leaderKnown: boolean; inRecovery: boolean }) {
  const asked: string[] = [];
  const snapshot = fakeHealthySnapshot((s) => {
    if (!options.leaderKnown) {
      s.members = [];
      delete s.leader;
    }
  });
  const read = archivedReader(
    {
      cluster: fakeCluster(),
      store: new FakeClusterStore(snapshot),
      memberQuery: (member) => {
        asked.push(`${member.name} ${member.host}:${member.port}`);
        return Promise.resolve([{ in_recovery: options.inRecovery, last_archived_wal: '000000010000000000000007', last_archived_epoch: ARCHIVED_EPOCH }]);
      },
    },
    {
      status: () => {
        asked.push('barman status');
        return Promise.resolve({ active: true, lastArchivedWal: '000000010000000000000006', raw: {} });
      },
    },
  );
  return { asked, read: () => read(new AbortController().signal) };
}

describe('the last archived WAL for a side restore (FAKE queries)', () => {
  it('asks the leader the store knows', async () => {
    const { asked, read } = reader({ leaderKnown: true, inRecovery: false });
    expect(await read()).toEqual({ lastArchivedWal: '000000010000000000000007', lastArchivedAt: '2026-11-21T11:59:00.000Z' });
    expect(asked).toEqual(['db1 127.0.0.1:15431']);
  });

  it('without a store reading: through the HAProxy write port, as Barman connects', async () => {
    const { asked, read } = reader({ leaderKnown: false, inRecovery: false });
    expect((await read()).lastArchivedWal).toBe('000000010000000000000007');
    expect(asked).toEqual(['HAProxy write port 127.0.0.1:5551']);
  });

  it('a server in recovery does not say what the leader archived: Barman is asked', async () => {
    const { asked, read } = reader({ leaderKnown: false, inRecovery: true });
    expect((await read()).lastArchivedWal).toBe('000000010000000000000006');
    expect(asked).toEqual(['HAProxy write port 127.0.0.1:5551', 'barman status']);
  });
});
