import { describe, expect, it } from 'vitest';
import type { Readings } from '../../src/model/derive.js';
import { deriveSnapshot } from '../../src/model/derive.js';
import { candidateOptions } from '../../src/ops/checks.js';
import { switchoverPreconditions } from '../../src/ops/switchover.js';
import { FAKE_NOW, fakeContext as fakeDeriveContext, fakeHealthyReadings } from '../model/fake-readings.js';
import { fakeContext } from './fake-snapshots.js';

/**
 * A lag no fresh reading gives must never pass the switchover's lag check (Patroni refuses a candidate over
 * maximum_lag_on_failover; pgcockpit refuses one whose replay lag it cannot know). Pure logic, from FAKE
 * readings through the derivation to the preconditions: each case names the readings it fakes.
 */

const MiB = 1024 * 1024;
/** db1's WAL position when the readings were taken; db2 replayed up to 0/5000060 and stopped (replay paused). */
const LEADER_NOW = 0x5000060 + 8 * MiB;

function failing(r: Readings, key: string, error: string): void {
  const [source] = key.split(':') as [never];
  r.sources[key] = { source, key, asOf: FAKE_NOW - 60_000, error, failingSince: FAKE_NOW - 5000, lastDurationMs: 3000 };
}

/**
 * Patroni 4.x shaped: replicas say "streaming" themselves (so a replica streams per Patroni even without the
 * leader's pg_stat_replication), /cluster's `lag` counts received WAL (0 B: db2 receives all of it). db2's
 * replay is paused 8 MiB behind the leader.
 */
function pausedReplicaReadings(): Readings {
  const r = fakeHealthyReadings();
  for (const m of r.cluster?.members ?? []) {
    if (m.role !== 'leader') Object.assign(m, { state: 'streaming', rawState: 'streaming' });
  }
  for (const name of ['db2', 'db3']) Object.assign(r.memberStatus[name] ?? {}, { state: 'streaming', rawState: 'streaming', patroniVersion: '4.0.4' });
  Object.assign(r.memberStatus.db1 ?? {}, { walLsn: LEADER_NOW, patroniVersion: '4.0.4' });
  Object.assign(r.postgres.db1 ?? {}, { currentLsn: '0/5800060' });
  Object.assign(r.postgres.db1?.replication[0] ?? {}, { replayLagBytes: 8 * MiB, replayLsn: '0/5000060' });
  Object.assign(r.postgres.db2 ?? {}, { replayLsn: '0/5000060', receiveLsn: '0/5800060', replayPaused: true });
  Object.assign(r.memberStatus.db2 ?? {}, { replayedLsn: 0x5000060, receivedLsn: LEADER_NOW, replayPaused: true });
  return r;
}

function check(r: Readings) {
  const snapshot = deriveSnapshot(r, fakeDeriveContext());
  return { snapshot, db2: snapshot.members.find((m) => m.name === 'db2'), result: switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext()) };
}

describe('switchover to a replica whose lag is not known from fresh readings', () => {
  it('all read now: db2 lags 8 MiB and is refused with its lag and the limit', () => {
    const { db2, result } = check(pausedReplicaReadings());
    expect(db2?.replayLagBytes).toBe(8 * MiB);
    expect(result.blockers.map((b) => b.message)).toEqual(['candidate db2 lags 8.0 MB > 1.0 MB (maximum_lag_on_failover)']);
  });

  it("the leader's SQL times out: the lag comes from the leader's /patroni position, still refused", () => {
    const r = pausedReplicaReadings();
    failing(r, 'postgres:db1', 'timeout after 3000 ms');
    const { db2, result } = check(r);
    expect(db2?.replayLagBytes).toBe(8 * MiB);
    expect(result.blockers.map((b) => b.code)).toEqual(['candidate-lag']);
  });

  it("the leader's SQL and REST both fail, their last readings stale: unknown (not the 0 B a stale position gives), refused", () => {
    const r = pausedReplicaReadings();
    // The last answers were read a minute ago, before the 8 MiB were written: the leader was at db2's replay position.
    Object.assign(r.postgres.db1 ?? {}, { currentLsn: '0/5000060' });
    Object.assign(r.memberStatus.db1 ?? {}, { walLsn: 0x5000060 });
    failing(r, 'postgres:db1', 'timeout after 3000 ms');
    failing(r, 'patroni:db1', 'timeout after 2000 ms');
    const { db2, result } = check(r);
    expect(db2?.state).toBe('streaming');
    expect(db2?.replayLagBytes).toBeUndefined();
    expect(result.blockers.map((b) => b.message)).toEqual([
      'the leader db1 is unreachable: a switchover needs a running leader (use failover)',
      "lag of candidate db2 unknown: the leader db1's WAL position is unknown (postgres:db1: timeout after 3000 ms; patroni:db1: timeout after 2000 ms); Patroni's /cluster lag counts received WAL, not replayed (limit 1.0 MB, maximum_lag_on_failover)",
    ]);
  });

  it("db2's own SQL and REST not read yet: Patroni's received-WAL lag (0 B) is not taken as its replay lag", () => {
    const r = pausedReplicaReadings();
    failing(r, 'postgres:db1', 'connection refused');
    delete r.postgres.db2;
    delete r.memberStatus.db2;
    delete r.sources['postgres:db2'];
    delete r.sources['patroni:db2'];
    const { db2, result } = check(r);
    expect(r.cluster?.members[1]?.replayLagBytes).toBe(0);
    expect(db2?.replayLagBytes).toBeUndefined();
    expect(result.blockers.map((b) => b.message)).toEqual([
      "lag of candidate db2 unknown: db2's replay position is unknown (postgres:db2: not read yet; patroni:db2: not read yet); Patroni's /cluster lag counts received WAL, not replayed (limit 1.0 MB, maximum_lag_on_failover)",
    ]);
  });

  it("Patroni 4.1's replay_lag is a replay lag: taken when positions are missing", () => {
    const r = pausedReplicaReadings();
    // The leader's Patroni answers without its WAL position (its own query failed); its SQL does not answer.
    failing(r, 'postgres:db1', 'connection refused');
    delete r.memberStatus.db1?.walLsn;
    Object.assign(r.cluster?.members[1] ?? {}, { replayLagBytes: 8 * MiB, receiveLagBytes: 0, lagBasis: 'replay' });
    const { db2, result } = check(r);
    expect(db2?.replayLagBytes).toBe(8 * MiB);
    expect(result.blockers.map((b) => b.code)).toEqual(['candidate-lag']);
  });

  it("a replication row without a replay position is unknown, and no candidate is picked on it", () => {
    const r = pausedReplicaReadings();
    const row = r.postgres.db1?.replication[0];
    if (row) delete row.replayLagBytes;
    const { snapshot, result } = check(r);
    expect(result.blockers.map((b) => b.message)).toEqual(["lag of candidate db2 unknown: db1's pg_stat_replication has no replay position for db2 yet (limit 1.0 MB, maximum_lag_on_failover)"]);
    expect(candidateOptions(snapshot).find((o) => o.member === 'db2')?.eligible).toBe(false);
  });
});
