import { afterAll, describe, expect, it } from 'vitest';
import { PostgresMemberClient } from '../../src/services/postgres.js';
import { waitFor } from '../../src/util/wait.js';
import { labClient, testLab } from '../support/lab.js';
import { unusedPort } from './fake-peer.js';
import { caught, testLabCluster, waitForHealthyCluster } from './lab-config.js';

const lab = testLab();
const cluster = testLabCluster();
const clients = new Map(lab.members.map((m) => [m.name, PostgresMemberClient.fromConfig(cluster.postgres, { name: m.name, host: lab.host, port: m.pgPort })]));
const client = (name: string) => clients.get(name) as PostgresMemberClient;

afterAll(async () => {
  for (const c of clients.values()) await c.close();
});

describe('PostgreSQL status on the lab', () => {
  it('the leader: not in recovery, its replicas streaming with lag in bytes, archiver, connections', async () => {
    const leader = await waitForHealthyCluster(cluster);
    const status = await client(leader).status();
    expect(status.inRecovery).toBe(false);
    expect(status.serverVersion).toMatch(/^15\./);
    expect(status.currentLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(status.timeline).toBeGreaterThanOrEqual(1);
    const replicas = lab.members.filter((m) => m.name !== leader).map((m) => m.name).sort();
    expect(status.replication.map((r) => r.applicationName).sort()).toEqual(replicas);
    for (const row of status.replication) {
      expect(row.state).toBe('streaming');
      expect(row.replayLagBytes).toBeGreaterThanOrEqual(0);
      expect(row.clientAddr).toBe('127.0.0.1');
    }
    expect(status.archiver?.failing).toBe(false);
    expect(status.archiver?.readyBacklog).toBeGreaterThanOrEqual(0);
    expect(status.maxConnections).toBe(100);
    expect(Object.values(status.connectionsByState).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect(status.walReceiver).toBeUndefined();
  });

  it('a replica: in recovery, streaming from the leader, same timeline', async () => {
    const leader = await waitForHealthyCluster(cluster);
    const replica = lab.members.find((m) => m.name !== leader)?.name as string;
    const [l, r] = [await client(leader).status(), await client(replica).status()];
    expect(r.inRecovery).toBe(true);
    expect(r.replayPaused).toBe(false);
    expect(r.receiveLsn).toMatch(/\//);
    expect(r.replayLsn).toMatch(/\//);
    expect(r.replayDelaySeconds).toBeGreaterThanOrEqual(0);
    expect(r.walReceiver).toMatchObject({ status: 'streaming', senderPort: lab.members.find((m) => m.name === leader)?.pgPort, slotName: replica });
    expect(r.timeline).toBe(l.timeline);
    expect(r.currentLsn).toBeUndefined();
  });

  it('sees an idle-in-transaction session, and a blocked/blocking pair on the leader', async () => {
    const leaderName = await waitForHealthyCluster(cluster);
    const leader = lab.members.find((m) => m.name === leaderName);
    const holder = await labClient(lab, leader?.pgPort as number);
    const waiter = await labClient(lab, leader?.pgPort as number);
    try {
      await holder.query('CREATE TABLE IF NOT EXISTS pgcockpit_lock_probe (id int)');
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const waiterPid = (await waiter.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE pgcockpit_lock_probe IN ACCESS EXCLUSIVE MODE');
      const blockedQuery = waiter.query('SELECT count(*) FROM pgcockpit_lock_probe');
      // pg_blocking_pids() may also name another waiter queued ahead (e.g. autovacuum on the new table): look for our pair.
      const status = await waitFor(
        'the blocked pair in status()',
        async () => {
          const s = await client(leaderName).status();
          // The activity rows are one snapshot per status batch: wait until it shows the waiter's current query too.
          const found = s.blocking.find((b) => b.blockedPid === waiterPid && b.blockingPid === holderPid);
          return found?.blockedQuery?.startsWith('SELECT count(*)') ? s : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      const pair = status.blocking.find((b) => b.blockedPid === waiterPid && b.blockingPid === holderPid);
      expect(pair?.blockedQuery).toBe('SELECT count(*) FROM pgcockpit_lock_probe');
      expect(pair?.blockingQuery).toContain('LOCK TABLE pgcockpit_lock_probe');
      expect(pair?.blockedSeconds).toBeGreaterThanOrEqual(0);
      expect(status.idleInTransaction.map((s) => s.pid)).toContain(holderPid);
      expect(status.longestTransactions.map((s) => s.pid)).toContain(holderPid);
      expect(status.connectionsByState['idle in transaction']).toBeGreaterThanOrEqual(1);
      await holder.query('ROLLBACK');
      await blockedQuery;
    } finally {
      await holder.end();
      await waiter.end();
    }
  });

  it('keeps one connection, and re-opens it when the server drops it', async () => {
    const leader = await waitForHealthyCluster(cluster);
    const c = client(leader);
    await c.status();
    const admin = await labClient(lab, lab.members.find((m) => m.name === leader)?.pgPort as number);
    try {
      const pids = (await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'pgcockpit'")).rows.map((r) => r.pid);
      expect(pids.length).toBeGreaterThanOrEqual(1);
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgcockpit'");
      await waitFor(
        'the terminated backends to be gone',
        async () => {
          const left = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE pid = ANY($1)', [pids]);
          return left.rows.length === 0 ? true : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      // The kept connection is dead now: the very next call must notice, reopen, and succeed.
      const again = await c.status();
      expect(again.inRecovery).toBe(false);
      const newPids = (await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'pgcockpit'")).rows.map((r) => r.pid);
      expect(newPids.some((p) => !pids.includes(p))).toBe(true);
    } finally {
      await admin.end();
    }
  });
});

describe('PostgreSQL faults', () => {
  it('a wrong password (passwordEnv) is refused as "auth", without the password in the message', async () => {
    const env = { PGCOCKPIT_TEST_WRONG_PW: 'definitely-wrong-pw' };
    const wrong = PostgresMemberClient.fromConfig({ ...cluster.postgres, passwordFile: undefined, passwordEnv: 'PGCOCKPIT_TEST_WRONG_PW' }, { name: 'db1', host: lab.host, port: lab.members[0]?.pgPort as number }, env);
    try {
      const error = await caught(wrong.status());
      expect(error).toMatchObject({ source: 'postgres', kind: 'auth', endpoint: `${lab.host}:${lab.members[0]?.pgPort}` });
      expect(error.message).toContain('PostgreSQL db1');
      expect(error.message).not.toContain('definitely-wrong-pw');
    } finally {
      await wrong.close();
    }
  });

  it('nothing listening: "unreachable", refused', async () => {
    const port = await unusedPort();
    const dead = PostgresMemberClient.fromConfig(cluster.postgres, { name: 'ghost', host: '127.0.0.1', port });
    try {
      const error = await caught(dead.status());
      expect(error).toMatchObject({ kind: 'unreachable' });
      expect(error.message).toBe(`PostgreSQL ghost (127.0.0.1:${port}) refused the connection`);
    } finally {
      await dead.close();
    }
  });

  it('a statement slower than the timeout is cut off as "timeout", and the client recovers', async () => {
    const leader = await waitForHealthyCluster(cluster);
    const c = client(leader);
    const error = await caught(c.query('SELECT pg_sleep(5)', { timeoutMs: 300 }));
    expect(error.kind).toBe('timeout');
    expect((await c.status()).inRecovery).toBe(false);
  });
});
