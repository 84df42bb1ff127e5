/**
 * bench/backup-pitr: on a lab with a ≥ 1 GB database made by pgbench, the time of `pgcockpit backup`
 * and of a side restore (`pgcockpit pitr --end-of-backup`) beside raw `barman backup` and `barman recover`
 * on the same lab. Goal: ≤ 5% over Barman itself.
 *   node dist/bench/backup-pitr.js [--port-base B] [--scale S] [--members M] [--dir DIR] [--keep]
 * Without --dir it starts a lab in a fresh directory and destroys it at the end (unless --keep).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { labDestroy, labSuperuserPassword, labUp, runLabBarman } from '../src/lab/lab.js';
import { labAccounts } from '../src/lab/lab.js';
import { PG_BIN_DIR } from '../src/lab/prerequisites.js';
import { packageRoot } from '../src/util/package-root.js';

const { values } = parseArgs({
  options: {
    'port-base': { type: 'string', default: '7000' },
    scale: { type: 'string', default: '70' },
    members: { type: 'string', default: '2' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const portBase = Number(values['port-base']);
const scale = Number(values.scale);
const members = Number(values.members);
const ownLab = values.dir === undefined;
const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-bench-pitr-'));
const log = (line: string) => console.log(line);

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
  });
}

function must<T extends { code: number; stdout: string; stderr: string }>(what: string, result: T): T {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${(result.stdout + result.stderr).trim().slice(-2000)}`);
  return result;
}

const cli = (args: string[]) => run(process.execPath, [path.join(packageRoot(), 'bin', 'pgcockpit.js'), ...args]);
const pct = (ours: number, raw: number) => `${(((ours - raw) / raw) * 100).toFixed(1)}%`;

try {
  const { topology } = await labUp({ dir, portBase, members, restAuth: false }, (line) => log(`[lab] ${line}`));
  const config = topology.paths.cockpitConfig;
  const pgEnv = { PGHOST: topology.host, PGPORT: String(topology.haproxy.writePort), PGUSER: 'postgres', PGDATABASE: 'postgres', PGPASSWORD: labSuperuserPassword(topology) };

  const init = must('pgbench -i', await run(path.join(PG_BIN_DIR, 'pgbench'), ['-i', '-q', '-s', String(scale)], pgEnv));
  const size = must('size', await run(path.join(PG_BIN_DIR, 'psql'), ['-Atc', 'SELECT pg_database_size(current_database())'], pgEnv));
  log(`pgbench -i -s ${scale}: ${init.seconds.toFixed(1)} s, database ${(Number(size.stdout.trim()) / 1024 ** 3).toFixed(2)} GiB`);
  must('switch-wal', await runLabBarman(topology, ['switch-wal', '--force', '--archive', '--archive-timeout', '120', topology.barman.server], 180_000));

  // Backups: raw Barman, then the cockpit (the same --wait semantics: done when the backup is DONE).
  const rawStart = process.hrtime.bigint();
  must('barman backup', await runLabBarman(topology, ['backup', '--wait', '--wait-timeout', '600', topology.barman.server], 3_600_000));
  const rawBackup = Number(process.hrtime.bigint() - rawStart) / 1e9;
  const ours = must('pgcockpit backup', await cli(['backup', '--yes', '--json', '--config', config]));
  const oursDoc = JSON.parse(ours.stdout) as { steps: Array<{ id: string; durationMs: number }> };
  const oursCopy = (oursDoc.steps.find((s) => s.id === 'request:backup')?.durationMs ?? 0) / 1000;
  log(`backup: barman ${rawBackup.toFixed(1)} s; pgcockpit ${ours.seconds.toFixed(1)} s end to end (${pct(ours.seconds, rawBackup)}), its barman step ${oursCopy.toFixed(1)} s (${pct(oursCopy, rawBackup)})`);

  // Recovery: raw `barman recover` into a directory, then the cockpit's side restore (recover + start + replay).
  const target = path.join(dir, 'bench-raw-recover');
  fs.mkdirSync(target, { mode: 0o700 });
  const barmanUser = labAccounts().barman;
  if (barmanUser) fs.chownSync(target, barmanUser.uid, barmanUser.gid);
  const recStart = process.hrtime.bigint();
  must('barman recover', await runLabBarman(topology, ['recover', '--target-immediate', '--target-action', 'promote', topology.barman.server, 'latest', path.join(target, 'data')], 3_600_000));
  const rawRecover = Number(process.hrtime.bigint() - recStart) / 1e9;
  fs.rmSync(target, { recursive: true, force: true });
  const side = must('pgcockpit pitr', await cli(['pitr', '--end-of-backup', '--yes', '--json', '--config', config]));
  const sideDoc = JSON.parse(side.stdout) as { steps: Array<{ id: string; durationMs: number }>; result: { details: { restore: { id: string } } } };
  const step = (id: string) => (sideDoc.steps.find((s) => s.id === id)?.durationMs ?? 0) / 1000;
  log(
    `recover: barman ${rawRecover.toFixed(1)} s; pgcockpit side restore ${side.seconds.toFixed(1)} s end to end ` +
      `(validate ${step('preflight').toFixed(1)} s, recover ${step('recover').toFixed(1)} s = ${pct(step('recover'), rawRecover)} over barman, configure ${step('configure').toFixed(1)} s, start ${step('start').toFixed(1)} s, replay+promote ${step('recovery').toFixed(1)} s)`,
  );
  must('restores remove', await cli(['restores', 'remove', sideDoc.result.details.restore.id, '--config', config]));
} finally {
  if (ownLab && !values.keep) await labDestroy(dir, () => undefined);
}
