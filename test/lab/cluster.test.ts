import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeLab } from '../../src/lab/probe.js';
import { waitFor } from '../../src/util/wait.js';
import { labQuery, runLabBarman, testLab } from '../support/lab.js';

const lab = testLab();

async function currentLeader() {
  const readiness = await probeLab(lab);
  const leader = lab.members.find((m) => m.name === readiness.leader);
  if (!leader) throw new Error(`no leader: ${readiness.problems.join('; ')}`);
  return { readiness, leader };
}

describe('the native lab cluster', () => {
  it('has exactly one leader and N−1 streaming replicas, and Patroni and pg_stat_replication agree', async () => {
    const { readiness, leader } = await currentLeader();
    expect(readiness.members.filter((m) => m.role === 'leader')).toHaveLength(1);
    const replicas = lab.members.filter((m) => m.name !== leader.name).map((m) => m.name).sort();
    expect(replicas).toHaveLength(lab.members.length - 1);

    const rows = await labQuery<{ application_name: string; state: string }>(
      lab,
      leader.pgPort,
      'SELECT application_name, state FROM pg_stat_replication',
    );
    const streamingPerPostgres = rows.filter((r) => r.state === 'streaming').map((r) => r.application_name).sort();
    expect(streamingPerPostgres).toEqual(replicas);
    expect(readiness.streaming).toEqual(replicas);

    for (const member of lab.members) {
      const [row] = await labQuery<{ in_recovery: boolean }>(lab, member.pgPort, 'SELECT pg_is_in_recovery() AS in_recovery');
      expect(row?.in_recovery, member.name).toBe(member.name !== leader.name);
    }
  });

  it('has an etcd cluster of 3 healthy members', () => {
    const endpoints = lab.etcd.map((e) => `http://${lab.host}:${e.clientPort}`).join(',');
    const env = { ...process.env, ETCDCTL_API: '3' };
    const members = JSON.parse(execFileSync('etcdctl', [`--endpoints=${endpoints}`, 'member', 'list', '-w', 'json'], { env }).toString()) as {
      members: Array<{ name: string }>;
    };
    expect(members.members.map((m) => m.name).sort()).toEqual(['etcd1', 'etcd2', 'etcd3']);
    const health = JSON.parse(execFileSync('etcdctl', [`--endpoints=${endpoints}`, 'endpoint', 'health', '-w', 'json'], { env }).toString()) as Array<{
      endpoint: string;
      health: boolean;
    }>;
    expect(health).toHaveLength(3);
    expect(health.every((h) => h.health)).toBe(true);
  });

  it('routes the write port to the leader and the read port to a replica', async () => {
    const { leader } = await currentLeader();
    const [write] = await labQuery<{ in_recovery: boolean; port: number }>(
      lab,
      lab.haproxy.writePort,
      'SELECT pg_is_in_recovery() AS in_recovery, inet_server_port() AS port',
    );
    expect(write).toEqual({ in_recovery: false, port: leader.pgPort });
    const [read] = await labQuery<{ in_recovery: boolean; port: number }>(
      lab,
      lab.haproxy.readPort,
      'SELECT pg_is_in_recovery() AS in_recovery, inet_server_port() AS port',
    );
    expect(read?.in_recovery).toBe(true);
    expect(read?.port).not.toBe(leader.pgPort);
  });

  it("archives a forced WAL switch into Barman and logs it in the leader's archive.log", async () => {
    const { leader } = await currentLeader();
    await labQuery(lab, leader.pgPort, 'CREATE TABLE IF NOT EXISTS wal_probe (at timestamptz); INSERT INTO wal_probe VALUES (now())');
    const [row] = await labQuery<{ wal: string }>(lab, leader.pgPort, 'SELECT pg_walfile_name(pg_switch_wal()) AS wal');
    const wal = row?.wal as string;
    expect(wal).toMatch(/^[0-9A-F]{24}$/);

    const archived = await waitFor(
      `${wal} in ${leader.name}'s archive.log`,
      () => {
        const line = fs.readFileSync(leader.archiveLog, 'utf8').split('\n').find((l) => l.endsWith(`Archived: ${wal}`));
        return line;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(archived).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - Archived: [0-9A-F]{24}$/);

    const inBarman = path.join(lab.barman.home, lab.barman.server, 'wals', wal.slice(0, 16), wal);
    await waitFor(`${wal} in Barman's WAL archive`, () => (fs.existsSync(inBarman) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    // Only the leader ships WAL: no replica logged this segment.
    for (const member of lab.members.filter((m) => m.name !== leader.name)) {
      expect(fs.readFileSync(member.archiveLog, 'utf8')).not.toContain(`Archived: ${wal}`);
    }
  });

  it('takes a Barman backup that completes', async () => {
    const result = await runLabBarman(lab, ['backup', '--wait', lab.barman.server], 180_000);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const listed = await runLabBarman(lab, ['-f', 'json', 'list-backups', lab.barman.server]);
    const backups = (JSON.parse(listed.stdout) as Record<string, Array<{ backup_id: string; status: string }>>)[lab.barman.server] ?? [];
    const newest = backups[0];
    expect(newest?.status).toBe('DONE');
    expect(result.stdout).toContain(newest?.backup_id);
  });
});
