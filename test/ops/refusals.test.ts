import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/ops/audit.js';
import { lockFilePath, readOperationLock } from '../../src/ops/lock.js';
import { waitFor } from '../../src/util/wait.js';
import { runCli } from '../support/cli.js';
import { pauseReplay } from '../support/lab-faults.js';
import { labQuery, testLab } from '../support/lab.js';
import { labOpsSuite, memberOf, openOps, waitForSnapshot, waitHealthy, writePortTarget } from './support.js';

/**
 * Refusals on the shared lab, each with its reason and no change to the cluster: the leader itself, an
 * unknown member, a replica made to lag (replay paused), a nofailover member, a second operation while one
 * runs, read-only mode. "No change": the leader and the write port's target are the same after.
 */

const suite = labOpsSuite({ healthyAroundEach: true });

async function expectUnchanged(leader: string | undefined): Promise<void> {
  const after = await waitHealthy(suite.topology);
  expect(after.leader).toBe(leader);
  expect(await writePortTarget(suite.topology)).toEqual({ member: leader, inRecovery: false });
}

describe('refusals on the lab', () => {
  it('switchover to the leader: refused with the reason, exit 1, audited, nothing changes', async () => {
    const { leader } = await waitHealthy(suite.topology);
    const result = await runCli(['switchover', '--config', suite.workspace.config, '--to', leader as string, '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${leader} is already the leader`);
    const last = readAuditLog(suite.workspace.auditLog).at(-1);
    expect(last).toMatchObject({ event: 'refused', operation: 'switchover', reasons: [`${leader} is already the leader`] });
    await expectUnchanged(leader);
  });

  it('switchover to an unknown member: refused, listing the members', async () => {
    const { leader } = await waitHealthy(suite.topology);
    const result = await runCli(['switchover', '--config', suite.workspace.config, '--to', 'db9', '--yes', '--json']);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout) as { status: string; reasons: Array<{ message: string }> };
    expect(doc.status).toBe('refused');
    expect(doc.reasons[0]?.message).toBe(`there is no member named db9 (members: ${suite.topology.members.map((m) => m.name).join(', ')})`);
    await expectUnchanged(leader);
  });

  it('switchover to a replica made to lag (replay paused): refused with its lag and the limit', async () => {
    const { leader } = await waitHealthy(suite.topology);
    const replica = memberOf(suite.topology, suite.topology.members.find((m) => m.name !== leader)?.name as string);
    const leaderSpec = memberOf(suite.topology, leader as string);
    // Paused durably (maintenance mode first: Patroni resumes a paused replay at its next HA loop otherwise).
    const resumeReplay = await pauseReplay(suite.topology, replica.name);
    try {
      await labQuery(suite.topology, suite.topology.haproxy.writePort, 'CREATE TABLE IF NOT EXISTS ops_lag_fill (payload text)');
      // Write through the write port until the replica's replay lag (per the leader) exceeds 1 MiB.
      await waitFor(
        `${replica.name}'s replay lag to exceed 1 MiB`,
        async () => {
          await labQuery(suite.topology, suite.topology.haproxy.writePort, "INSERT INTO ops_lag_fill SELECT repeat('x', 1000) FROM generate_series(1, 500)");
          const rows = await labQuery<{ lag: string | null }>(
            suite.topology,
            leaderSpec.pgPort,
            'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS lag FROM pg_stat_replication WHERE application_name = $1',
            [replica.name],
          );
          return Number(rows[0]?.lag ?? 0) > 1.5 * 1024 * 1024 ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      const result = await runCli(['switchover', '--config', suite.workspace.config, '--to', replica.name, '--yes']);
      // The premise first: the replica still lagged when the command read it.
      const [still] = await labQuery<{ paused: boolean }>(suite.topology, replica.pgPort, 'SELECT pg_is_in_recovery() AND pg_is_wal_replay_paused() AS paused');
      expect(still?.paused, `${replica.name}'s replay was resumed during the test: its lag was not made to last`).toBe(true);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`candidate ${replica.name} lags \\d+(\\.\\d+)? MB > 1\\.0 MB \\(maximum_lag_on_failover\\)`));
      await expectUnchangedLeaderOnly(leader);
    } finally {
      // (Only while it is still a replica: a failure above must not be hidden by this line's own error.)
      await resumeReplay();
      await labQuery(suite.topology, suite.topology.haproxy.writePort, 'DROP TABLE IF EXISTS ops_lag_fill');
    }
    await expectUnchanged(leader);
  });

  it('switchover to a nofailover member (tag set in patroni.yml + reload): refused; the tag is restored', async () => {
    const { leader } = await waitHealthy(suite.topology);
    const target = memberOf(suite.topology, suite.topology.members.find((m) => m.name !== leader)?.name as string);
    const original = fs.readFileSync(target.configFile, 'utf8');
    expect(original).toMatch(/^ {2}nofailover: false$/m);
    const ops = await openOps(suite.workspace);
    try {
      fs.writeFileSync(target.configFile, original.replace(/^ {2}nofailover: false$/m, '  nofailover: true'));
      const reload = await ops.runner.run({ operation: 'reload', params: { member: target.name } });
      expect(reload.status, reload.error ?? JSON.stringify(reload.reasons)).toBe('done');
      await waitForSnapshot(ops.store, `${target.name} tagged nofailover`, (s) => s.members.some((m) => m.name === target.name && m.nofailover));
      const result = await runCli(['switchover', '--config', suite.workspace.config, '--to', target.name, '--yes']);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(`candidate ${target.name} is tagged nofailover: Patroni will not promote it`);
      await expectUnchanged(leader);
    } finally {
      fs.writeFileSync(target.configFile, original);
      const restore = await ops.runner.run({ operation: 'reload', params: { member: target.name } });
      expect(restore.status).toBe('done');
      await waitForSnapshot(ops.store, `${target.name} without the nofailover tag`, (s) => s.members.some((m) => m.name === target.name && !m.nofailover));
      await ops.close();
    }
  });

  it('a second operation while one runs: refused with "switchover running since …", from another process', async () => {
    const before = await waitHealthy(suite.topology);
    const ops = await openOps(suite.workspace);
    try {
      // The first operation runs in another process (the CLI); the second is asked for here while the
      // first holds the cluster's operation lock, which is awaited, not guessed with a sleep.
      const first = runCli(['switchover', '--config', suite.workspace.config, '--yes', '--json']);
      const lock = lockFilePath(path.dirname(suite.workspace.auditLog), ops.context.cluster);
      const holder = await waitFor('the CLI switchover to hold the operation lock', () => readOperationLock(lock), { timeoutMs: 60_000, intervalMs: 20 });
      expect(holder).toMatchObject({ operation: 'switchover' });
      expect(holder.pid).not.toBe(process.pid);
      const second = await ops.runner.run({ operation: 'pause', params: {} });
      const done = await first;
      expect(second.status).toBe('refused');
      expect(second.reasons?.map((r) => r.message).join('; ')).toMatch(new RegExp(`switchover running since \\d\\d:\\d\\d:\\d\\d \\(\\S+, pid ${holder.pid}\\)`));
      expect(done.code, done.stderr).toBe(0);
      expect((JSON.parse(done.stdout) as { result: { details: { from: string } } }).result.details.from).toBe(before.leader);
      // The pause was never applied.
      expect((await ops.context.patroni.getCluster()).paused).toBe(false);
    } finally {
      // Should the refusal ever fail, the suites after this one must not find the cluster paused.
      if ((await ops.context.patroni.getCluster()).paused) await ops.runner.run({ operation: 'resume', params: {} });
      await ops.close();
    }
  });

  it('read-only mode refuses every operation (CLI flag and runner), and changes nothing', async () => {
    const { leader } = await waitHealthy(suite.topology);
    for (const args of [['switchover', '--yes'], ['pause'], ['restart', '--pending', '--yes'], ['reinit', 'db2', '--yes']]) {
      const result = await runCli(['--read-only', ...args, '--config', suite.workspace.config]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(1);
      expect(result.stderr).toContain('read-only mode: operations are disabled');
    }
    const ops = await openOps(suite.workspace, { readOnly: true });
    try {
      const run = await ops.runner.run({ operation: 'resume', params: {} });
      expect(run.status).toBe('refused');
      expect(run.reasons?.map((r) => r.code)).toEqual(['read-only']);
    } finally {
      await ops.close();
    }
    await expectUnchanged(leader);
  });
});

/** While a replica's replay is paused the lab is not "healthy"; only the leader is compared. */
async function expectUnchangedLeaderOnly(leader: string | undefined): Promise<void> {
  expect(await writePortTarget(testLab())).toEqual({ member: leader, inRecovery: false });
}
