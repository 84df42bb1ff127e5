import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortFree } from '../../src/lab/ports.js';
import { waitUntil } from '../../src/ops/wait.js';
import { runCli } from '../support/cli.js';
import type { ComposeStack, PatronictlMember } from '../support/containers.js';
import {
  COMPOSE_CONFIG,
  COMPOSE_PG_PORTS,
  COMPOSE_WRITE_PORT,
  composeQuery,
  composeStack,
  containerHost,
  inContainer,
  patronictlList,
  teardownStack,
  waitComposeHealthy,
} from '../support/containers.js';

/**
 * The compose stack of compose/, for real: built from debian:bookworm-slim and Debian's packages, brought up
 * under its own project name, driven through the cockpit's CLI and the Docker transport, torn down at the
 * end (also when something fails). Runs where the machine can host it (a Docker API and docker-compose;
 * scripts/setup-containers.sh makes a Debian machine able, and .ci/run runs it); elsewhere the suite says
 * what is missing.
 */

const host = await containerHost();
if (!host.able) {
  process.stderr.write(`[compose] the compose suite does not run on this machine; missing: ${host.missing.join('; ')}\n`);
}

const PROJECT = 'pgcockpit-test';
const PORTS = [2379, 2479, 2579, 5551, 5552, 5553, 8001, 8002, 8003, 8004, 15431, 15432, 15433, 15434, 15440, 15441, 15442, 15443];
const TABLE = 'pgcockpit_compose_side';
const N = 300;
let stack: ComposeStack;
let suiteStarted = 0;
const timings: Record<string, number> = {};

function cli(args: string[], timeoutMs = 300_000) {
  return runCli([...args, '--config', COMPOSE_CONFIG], { env: stack.env as Record<string, string>, timeoutMs });
}

interface StatusMember {
  name: string;
  role: string;
  state: string;
  timeline: number | null;
  container: { name: string; status: string | null; running: boolean; exitCode: number | null } | null;
}

async function status(): Promise<{ leader: string | null; members: StatusMember[]; sources: Record<string, { error: string | null }> }> {
  const result = await cli(['status', '--json'], 120_000);
  return JSON.parse(result.stdout) as { leader: string | null; members: StatusMember[]; sources: Record<string, { error: string | null }> };
}

/** Does the cockpit's view agree with patronictl's? Names, leader, roles, timelines, running states. */
function disagreements(cockpit: Awaited<ReturnType<typeof status>>, patroni: PatronictlMember[]): string[] {
  const problems: string[] = [];
  const names = (list: string[]) => [...list].sort().join(',');
  if (names(cockpit.members.map((m) => m.name)) !== names(patroni.map((m) => m.Member))) problems.push('member names differ');
  const leader = patroni.find((m) => m.Role === 'Leader')?.Member ?? null;
  if (cockpit.leader !== leader) problems.push(`leader ${cockpit.leader} vs ${leader}`);
  for (const p of patroni) {
    const c = cockpit.members.find((m) => m.name === p.Member);
    if (!c) continue;
    const role = p.Role === 'Leader' ? 'leader' : p.Role === 'Sync Standby' ? 'sync_standby' : 'replica';
    if (c.role !== role) problems.push(`${p.Member}: role ${c.role} vs ${p.Role}`);
    if (c.timeline !== (p.TL ?? null)) problems.push(`${p.Member}: timeline ${c.timeline} vs ${p.TL}`);
    const up = p.State === 'running' || p.State === 'streaming';
    if (up !== (c.state === 'running' || c.state === 'streaming')) problems.push(`${p.Member}: state ${c.state} vs ${p.State}`);
    if (c.container?.status !== 'running') problems.push(`${p.Member}: container ${c.container?.status ?? 'unknown'}`);
  }
  return problems;
}

describe.skipIf(!host.able)('the compose stack (compose/docker-compose.yml) through the Docker transport', () => {
  beforeAll(async () => {
    suiteStarted = Date.now();
    stack = composeStack(PROJECT, host.dockerHost);
    const busy: number[] = [];
    for (const port of PORTS) if (!(await isPortFree(port, '127.0.0.1'))) busy.push(port);
    if (busy.length) {
      throw new Error(
        `the compose stack publishes ${PORTS.join(', ')}; in use here: ${busy.join(', ')} (a compose stack or a native lab on port base 0 running?)`,
      );
    }
    try {
      const build = await stack.compose(['build'], 900_000);
      if (build.code !== 0) throw new Error(`docker-compose build failed (${build.code}): ${build.stderr.slice(-2000)}`);
      timings.build = Date.now() - suiteStarted;
      const up = await stack.compose(['up', '-d'], 300_000);
      if (up.code !== 0) throw new Error(`docker-compose up failed (${up.code}): ${up.stderr.slice(-2000)}`);
      await waitComposeHealthy(stack);
      timings.healthy = Date.now() - suiteStarted;
    } catch (error) {
      const logs = await stack.compose(['logs', '--tail', '30'], 60_000).catch(() => undefined);
      if (logs) process.stderr.write(`[compose] logs:\n${logs.stdout.slice(-6000)}\n`);
      throw error;
    }
  }, 1_200_000);

  afterAll(async () => {
    if (!stack) return;
    const said = await teardownStack(stack);
    timings.total = Date.now() - suiteStarted;
    process.stderr.write(`[compose] teardown: ${said.join('; ')}; timings (ms from start): ${JSON.stringify(timings)}\n`);
  }, 600_000);

  it('has a leader and 3 streaming replicas', async () => {
    const { leader } = await waitComposeHealthy(stack);
    const rows = await waitUntil(
      'three streaming replicas in the leader’s pg_stat_replication',
      async () => {
        const r = await composeQuery<{ application_name: string; state: string }>(stack, COMPOSE_PG_PORTS[leader] as number, 'SELECT application_name, state FROM pg_stat_replication');
        return r.filter((x) => x.state === 'streaming').length === 3 ? r : undefined;
      },
      { signal: AbortSignal.timeout(120_000), timeoutMs: 110_000, intervalMs: 1000 },
    );
    expect(rows.map((r) => r.application_name).sort()).toEqual(['db1', 'db2', 'db3', 'db4'].filter((m) => m !== leader));
    const [inRecovery] = await composeQuery<{ r: boolean }>(stack, COMPOSE_WRITE_PORT, 'SELECT pg_is_in_recovery() AS r');
    expect(inRecovery?.r).toBe(false);
  });

  it("agrees with patronictl list -f json run in a member's container (status --json)", async () => {
    const agreed = await waitUntil(
      'pgcockpit status --json and patronictl list to agree',
      async () => {
        const cockpit = await status();
        const patroni = await patronictlList(stack, 'pgcockpit-db2');
        return disagreements(cockpit, patroni).length === 0 ? { cockpit, patroni } : undefined;
      },
      { signal: AbortSignal.timeout(120_000), timeoutMs: 110_000, intervalMs: 1000 },
    );
    expect(agreed.cockpit.members).toHaveLength(4);
    expect(agreed.cockpit.members.every((m) => m.container?.running === true && m.container.name === `pgcockpit-${m.name}`)).toBe(true);
    // The Docker sources (containers, Barman, the archive log) answer.
    for (const key of ['docker:db1', 'docker:db4', 'barman', 'archive-log']) expect(agreed.cockpit.sources[key]?.error ?? null, key).toBeNull();
  });

  it('ships WAL from the leader to Barman (archive.log in the leader’s container)', async () => {
    const { leader } = await waitComposeHealthy(stack);
    const port = COMPOSE_PG_PORTS[leader] as number;
    const [row] = await composeQuery<{ wal: string }>(stack, port, "SELECT pg_walfile_name(pg_switch_wal()) AS wal FROM (SELECT txid_current()) AS t");
    const wal = row?.wal as string;
    expect(wal).toMatch(/^[0-9A-F]{24}$/);
    await waitUntil(
      `${wal} in Barman's archive`,
      async () => {
        const found = await inContainer(stack, 'pgcockpit-barman', ['sh', '-c', `find /var/lib/barman/patroni1/wals -name '${wal}*' | head -1`], 'barman');
        return found.trim() ? true : undefined;
      },
      { signal: AbortSignal.timeout(120_000), timeoutMs: 110_000, intervalMs: 1000 },
    );
    const log = await inContainer(stack, `pgcockpit-${leader}`, ['tail', '-n', '50', '/var/log/postgresql/archive.log'], 'postgres');
    expect(log).toContain(`Archived: ${wal}`);
  });

  it('switches over through the cockpit', async () => {
    const { leader } = await waitComposeHealthy(stack);
    const candidate = ['db1', 'db2', 'db3', 'db4'].find((m) => m !== leader) as string;
    const result = await cli(['switchover', '--to', candidate, '--yes', '--json']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect((JSON.parse(result.stdout) as { status: string }).status).toBe('done');
    const after = await waitComposeHealthy(stack);
    expect(after.leader).toBe(candidate);
    const [write] = await composeQuery<{ port: number }>(stack, COMPOSE_WRITE_PORT, 'SELECT inet_server_port() AS port');
    expect(write?.port).toBe(COMPOSE_PG_PORTS[candidate]);
  });

  it("runs the failover drill through the Docker transport: stop the leader's container, a new leader, the old one rejoins", async () => {
    const { leader } = await waitComposeHealthy(stack);
    const started = Date.now();
    const result = await cli(['drill', '--yes', '--json']);
    timings.drill = Date.now() - started;
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const doc = JSON.parse(result.stdout) as { status: string; result: { details: { oldLeader: string; newLeader: string; newLeaderAfterMs: number; rejoinAfterMs: number } } };
    expect(doc.status).toBe('done');
    expect(doc.result.details.oldLeader).toBe(leader);
    expect(doc.result.details.newLeader).not.toBe(leader);
    // The old leader's container was stopped (its restart count untouched: the engine did not restart it) and runs again.
    const state = await stack.engine.state(`pgcockpit-${leader}`);
    expect(state.running).toBe(true);
    const after = await waitComposeHealthy(stack);
    expect(after.leader).toBe(doc.result.details.newLeader);
    expect(after.members.find((m) => m.Member === leader)?.Role).toBe('Replica');
  });

  it('takes a backup through the Barman container', async () => {
    const backup = await cli(['backup', '--yes', '--json']);
    expect(backup.code, backup.stderr + backup.stdout).toBe(0);
    const doc = JSON.parse(backup.stdout) as { status: string; result: { details: { backupId: string } } };
    expect(doc.status).toBe('done');
    const listed = JSON.parse((await cli(['backups', '--json'])).stdout) as { backups: Array<{ id: string; status: string }> };
    expect(listed.backups.find((b) => b.id === doc.result.details.backupId)?.status).toBe('DONE');
  });

  it('restores on the side, to a point in time, in the Barman container', async () => {
    const { leader } = await waitComposeHealthy(stack);
    // Rows, a point in time, the rows deleted: the side restore to that time has them, the cluster not.
    const w = COMPOSE_WRITE_PORT;
    await composeQuery(stack, w, `DROP TABLE IF EXISTS ${TABLE}`);
    await composeQuery(stack, w, `CREATE TABLE ${TABLE} (id int PRIMARY KEY)`);
    await composeQuery(stack, w, `INSERT INTO ${TABLE} SELECT generate_series(1, ${N})`);
    const [t] = await composeQuery<{ now: string }>(stack, w, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS now");
    await composeQuery(stack, w, `DELETE FROM ${TABLE}`);
    const pitr = await cli(['pitr', '--to-time', t?.now as string, '--yes', '--json']);
    expect(pitr.code, pitr.stderr + pitr.stdout).toBe(0);
    expect(pitr.stdout + pitr.stderr).not.toContain(stack.password);
    const restored = JSON.parse(pitr.stdout) as { status: string; result: { details: { restore: { id: string; port: number; host: string } } } };
    expect(restored.status).toBe('done');
    const { port, id } = restored.result.details.restore;
    const [count] = await composeQuery<{ n: string }>(stack, port, `SELECT count(*) AS n FROM ${TABLE}`);
    expect(Number(count?.n)).toBe(N);
    const [inCluster] = await composeQuery<{ n: string }>(stack, w, `SELECT count(*) AS n FROM ${TABLE}`);
    expect(Number(inCluster?.n)).toBe(0);
    expect((await waitComposeHealthy(stack)).leader).toBe(leader);
    const removed = await cli(['restores', 'remove', id]);
    expect(removed.code, removed.stderr + removed.stdout).toBe(0);
    const gone = await inContainer(stack, 'pgcockpit-barman', ['sh', '-c', 'ls /var/lib/barman/restores'], 'barman');
    expect(gone).not.toContain(id);
  });
});

describe.runIf(!host.able)('the compose stack on a machine that cannot host it', () => {
  it('names what is missing', () => {
    expect(host.missing.length).toBeGreaterThan(0);
    expect(host.missing.join(' ')).toMatch(/Docker API|docker-compose|base image/);
  });
});
