import { describe, expect, it } from 'vitest';
import { backupPreconditions, BACKUP_READS } from '../../src/ops/backup.js';
import { bestCandidate, candidateOptions, leaderBlockers } from '../../src/ops/checks.js';
import { drillPreconditions } from '../../src/ops/drill.js';
import { failoverPreconditions } from '../../src/ops/failover.js';
import { pauseOperation, resumeOperation } from '../../src/ops/pause.js';
import { reinitPreconditions } from '../../src/ops/reinit.js';
import { reloadPreconditions } from '../../src/ops/reload.js';
import { restartPreconditions, restartTargets } from '../../src/ops/restart.js';
import { switchoverPlan, switchoverPreconditions } from '../../src/ops/switchover.js';
import type { Preconditions } from '../../src/ops/types.js';
import { FAKE_NOW, fakeCluster, fakeContext, fakeHealthySnapshot, fakePatroni4Snapshot, member } from './fake-snapshots.js';

const codes = (p: Preconditions) => ({ blockers: p.blockers.map((r) => r.code), warnings: p.warnings.map((r) => r.code) });

describe('switchover preconditions (FAKE snapshots)', () => {
  it('a healthy cluster passes, to a named candidate or the best one', () => {
    const snapshot = fakeHealthySnapshot();
    expect(switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext())).toEqual({ blockers: [], warnings: [] });
    expect(switchoverPreconditions(snapshot, {}, fakeContext())).toEqual({ blockers: [], warnings: [] });
  });

  it('the best candidate is the eligible replica with the least lag', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      member(s, 'db2').replayLagBytes = 4096;
      member(s, 'db3').replayLagBytes = 100;
    });
    expect(bestCandidate(snapshot)).toBe('db3');
    member(snapshot, 'db3').nofailover = true;
    expect(bestCandidate(snapshot)).toBe('db2');
  });

  it('refuses without a leader', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      delete s.leader;
      member(s, 'db1').role = 'replica';
    });
    const result = switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext());
    expect(result.blockers.map((b) => b.code)).toContain('no-leader');
    expect(result.blockers.find((b) => b.code === 'no-leader')?.message).toMatch(/there is no leader/);
  });

  it('refuses when the leader is unreachable (a failover is needed)', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      member(s, 'db1').state = 'unreachable';
    });
    expect(codes(switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext())).blockers).toContain('leader-down');
  });

  it('refuses the leader itself as candidate', () => {
    const result = switchoverPreconditions(fakeHealthySnapshot(), { candidate: 'db1' }, fakeContext());
    expect(result.blockers).toEqual([{ code: 'candidate-is-leader', member: 'db1', message: 'db1 is already the leader' }]);
  });

  it('refuses an unknown member and lists the members', () => {
    const result = switchoverPreconditions(fakeHealthySnapshot(), { candidate: 'db9' }, fakeContext());
    expect(result.blockers[0]?.message).toBe('there is no member named db9 (members: db1, db2, db3)');
  });

  it('refuses a lagging candidate, saying the figure and the limit', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      member(s, 'db3').replayLagBytes = 12 * 1024 * 1024;
    });
    const result = switchoverPreconditions(snapshot, { candidate: 'db3' }, fakeContext());
    expect(result.blockers.map((b) => b.message)).toEqual(['candidate db3 lags 12.0 MB > 1.0 MB (maximum_lag_on_failover)']);
  });

  it('a lag exactly at maximum_lag_on_failover is allowed', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      member(s, 'db2').replayLagBytes = 1_048_576;
    });
    expect(switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext()).blockers).toEqual([]);
  });

  it('uses the cluster limit from the dynamic configuration', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      s.dcs.maximumLagOnFailover = 10 * 1024 * 1024;
      member(s, 'db2').replayLagBytes = 5 * 1024 * 1024;
    });
    expect(switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext()).blockers).toEqual([]);
  });

  it('refuses a candidate whose lag is unknown', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      delete member(s, 'db2').replayLagBytes;
    });
    expect(codes(switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext())).blockers).toEqual(['candidate-lag-unknown']);
  });

  it('refuses a candidate that is not streaming, with its state', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      member(s, 'db2').state = 'running';
    });
    const result = switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext());
    expect(result.blockers.map((b) => b.message)).toEqual(['candidate db2 is not streaming from db1 (state: running)']);
    // The other replica warns, but does not block.
    expect(codes(switchoverPreconditions(snapshot, { candidate: 'db3' }, fakeContext()))).toEqual({ blockers: [], warnings: ['replica-not-streaming'] });
  });

  it('refuses a nofailover candidate', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      member(s, 'db2').nofailover = true;
    });
    expect(switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext()).blockers.map((b) => b.message)).toEqual([
      'candidate db2 is tagged nofailover: Patroni will not promote it',
    ]);
  });

  it('without a named candidate, refuses when no replica is eligible and says why for each', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      member(s, 'db2').nofailover = true;
      member(s, 'db3').replayLagBytes = 3 * 1024 * 1024;
    });
    const result = switchoverPreconditions(snapshot, {}, fakeContext());
    expect(result.blockers.map((b) => b.code)).toEqual(['no-candidate']);
    expect(result.blockers[0]?.message).toContain('db2 is tagged nofailover');
    expect(result.blockers[0]?.message).toContain('db3 lags 3.0 MB > 1.0 MB');
    expect(candidateOptions(snapshot).map((o) => [o.member, o.eligible])).toEqual([
      ['db2', false],
      ['db3', false],
    ]);
  });

  it('refuses while another operation runs, saying which and since when', () => {
    const startedAt = new Date(2026, 10, 21, 12, 1, 3).getTime();
    const result = switchoverPreconditions(fakeHealthySnapshot(), { candidate: 'db2' }, fakeContext({ running: { operation: 'switchover', startedAt } }));
    expect(result.blockers.map((b) => b.message)).toEqual(['switchover running since 12:01:03']);
  });

  it('refuses in read-only mode', () => {
    const result = switchoverPreconditions(fakeHealthySnapshot(), { candidate: 'db2' }, fakeContext({ readOnly: true }));
    expect(codes(result).blockers).toEqual(['read-only']);
  });

  it('refuses when the state is unknown or etcd has lost quorum', () => {
    const empty = fakeHealthySnapshot((s) => {
      s.members = [];
      delete s.leader;
      s.sources = { patroni: { source: 'patroni', key: 'patroni', error: 'Patroni REST refused the connection' } };
    });
    expect(switchoverPreconditions(empty, {}, fakeContext()).blockers[0]?.message).toMatch(/state is unknown.*refused the connection/);
    const lost = fakeHealthySnapshot((s) => {
      s.etcd = {
        quorum: 'lost',
        members: [
          { name: 'etcd1', endpoint: 'a', healthy: true },
          { name: 'etcd2', endpoint: 'b', healthy: false },
          { name: 'etcd3', endpoint: 'c', healthy: false },
        ],
      };
    });
    expect(switchoverPreconditions(lost, { candidate: 'db2' }, fakeContext()).blockers.map((b) => b.message)).toEqual([
      'etcd has lost quorum (etcd2, etcd3 down): Patroni cannot move the leader key',
    ]);
    // Health probes that timed out while Patroni's keys were just read (a quorum read) do not block.
    lost.sources = { dcs: { source: 'etcd', key: 'dcs', asOf: FAKE_NOW - 500 } };
    expect(switchoverPreconditions(lost, { candidate: 'db2' }, fakeContext()).blockers).toEqual([]);
  });

  it('warns (without blocking) of a running backup and lists long transactions on the leader', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      s.backups.running = { id: '20261121T115500', status: 'STARTED', beginTime: '2026-11-21T11:55:00Z' };
      const detail = member(s, 'db1').detail;
      if (!detail) throw new Error('fake leader has detail');
      detail.longestTransactions = [
        { pid: 4242, user: 'app', applicationName: 'billing', state: 'idle in transaction', xactAgeSeconds: 723, query: 'UPDATE invoices SET paid = true WHERE id = 7' },
        { pid: 4243, user: 'app', xactAgeSeconds: 12, query: 'SELECT 1' },
      ];
    });
    const result = switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext());
    expect(result.blockers).toEqual([]);
    expect(result.warnings.map((w) => w.code)).toEqual(['backup-running', 'long-transactions']);
    expect(result.warnings[0]?.message).toContain('20261121T115500');
    const long = result.warnings[1]?.message ?? '';
    expect(long).toContain('1 transaction open longer than 5m 00s on the leader db1');
    expect(long).toContain('pid 4242 (app/billing) open 12m 03s idle in transaction: UPDATE invoices SET paid = true WHERE id = 7');
    expect(long).not.toContain('4243');
  });

  it('scheduling: a time with a zone in the future; refused in the past, without a zone, or when paused', () => {
    const snapshot = fakeHealthySnapshot();
    expect(switchoverPreconditions(snapshot, { candidate: 'db2', at: '2026-11-21T13:00:00Z' }, fakeContext()).blockers).toEqual([]);
    expect(codes(switchoverPreconditions(snapshot, { candidate: 'db2', at: '2026-11-21T11:00:00Z' }, fakeContext())).blockers).toEqual(['time-in-past']);
    expect(codes(switchoverPreconditions(snapshot, { candidate: 'db2', at: '2026-11-21 13:00' }, fakeContext())).blockers).toEqual(['bad-time']);
    snapshot.paused = true;
    expect(codes(switchoverPreconditions(snapshot, { candidate: 'db2', at: '2026-11-21T13:00:00+01:00' }, fakeContext())).blockers).toContain('paused-scheduled');
  });

  it('refuses a second schedule, and cancelling needs one scheduled', () => {
    const scheduled = fakeHealthySnapshot((s) => {
      s.scheduledSwitchover = { at: '2026-11-21T13:00:00+00:00', from: 'db1', to: 'db2' };
    });
    expect(codes(switchoverPreconditions(scheduled, { candidate: 'db3' }, fakeContext())).blockers).toEqual(['already-scheduled']);
    expect(switchoverPreconditions(scheduled, { cancel: true }, fakeContext()).blockers).toEqual([]);
    expect(codes(switchoverPreconditions(fakeHealthySnapshot(), { cancel: true }, fakeContext())).blockers).toEqual(['nothing-scheduled']);
  });

  it('the plan lists the exact request, never a credential', () => {
    const plan = switchoverPlan(fakeHealthySnapshot(), { candidate: 'db3' }, fakeContext());
    expect(plan.requests).toEqual([
      { method: 'POST', url: 'http://127.0.0.1:8001/switchover', body: { leader: 'db1', candidate: 'db3' }, purpose: expect.any(String) as string },
    ]);
    expect(plan.verification.join('\n')).toContain('HAProxy write port 127.0.0.1:5551');
    const scheduled = switchoverPlan(fakeHealthySnapshot(), { candidate: 'db3', at: '2026-11-21T13:00:00Z' }, fakeContext());
    expect(scheduled.requests[0]?.body).toEqual({ leader: 'db1', candidate: 'db3', scheduled_at: '2026-11-21T13:00:00Z' });
    expect(JSON.stringify(plan)).not.toMatch(/password|authorization/i);
  });

  it('Patroni 4.x-shaped cluster: streaming and lag come from Patroni itself', () => {
    const snapshot = fakePatroni4Snapshot();
    expect(snapshot.leader).toBe('db1');
    expect(member(snapshot, 'db2').state).toBe('streaming');
    expect(member(snapshot, 'db3').role).toBe('sync_standby');
    expect(switchoverPreconditions(snapshot, { candidate: 'db3' }, fakeContext())).toEqual({ blockers: [], warnings: [] });
    const lagging = fakePatroni4Snapshot({ db2: { replay_lag: 5 * 1024 * 1024, lag: 5 * 1024 * 1024 } });
    expect(switchoverPreconditions(lagging, { candidate: 'db2' }, fakeContext()).blockers.map((b) => b.message)).toEqual([
      'candidate db2 lags 5.0 MB > 1.0 MB (maximum_lag_on_failover)',
    ]);
    const stopped = fakePatroni4Snapshot({ db3: { state: 'stopped' } });
    expect(codes(switchoverPreconditions(stopped, { candidate: 'db3' }, fakeContext())).blockers).toContain('candidate-not-streaming');
    const tagged = fakePatroni4Snapshot({ db2: { tags: { nofailover: true } } });
    expect(codes(switchoverPreconditions(tagged, { candidate: 'db2' }, fakeContext())).blockers).toEqual(['candidate-nofailover']);
  });

  it('Patroni 4.x: receive lag within the limit but replay lag over it refuses (replay lag is what counts)', () => {
    const snapshot = fakePatroni4Snapshot({ db2: { receive_lag: 0, replay_lag: 2 * 1024 * 1024 } });
    expect(member(snapshot, 'db2').replayLagBytes).toBe(2 * 1024 * 1024);
    expect(codes(switchoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext())).blockers).toEqual(['candidate-lag']);
  });
});

describe('failover preconditions (FAKE snapshots)', () => {
  it('allows a lagging candidate but says how much may be lost', () => {
    const snapshot = fakeHealthySnapshot((s) => {
      member(s, 'db1').state = 'unreachable';
      member(s, 'db1').restReachable = false;
      member(s, 'db2').replayLagBytes = 3 * 1024 * 1024;
    });
    const result = failoverPreconditions(snapshot, { candidate: 'db2' }, fakeContext());
    expect(result.blockers).toEqual([]);
    expect(result.warnings.map((w) => w.message)).toEqual(['candidate db2 lags 3.0 MB > 1.0 MB (maximum_lag_on_failover): up to that much acknowledged WAL may be lost']);
  });

  it('works without a leader; refuses unknown, leader, nofailover and unreachable candidates', () => {
    const noLeader = fakeHealthySnapshot((s) => {
      delete s.leader;
    });
    expect(failoverPreconditions(noLeader, { candidate: 'db2' }, fakeContext()).blockers).toEqual([]);
    expect(codes(failoverPreconditions(fakeHealthySnapshot(), { candidate: 'db9' }, fakeContext())).blockers).toEqual(['unknown-member']);
    expect(codes(failoverPreconditions(fakeHealthySnapshot(), { candidate: 'db1' }, fakeContext())).blockers).toEqual(['candidate-is-leader']);
    const tagged = fakeHealthySnapshot((s) => {
      member(s, 'db3').nofailover = true;
      member(s, 'db2').restReachable = false;
    });
    expect(codes(failoverPreconditions(tagged, { candidate: 'db3' }, fakeContext())).blockers).toEqual(['candidate-nofailover']);
    expect(codes(failoverPreconditions(tagged, { candidate: 'db2' }, fakeContext())).blockers).toEqual(['candidate-unreachable']);
  });

  it('warns that a switchover is safer while the leader runs', () => {
    expect(codes(failoverPreconditions(fakeHealthySnapshot(), { candidate: 'db2' }, fakeContext())).warnings).toEqual(['leader-healthy']);
  });
});

describe('reinit, restart, reload, pause/resume, drill preconditions (FAKE snapshots)', () => {
  it('reinit: a replica only, with a running leader; warns when the replica is healthy', () => {
    expect(codes(reinitPreconditions(fakeHealthySnapshot(), { member: 'db2' }, fakeContext()))).toEqual({ blockers: [], warnings: ['member-healthy'] });
    expect(codes(reinitPreconditions(fakeHealthySnapshot(), { member: 'db1' }, fakeContext())).blockers).toEqual(['member-is-leader']);
    expect(codes(reinitPreconditions(fakeHealthySnapshot(), { member: 'db7' }, fakeContext())).blockers).toEqual(['unknown-member']);
    const noLeader = fakeHealthySnapshot((s) => {
      delete s.leader;
    });
    expect(codes(reinitPreconditions(noLeader, { member: 'db2' }, fakeContext())).blockers).toContain('no-leader');
    const broken = fakeHealthySnapshot((s) => {
      member(s, 'db3').state = 'crashed';
      member(s, 'db3').restReachable = false;
      member(s, 'db3').restError = 'refused the connection';
    });
    expect(reinitPreconditions(broken, { member: 'db3' }, fakeContext()).blockers.map((b) => b.message)).toEqual([
      "db3's Patroni does not answer (refused the connection): it cannot be told to reinitialize",
    ]);
  });

  it('restart: a member, or the pending ones with the leader last; nothing pending refuses', () => {
    const pending = fakeHealthySnapshot((s) => {
      member(s, 'db1').pendingRestart = true;
      member(s, 'db3').pendingRestart = true;
    });
    expect(restartTargets(pending, { pending: true })).toEqual(['db3', 'db1']);
    expect(codes(restartPreconditions(pending, { pending: true }, fakeContext())).warnings).toContain('restart-leader');
    expect(codes(restartPreconditions(fakeHealthySnapshot(), { pending: true }, fakeContext())).blockers).toEqual(['nothing-pending']);
    expect(restartPreconditions(fakeHealthySnapshot(), { member: 'db2' }, fakeContext())).toEqual({ blockers: [], warnings: [] });
    expect(codes(restartPreconditions(fakeHealthySnapshot(), {}, fakeContext())).blockers).toEqual(['no-target']);
  });

  it('reload: every member must answer', () => {
    const down = fakeHealthySnapshot((s) => {
      member(s, 'db2').restReachable = false;
    });
    expect(codes(reloadPreconditions(down, {}, fakeContext())).blockers).toEqual(['member-unreachable']);
    expect(reloadPreconditions(down, { member: 'db3' }, fakeContext()).blockers).toEqual([]);
  });

  it('pause and resume refuse when already in that mode', () => {
    expect(codes(pauseOperation.preconditions(fakeHealthySnapshot(), {}, fakeContext()))).toEqual({ blockers: [], warnings: ['no-automatic-failover'] });
    expect(codes(resumeOperation.preconditions(fakeHealthySnapshot(), {}, fakeContext())).blockers).toEqual(['not-paused']);
    const paused = fakeHealthySnapshot((s) => {
      s.paused = true;
    });
    expect(codes(pauseOperation.preconditions(paused, {}, fakeContext())).blockers).toEqual(['already-paused']);
    expect(resumeOperation.preconditions(paused, {}, fakeContext()).blockers).toEqual([]);
  });

  it('drill: only on a lab, not paused, with a replica that can take over', () => {
    expect(drillPreconditions(fakeHealthySnapshot(), {}, fakeContext()).blockers).toEqual([]);
    const production = fakeContext({ cluster: { ...fakeCluster(), lab: undefined } });
    expect(codes(drillPreconditions(fakeHealthySnapshot(), {}, production)).blockers).toEqual(['not-a-lab']);
    const paused = fakeHealthySnapshot((s) => {
      s.paused = true;
    });
    expect(codes(drillPreconditions(paused, {}, fakeContext())).blockers).toEqual(['paused']);
    const lagging = fakeHealthySnapshot((s) => {
      member(s, 'db2').replayLagBytes = 2e6;
      member(s, 'db3').nofailover = true;
    });
    expect(codes(drillPreconditions(lagging, {}, fakeContext())).blockers).toEqual(['no-candidate']);
  });

  it('fakes use a fixed clock', () => {
    expect(fakeContext().now).toBe(FAKE_NOW);
  });
});

describe('backup preconditions (FAKE snapshots)', () => {
  const withBarman = () => fakeContext({ cluster: fakeCluster({ barman: { server: 'patroni1', timeoutMs: 60_000, transport: { kind: 'local' } } }) });
  const read = (keys: string[]) => Object.fromEntries(keys.map((key) => [key, { source: key.split(':')[0] as 'patroni', key, asOf: FAKE_NOW - 100 }]));

  it('refuses while a source its checks read is unread, even where the member looks fine', () => {
    // /cluster and the DCS read, the leader's own REST API and PostgreSQL not yet: the model keeps the DCS's word
    // that db1 leads and runs, which the leader check alone would let pass.
    const early = fakeHealthySnapshot((s) => {
      s.sources = read(['patroni', 'dcs']);
    });
    expect(leaderBlockers(early, 'a backup')).toEqual([]);
    const refused = backupPreconditions(early, {}, withBarman());
    expect(codes(refused).blockers).toEqual(['source-unread']);
    expect(refused.blockers[0]?.message).toBe('not read yet: patroni:db1, postgres:db1 (the checks need them)');
    // A failed read is a read: what it says is then judged by the checks themselves.
    const read1 = fakeHealthySnapshot((s) => {
      s.sources = { ...read(['patroni', 'dcs', 'patroni:db1']), 'postgres:db1': { source: 'postgres', key: 'postgres:db1', error: 'refused the connection', failingSince: FAKE_NOW - 50 } };
    });
    expect(backupPreconditions(read1, {}, withBarman()).blockers).toEqual([]);
  });

  it('a backup reads /cluster, the DCS and the leader: not the replicas', () => {
    expect(BACKUP_READS).toEqual({ keys: ['patroni', 'dcs'], leader: true });
    const snapshot = fakeHealthySnapshot((s) => {
      s.sources = read(['patroni', 'dcs', 'patroni:db1', 'postgres:db1']);
    });
    expect(backupPreconditions(snapshot, {}, withBarman())).toEqual({ blockers: [], warnings: [] });
  });
});
