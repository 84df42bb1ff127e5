import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { labDestroy, labUp, runLabBarman } from '../../src/lab/lab.js';
import { runLoad } from '../../src/lab/load.js';
import { listSafetyCopies } from '../../src/lab/restore-lab.js';
import type { LabTopology } from '../../src/lab/topology.js';
import { runCli } from '../support/cli.js';
import { waitHealthy } from '../support/lab-faults.js';
import { labQuery } from '../support/lab.js';
import { loadTarget, serverNow } from './support.js';

/**
 * The cluster rewind is destructive: it runs on a lab of its own (2 members, port base + 3000), started
 * here and destroyed after, never on the shared one. Acceptance of the issue: N rows, T, deleted, load
 * running; a rewind to T comes back with a leader, a streaming replica, the N rows, writes through the
 * write port, archiving resumed on the new timeline, and the safety copies present and listed.
 */

const N = 300;
const TABLE = 'pgcockpit_pitr_rewind';
let dir: string;
let topology: LabTopology;
const log = (line: string) => process.stderr.write(`[rewind lab] ${line}\n`);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-rewind-lab-'));
  topology = (await labUp({ dir, portBase: inject('labPortBase') + 3000, members: 2, restAuth: false }, log)).topology;
}, 240_000);

afterAll(async () => {
  if (dir) await labDestroy(dir, log).catch(() => fs.rmSync(dir, { recursive: true, force: true }));
}, 240_000);

describe('cluster rewind (separate lab)', () => {
  it('takes the whole cluster back to T, with safety copies', async () => {
    const config = topology.paths.cockpitConfig;
    const w = topology.haproxy.writePort;
    const backup = await runLabBarman(topology, ['backup', '--wait', '--wait-timeout', '120', topology.barman.server], 180_000);
    expect(backup.code, backup.stdout + backup.stderr).toBe(0);
    await labQuery(topology, w, `CREATE TABLE ${TABLE} (id int PRIMARY KEY)`);
    await labQuery(topology, w, `INSERT INTO ${TABLE} SELECT generate_series(1, ${N})`);
    const T = await serverNow(topology);
    await labQuery(topology, w, `DELETE FROM ${TABLE}`);
    const timelineBefore = Number((await labQuery<{ t: number }>(topology, w, 'SELECT timeline_id AS t FROM pg_control_checkpoint()'))[0]?.t);

    // Without a terminal and without --yes it is refused: nothing was done.
    const unconfirmed = await runCli(['pitr', '--rewind', '--to-time', T, '--config', config]);
    expect(unconfirmed.code).toBe(1);
    expect(listSafetyCopies(topology)).toEqual([]);

    const abort = new AbortController();
    const load = runLoad({ target: loadTarget(topology), ratePerSecond: 10, signal: abort.signal });
    let result;
    try {
      result = await runCli(['pitr', '--rewind', '--to-time', T, '--yes', '--json', '--config', config], { timeoutMs: 600_000 });
    } finally {
      abort.abort();
      await load;
    }
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const doc = JSON.parse(result.stdout) as { status: string; result: { details: { leader: string; timeline: number; safetyCopies: Array<{ id: string; path: string }> } } };
    expect(doc.status).toBe('done');
    const { leader, timeline, safetyCopies } = doc.result.details;
    expect(timeline).toBeGreaterThan(timelineBefore);

    // A leader and a streaming replica; the N rows; writes through the write port.
    expect(await waitHealthy(topology)).toBe(leader);
    const rows = await labQuery<{ n: string }>(topology, w, `SELECT count(*) AS n FROM ${TABLE}`);
    expect(Number(rows[0]?.n)).toBe(N);
    await labQuery(topology, w, `INSERT INTO ${TABLE} VALUES (${N + 1})`);
    const replicaPort = topology.members.find((m) => m.name !== leader)?.pgPort as number;
    const replica = await labQuery<{ r: boolean }>(topology, replicaPort, 'SELECT pg_is_in_recovery() AS r');
    expect(replica[0]?.r).toBe(true);

    // Archiving resumed on the new timeline: a switch is archived by Barman.
    const switched = await runLabBarman(topology, ['switch-wal', '--force', '--archive', '--archive-timeout', '60', topology.barman.server], 90_000);
    expect(switched.code, switched.stdout + switched.stderr).toBe(0);
    const status = await runLabBarman(topology, ['-f', 'json', 'status', topology.barman.server]);
    const lastArchived = String((JSON.parse(status.stdout) as Record<string, Record<string, { message: string }>>)[topology.barman.server]?.last_archived_wal?.message ?? '');
    const currentTimeline = Number((await labQuery<{ t: number }>(topology, w, 'SELECT timeline_id AS t FROM pg_control_checkpoint()'))[0]?.t);
    expect(parseInt(lastArchived.slice(0, 8), 16)).toBe(currentTimeline);

    // Safety copies: one per member, on disk, and listed.
    expect(safetyCopies.map((c) => c.id.split('-')[0]).sort()).toEqual(topology.members.map((m) => m.name).sort());
    for (const copy of safetyCopies) expect(fs.existsSync(path.join(copy.path, 'PG_VERSION'))).toBe(true);
    const listed = JSON.parse((await runCli(['restores', '--json', '--config', config])).stdout) as { safetyCopies: Array<{ id: string }> };
    expect(listed.safetyCopies.map((c) => c.id).sort()).toEqual(safetyCopies.map((c) => c.id).sort());
  }, 720_000);
});
