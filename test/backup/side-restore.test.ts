import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSuperuserPassword } from '../../src/lab/lab.js';
import { runLoad } from '../../src/lab/load.js';
import { isPortFree } from '../../src/lab/ports.js';
import type { LabTopology } from '../../src/lab/topology.js';
import type { ProgressEvent, StepEvent } from '../../src/ops/types.js';
import { runCli } from '../support/cli.js';
import { waitHealthy } from '../support/lab-faults.js';
import { labQuery, testLab } from '../support/lab.js';
import { dataDirFingerprint, dcsFingerprint, loadTarget, runOnLab, serverNow } from './support.js';

/**
 * On the shared lab: a backup with progress events (in-process runner), then the acceptance for
 * the side restore (N rows, T, deleted, load running: a restore to T has the N rows on its own port, the
 * cluster's data and leader unchanged), and every invalid target refused with nothing changed.
 */

const N = 500;
const TABLE = 'pgcockpit_pitr_side';
let topology: LabTopology;
let config: string;

beforeAll(async () => {
  topology = testLab();
  config = topology.paths.cockpitConfig;
  await waitHealthy(topology);
});

afterAll(async () => {
  await labQuery(topology, topology.haproxy.writePort, `DROP TABLE IF EXISTS ${TABLE}`).catch(() => undefined);
});

describe('backup', () => {
  it('takes a Barman backup with progress events and verifies it', async () => {
    const before = (await runCli(['backups', '--json', '--config', config])).stdout;
    const { run, events } = await runOnLab(topology, { operation: 'backup', params: {} });
    expect(run.status, run.error).toBe('done');
    const progress = events.filter((e): e is ProgressEvent => e.type === 'progress');
    expect(progress.some((p) => /STARTED|DONE/.test(p.message ?? ''))).toBe(true);
    expect(events.some((e) => e.type === 'log' && /barman: .*Backup completed/i.test(e.message))).toBe(true);
    const steps = events.filter((e): e is StepEvent => e.type === 'step' && e.status === 'done').map((s) => s.id);
    expect(steps).toEqual(['preflight', 'request:backup', 'verify']);
    const id = run.result?.details.backupId as string;
    expect(id).toMatch(/^\d{8}T\d{6}$/);
    expect(before).not.toContain(id);
    const listed = JSON.parse((await runCli(['backups', '--json', '--config', config])).stdout) as { backups: Array<{ id: string; status: string }>; window: { fromBackupId: string } | null };
    expect(listed.backups.find((b) => b.id === id)?.status).toBe('DONE');
    expect(listed.window).not.toBeNull();
  });

  it('pgcockpit backup --yes --json reads /cluster, the DCS and the leader only, then backs up and verifies', async () => {
    const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-trace-')), 'startup.txt');
    try {
      const result = await runCli(['backup', '--yes', '--json', '--config', config], { env: { PGCOCKPIT_TRACE_STARTUP: trace }, timeoutMs: 300_000 });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      const doc = JSON.parse(result.stdout) as { status: string; steps: Array<{ id: string; status: string }>; result: { details: { member: string; checkOk: boolean } } };
      expect(doc.steps.map((step) => `${step.id} ${step.status}`)).toEqual(['preflight done', 'request:backup done', 'verify done']);
      expect(doc.result.details.checkOk).toBe(true);
      // The store's sources this one-shot command started (the trace's "read <source>" marks): no other.
      const leader = doc.result.details.member;
      const read = fs.readFileSync(trace, 'utf8').split('\n').flatMap((line) => /^\S+ read (\S+)$/.exec(line)?.slice(1) ?? []);
      expect(read.sort()).toEqual(['dcs', 'patroni', `patroni:${leader}`, `postgres:${leader}`]);
    } finally {
      fs.rmSync(path.dirname(trace), { recursive: true, force: true });
    }
  });
});

describe('side restore', () => {
  it('restores the deleted rows to T on its own port, and changes nothing in the cluster', async () => {
    const w = topology.haproxy.writePort;
    await labQuery(topology, w, `DROP TABLE IF EXISTS ${TABLE}`);
    await labQuery(topology, w, `CREATE TABLE ${TABLE} (id int PRIMARY KEY)`);
    await labQuery(topology, w, `INSERT INTO ${TABLE} SELECT generate_series(1, ${N})`);
    const T = await serverNow(topology);
    await labQuery(topology, w, `DELETE FROM ${TABLE}`);
    const leaderBefore = await waitHealthy(topology);
    const abort = new AbortController();
    const load = runLoad({ target: loadTarget(topology), ratePerSecond: 20, signal: abort.signal });
    let id: string | undefined;
    try {
      const result = await runCli(['pitr', '--to-time', T, '--yes', '--json', '--config', config], { timeoutMs: 300_000 });
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(result.stdout + result.stderr).not.toContain(labSuperuserPassword(topology));
      const doc = JSON.parse(result.stdout) as { status: string; result: { details: { uri: string; passwordRef: string; restore: { id: string; port: number; dir: string } } } };
      expect(doc.status).toBe('done');
      const { uri, passwordRef, restore } = doc.result.details;
      id = restore.id;
      expect(uri).toBe(`postgresql://postgres@127.0.0.1:${restore.port}/postgres`);
      expect(passwordRef).toContain(path.join(topology.paths.secretsDir, 'postgres.password'));
      expect(topology.members.map((m) => m.pgPort)).not.toContain(restore.port);

      // The N rows on the restore's own port; still none in the cluster; the same leader.
      const restored = await labQuery<{ n: string }>(topology, restore.port, `SELECT count(*) AS n FROM ${TABLE}`);
      expect(Number(restored[0]?.n)).toBe(N);
      const recovery = await labQuery<{ r: boolean }>(topology, restore.port, 'SELECT pg_is_in_recovery() AS r');
      expect(recovery[0]?.r).toBe(false);
      const live = await labQuery<{ n: string }>(topology, w, `SELECT count(*) AS n FROM ${TABLE}`);
      expect(Number(live[0]?.n)).toBe(0);
      expect(await waitHealthy(topology)).toBe(leaderBefore);
      // Its config points nowhere into the cluster.
      const conf = fs.readFileSync(path.join(restore.dir, 'data', 'postgresql.conf'), 'utf8');
      expect(conf).not.toContain(topology.options.dir + '/members');
      expect(conf).toContain('archive_mode = off');

      const listed = JSON.parse((await runCli(['restores', '--json', '--config', config])).stdout) as { restores: Array<{ id: string; status: string }> };
      expect(listed.restores.find((r) => r.id === id)?.status).toBe('running');
      const removed = await runCli(['restores', 'remove', id, '--config', config]);
      expect(removed.code, removed.stderr).toBe(0);
      expect(fs.existsSync(restore.dir)).toBe(false);
      expect(await isPortFree(restore.port, '127.0.0.1')).toBe(true);
      id = undefined;
    } finally {
      abort.abort();
      const report = await load;
      expect(report.acknowledged).toBeGreaterThan(0);
      if (id) await runCli(['restores', 'remove', id, '--config', config]);
    }
    await waitHealthy(topology);
  });

  it('refuses every invalid target with its reason, and nothing changes', async () => {
    const dcs = dcsFingerprint(topology);
    const dirs = dataDirFingerprint(topology);
    const restoresFile = path.join(topology.options.dir, 'restores', 'restores.json');
    const registry = fs.existsSync(restoresFile) ? fs.readFileSync(restoresFile, 'utf8') : '';
    const backups = JSON.parse((await runCli(['backups', '--json', '--config', config])).stdout) as { backups: unknown[] };
    const future = new Date(Date.now() + 3600_000).toISOString();
    const cases: Array<[string[], string]> = [
      [['--to-time', '2001-01-01T00:00:00Z'], 'target-before-window'],
      [['--to-lsn', 'FFFFFFF/0'], 'target-after-archive'],
      [['--to-time', future], 'target-in-future'],
      [['--to-time', 'yesterday at noon'], 'target-malformed'],
      [['--end-of-backup', '--backup', '20000101T000000'], 'unknown-backup'],
    ];
    for (const [args, code] of cases) {
      const result = await runCli(['pitr', ...args, '--yes', '--json', '--config', config], { timeoutMs: 180_000 });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(1);
      const doc = JSON.parse(result.stdout) as { status: string; reasons: Array<{ code: string; message: string }> };
      expect(doc.status).toBe('refused');
      expect(doc.reasons.map((r) => r.code)).toContain(code);
      if (code !== 'target-malformed' && code !== 'unknown-backup') expect(doc.reasons.find((r) => r.code === code)?.message).toMatch(/valid window: .* UTC/);
    }
    // The rewind refuses the same way (its type-name confirmation is given by --yes off a terminal).
    const rewind = await runCli(['pitr', '--rewind', '--to-time', '2001-01-01T00:00:00Z', '--yes', '--json', '--config', config]);
    expect(rewind.code).toBe(1);
    expect(dcsFingerprint(topology)).toEqual(dcs);
    expect(dataDirFingerprint(topology)).toEqual(dirs);
    expect(fs.existsSync(restoresFile) ? fs.readFileSync(restoresFile, 'utf8') : '').toBe(registry);
    const after = JSON.parse((await runCli(['backups', '--json', '--config', config])).stdout) as { backups: unknown[] };
    expect(after.backups.length).toBe(backups.backups.length);
  });

  it('exits 64 on usage errors', async () => {
    expect((await runCli(['pitr', '--config', config])).code).toBe(64);
    expect((await runCli(['pitr', '--to-xid', '5', '--to-name', 'x', '--config', config])).code).toBe(64);
    expect((await runCli(['pitr', '--side', '--rewind', '--end-of-backup', '--config', config])).code).toBe(64);
  });
});
