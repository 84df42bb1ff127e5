import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/lab/load.js';
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
  containersLabelled,
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
const REWIND_TABLE = 'pgcockpit_compose_rewind';
const N = 300;
const MEMBERS = ['db1', 'db2', 'db3', 'db4'];
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
    // Side restores' and safety copies' records of this run in a directory of its own (not the user's state directory).
    stack.env.PGCOCKPIT_RESTORE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-compose-restores-'));
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
    if (stack.env.PGCOCKPIT_RESTORE_DIR) fs.rmSync(stack.env.PGCOCKPIT_RESTORE_DIR, { recursive: true, force: true });
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

  it('reinitializes a replica through the cockpit: it comes back streaming', async () => {
    const { leader } = await waitComposeHealthy(stack);
    const replica = MEMBERS.find((m) => m !== leader) as string;
    const started = Date.now();
    const result = await cli(['reinit', replica, '--yes', '--json']);
    timings.reinit = Date.now() - started;
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect((JSON.parse(result.stdout) as { status: string }).status).toBe('done');
    const after = await waitComposeHealthy(stack);
    expect(after.leader).toBe(leader);
    const rows = await composeQuery<{ application_name: string; state: string }>(stack, COMPOSE_PG_PORTS[leader] as number, 'SELECT application_name, state FROM pg_stat_replication');
    expect(rows.find((r) => r.application_name === replica)?.state).toBe('streaming');
    const [inRecovery] = await composeQuery<{ r: boolean }>(stack, COMPOSE_PG_PORTS[replica] as number, 'SELECT pg_is_in_recovery() AS r');
    expect(inRecovery?.r).toBe(true);
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

  // Destructive, so last: the stack comes back with a leader, 3 streaming replicas and no safety copy left.
  it('rewinds the whole cluster to a point in time through the Docker transport, with safety copies', async () => {
    const w = COMPOSE_WRITE_PORT;
    await waitComposeHealthy(stack);
    await composeQuery(stack, w, `DROP TABLE IF EXISTS ${REWIND_TABLE}`);
    await composeQuery(stack, w, `CREATE TABLE ${REWIND_TABLE} (id int PRIMARY KEY)`);
    await composeQuery(stack, w, `INSERT INTO ${REWIND_TABLE} SELECT generate_series(1, ${N})`);
    const [t] = await composeQuery<{ now: string }>(stack, w, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS now");
    const T = t?.now as string;
    await composeQuery(stack, w, `DELETE FROM ${REWIND_TABLE}`);
    const [before] = await composeQuery<{ t: number }>(stack, w, 'SELECT timeline_id AS t FROM pg_control_checkpoint()');
    const listCopies = async () => (JSON.parse((await cli(['restores', '--json'])).stdout) as { safetyCopies: Array<{ id: string; member: string; container: string; path: string }> }).safetyCopies;

    // Without a terminal and without --yes it is refused: nothing was done.
    const unconfirmed = await cli(['pitr', '--rewind', '--to-time', T]);
    expect(unconfirmed.code, unconfirmed.stderr).toBe(1);
    expect(await listCopies()).toEqual([]);

    // Writes keep coming while it runs (they fail while the cluster is down).
    const abort = new AbortController();
    const load = runLoad({ target: { host: '127.0.0.1', port: w, user: 'postgres', password: stack.password, database: 'postgres' }, ratePerSecond: 10, signal: abort.signal });
    const started = Date.now();
    let result;
    try {
      result = await cli(['pitr', '--rewind', '--to-time', T, '--yes', '--json'], 600_000);
    } finally {
      abort.abort();
      await load;
    }
    timings.rewind = Date.now() - started;
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(stack.password);
    const doc = JSON.parse(result.stdout) as { status: string; result: { details: { leader: string; timeline: number; safetyCopies: Array<{ id: string; member: string; container: string; path: string }> } } };
    expect(doc.status).toBe('done');
    const { leader, timeline, safetyCopies } = doc.result.details;
    expect(timeline).toBeGreaterThan(Number(before?.t));

    // A leader and 3 streaming replicas on the new timeline; the N rows; writes through the write port.
    const healthy = await waitComposeHealthy(stack);
    expect(healthy.leader).toBe(leader);
    const [rows] = await composeQuery<{ n: string }>(stack, w, `SELECT count(*) AS n FROM ${REWIND_TABLE}`);
    expect(Number(rows?.n)).toBe(N);
    await composeQuery(stack, w, `INSERT INTO ${REWIND_TABLE} VALUES (${N + 1})`);
    const [port] = await composeQuery<{ port: number }>(stack, w, 'SELECT inet_server_port() AS port');
    expect(port?.port).toBe(COMPOSE_PG_PORTS[leader]);
    const streaming = await waitUntil(
      'three streaming replicas of the rewound leader',
      async () => {
        const r = await composeQuery<{ application_name: string; state: string }>(stack, COMPOSE_PG_PORTS[leader] as number, 'SELECT application_name, state FROM pg_stat_replication');
        return r.filter((x) => x.state === 'streaming').length === 3 ? r : undefined;
      },
      { signal: AbortSignal.timeout(120_000), timeoutMs: 110_000, intervalMs: 1000 },
    );
    expect(streaming.map((r) => r.application_name).sort()).toEqual(MEMBERS.filter((m) => m !== leader));

    // Archiving resumed on the new timeline: a WAL switch is archived by Barman.
    const barman = (args: string[]) => inContainer(stack, 'pgcockpit-barman', ['barman', ...args], 'barman');
    await barman(['switch-wal', '--force', '--archive', '--archive-timeout', '60', 'patroni1']);
    const status = JSON.parse(await barman(['-f', 'json', 'status', 'patroni1'])) as Record<string, Record<string, { message: string }>>;
    const lastArchived = String(status.patroni1?.last_archived_wal?.message ?? '');
    const [current] = await composeQuery<{ t: number }>(stack, w, 'SELECT timeline_id AS t FROM pg_control_checkpoint()');
    expect(parseInt(lastArchived.slice(0, 8), 16)).toBe(Number(current?.t));

    // Safety copies: one per member, in its own volume (seen from its container), listed; the helper container is gone.
    expect(safetyCopies.map((c) => c.member).sort()).toEqual(MEMBERS);
    for (const copy of safetyCopies) {
      expect(copy.container).toBe(`pgcockpit-${copy.member}`);
      expect((await inContainer(stack, copy.container, ['cat', `${copy.path}/PG_VERSION`], 'root')).trim()).toBe('15');
    }
    expect((await listCopies()).map((c) => c.id).sort()).toEqual(safetyCopies.map((c) => c.id).sort());
    expect(await containersLabelled(stack, 'pgcockpit.rewind')).toEqual([]);

    // Removed on request (leaving the stack as the suite found it).
    for (const copy of safetyCopies) {
      const removed = await cli(['restores', 'remove', copy.id]);
      expect(removed.code, removed.stderr + removed.stdout).toBe(0);
      expect(await inContainer(stack, copy.container, ['sh', '-c', `ls -d ${path.dirname(copy.path)}/*.safety-* 2>/dev/null || true`], 'root')).toBe('');
    }
    expect(await listCopies()).toEqual([]);
  });
});

describe.runIf(!host.able)('the compose stack on a machine that cannot host it', () => {
  it('names what is missing', () => {
    expect(host.missing.length).toBeGreaterThan(0);
    expect(host.missing.join(' ')).toMatch(/Docker API|docker-compose|base image/);
  });
});
