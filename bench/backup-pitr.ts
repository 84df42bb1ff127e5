/**
 * bench/backup-pitr: on a lab with a ≥ 1 GB database made by pgbench, the time of `pgcockpit backup`
 * and of a side restore (`pgcockpit pitr --end-of-backup`) beside raw `barman backup` and `barman recover`
 * on the same lab. Goal: ≤ 5% over Barman itself.
 *   node dist/bench/backup-pitr.js [--port-base B] [--scale S] [--members M] [--dir DIR] [--rounds N] [--keep]
 * Without --dir it starts a lab in a fresh directory and destroys it at the end (unless --keep). With --dir it
 * uses that running lab, and makes the pgbench database (`pgbench_bench`) only when the cluster is smaller
 * than 1 GB; it drops what it made at the end unless --keep.
 * Raw and cockpit runs are interleaved, each round in the other order, so that the machine's load (other
 * work on the same cores) weighs on both alike; each figure is printed with the 1-minute load average.
 * The side restore does more than `barman recover` (it starts a server, replays to the target, promotes):
 * its `recover` step is compared with raw `barman recover`, and its end-to-end time with raw `barman
 * recover` + the replay to promotion on the same directory (the same work done by hand).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { labAccounts, labDestroy, labSuperuserPassword, labUp, readLabTopology, runLabBarman } from '../src/lab/lab.js';
import type { LabTopology } from '../src/lab/topology.js';
import { PG_BIN_DIR } from '../src/lab/prerequisites.js';
import { packageRoot } from '../src/util/package-root.js';

const { values } = parseArgs({
  options: {
    'port-base': { type: 'string', default: '7000' },
    scale: { type: 'string', default: '70' },
    members: { type: 'string', default: '2' },
    dir: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});
const portBase = Number(values['port-base']);
const scale = Number(values.scale);
const members = Number(values.members);
const rounds = Number(values.rounds);
const ownLab = values.dir === undefined;
const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-bench-pitr-'));
const BENCH_DB = 'pgbench_bench';
const log = (line: string) => console.log(line);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
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

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; load: number }> {
  const load = os.loadavg()[0] ?? 0;
  const started = process.hrtime.bigint();
  const value = await work();
  return { value, seconds: Number(process.hrtime.bigint() - started) / 1e9, load };
}

/**
 * A pgcockpit command. Refused because the cluster's state could not be read (every source timed out: the
 * machine is overloaded) is said and tried again, at most twice; the failed try is not timed.
 */
async function cli(args: string[]): Promise<Ran> {
  for (let attempt = 1; ; attempt++) {
    const result = await run(process.execPath, [path.join(packageRoot(), 'bin', 'pgcockpit.js'), ...args]);
    if (attempt < 3 && result.code === 1 && result.stdout.includes('"state-unknown"')) {
      log(`  (pgcockpit ${args[0] ?? ''} refused: the cluster's state could not be read in time, load ${os.loadavg()[0]?.toFixed(1)}; again)`);
      continue;
    }
    return result;
  }
}
const pct = (ours: number, raw: number) => `${ours >= raw ? '+' : ''}${(((ours - raw) / raw) * 100).toFixed(1)}%`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

type Doc = { steps: Array<{ id: string; durationMs: number }>; result?: { details?: { restore?: { id: string } } } };
const stepSeconds = (doc: Doc, id: string) => (doc.steps.find((s) => s.id === id)?.durationMs ?? 0) / 1000;

/** Raw `barman recover` of the latest backup into a fresh directory, then (optionally) the replay to promotion by hand. */
async function rawRecover(topology: LabTopology, replay: boolean): Promise<{ recover: number; total: number }> {
  const target = path.join(dir, `bench-raw-recover-${process.pid}`);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { mode: 0o700 });
  const barmanUser = labAccounts().barman;
  if (barmanUser) fs.chownSync(target, barmanUser.uid, barmanUser.gid);
  const data = path.join(target, 'data');
  try {
    const started = process.hrtime.bigint();
    must('barman recover', await runLabBarman(topology, ['recover', '--target-immediate', '--target-action', 'promote', topology.barman.server, 'latest', data], 3_600_000));
    const recover = Number(process.hrtime.bigint() - started) / 1e9;
    if (!replay) return { recover, total: recover };
    // By hand: a server of its own on a free port, replaying to the backup's end and promoting.
    const postgres = labAccounts().postgres;
    if (postgres) fs.chownSync(target, postgres.uid, postgres.gid);
    must('chown', await run('chown', ['-R', postgres ? `${postgres.uid}:${postgres.gid}` : `${process.getuid?.() ?? 0}`, target]));
    const port = 25990;
    const asPostgres = (argv: string[]) => (postgres && process.getuid?.() === 0 ? ['setpriv', `--reuid=${postgres.uid}`, `--regid=${postgres.gid}`, '--init-groups', '--', ...argv] : argv);
    const [cmd, ...args] = asPostgres([
      path.join(PG_BIN_DIR, 'pg_ctl'),
      '-D',
      data,
      '-l',
      path.join(target, 'postgres.log'),
      '-w',
      '-o',
      `-p ${port} -k ${target} -c listen_addresses=127.0.0.1 -c archive_mode=off -c primary_conninfo='' -c hba_file=${data}/pg_hba.conf -c ident_file=${data}/pg_ident.conf -c cluster_name=bench`,
      'start',
    ]) as [string, ...string[]];
    must('pg_ctl start', await run(cmd, args));
    const [qcmd, ...qargs] = asPostgres([path.join(PG_BIN_DIR, 'psql'), '-h', target, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-Atc', 'SELECT pg_is_in_recovery()']) as [string, ...string[]];
    for (;;) {
      const answer = await run(qcmd, qargs);
      if (answer.code === 0 && answer.stdout.trim() === 'f') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const total = Number(process.hrtime.bigint() - started) / 1e9;
    const [scmd, ...sargs] = asPostgres([path.join(PG_BIN_DIR, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']) as [string, ...string[]];
    await run(scmd, sargs);
    return { recover, total };
  } finally {
    fs.rmSync(target, { recursive: true, force: true });
  }
}

let createdDb = false;
let topology: LabTopology | undefined;
try {
  topology = ownLab ? (await labUp({ dir, portBase, members, restAuth: false }, (line) => log(`[lab] ${line}`))).topology : readLabTopology(dir);
  const lab = topology;
  const config = lab.paths.cockpitConfig;
  const pgEnv = { PGHOST: lab.host, PGPORT: String(lab.haproxy.writePort), PGUSER: 'postgres', PGDATABASE: 'postgres', PGPASSWORD: labSuperuserPassword(lab) };
  const psql = (sql: string, db = 'postgres') => run(path.join(PG_BIN_DIR, 'psql'), ['-Atc', sql], { ...pgEnv, PGDATABASE: db });
  const clusterBytes = async () => Number((must('size', await psql('SELECT sum(pg_database_size(datname)) FROM pg_database'))).stdout.trim());
  if ((await clusterBytes()) < 1024 ** 3) {
    must('createdb', await psql(`CREATE DATABASE ${BENCH_DB}`));
    createdDb = true;
    const init = must('pgbench -i', await run(path.join(PG_BIN_DIR, 'pgbench'), ['-i', '-q', '-s', String(scale), BENCH_DB], pgEnv));
    log(`pgbench -i -s ${scale}: ${init.seconds.toFixed(1)} s`);
  }
  log(`cluster: ${((await clusterBytes()) / 1024 ** 3).toFixed(2)} GiB in ${lab.members.length} members; ${os.cpus().length} CPUs`);
  // Everything written so far archived, and one backup taken untimed (the first backup after a bulk load waits for its WAL).
  must('switch-wal', await runLabBarman(lab, ['switch-wal', '--force', '--archive', '--archive-timeout', '300', lab.barman.server], 600_000));
  must('warm-up backup', await runLabBarman(lab, ['backup', '--wait', '--wait-timeout', '600', lab.barman.server], 3_600_000));

  const raw = { backup: [] as number[], recover: [] as number[], byHand: [] as number[] };
  const ours = { backup: [] as number[], backupStep: [] as number[], side: [] as number[], sideRecover: [] as number[] };
  const rawBackup = async () => {
    const t = await timed(async () => must('barman backup', await runLabBarman(lab, ['backup', '--wait', '--wait-timeout', '600', lab.barman.server], 3_600_000)));
    raw.backup.push(t.seconds);
    log(`  raw barman backup            ${t.seconds.toFixed(2)} s   (load ${t.load.toFixed(1)})`);
  };
  const ourBackup = async () => {
    const t = await timed(async () => must('pgcockpit backup', await cli(['backup', '--yes', '--json', '--config', config])));
    const doc = JSON.parse(t.value.stdout) as Doc;
    t.seconds = t.value.seconds;
    ours.backup.push(t.seconds);
    ours.backupStep.push(stepSeconds(doc, 'request:backup'));
    log(`  pgcockpit backup             ${t.seconds.toFixed(2)} s   (load ${t.load.toFixed(1)}; its barman step ${stepSeconds(doc, 'request:backup').toFixed(2)} s, verify ${stepSeconds(doc, 'verify').toFixed(2)} s)`);
  };
  const rawRestore = async () => {
    const t = await timed(() => rawRecover(lab, true));
    raw.recover.push(t.value.recover);
    raw.byHand.push(t.value.total);
    log(`  raw barman recover           ${t.value.recover.toFixed(2)} s; + replay to promotion by hand ${t.value.total.toFixed(2)} s   (load ${t.load.toFixed(1)})`);
  };
  const ourRestore = async () => {
    const t = await timed(async () => must('pgcockpit pitr', await cli(['pitr', '--end-of-backup', '--yes', '--json', '--config', config])));
    const doc = JSON.parse(t.value.stdout) as Doc;
    t.seconds = t.value.seconds;
    ours.side.push(t.seconds);
    ours.sideRecover.push(stepSeconds(doc, 'recover'));
    log(
      `  pgcockpit side restore       ${t.seconds.toFixed(2)} s   (load ${t.load.toFixed(1)}; validate ${stepSeconds(doc, 'preflight').toFixed(2)} s, recover ${stepSeconds(doc, 'recover').toFixed(2)} s, configure ${stepSeconds(doc, 'configure').toFixed(2)} s, start ${stepSeconds(doc, 'start').toFixed(2)} s, replay+promote ${stepSeconds(doc, 'recovery').toFixed(2)} s)`,
    );
    const id = doc.result?.details?.restore?.id;
    if (id) must('restores remove', await cli(['restores', 'remove', id, '--config', config]));
  };
  for (let round = 1; round <= rounds; round++) {
    log(`round ${round}/${rounds}`);
    const rawFirst = round % 2 === 1;
    for (const step of rawFirst ? [rawBackup, ourBackup, rawRestore, ourRestore] : [ourBackup, rawBackup, ourRestore, rawRestore]) await step();
  }
  log('medians:');
  log(`backup: barman ${median(raw.backup).toFixed(2)} s; pgcockpit ${median(ours.backup).toFixed(2)} s end to end (${pct(median(ours.backup), median(raw.backup))}), its barman step ${median(ours.backupStep).toFixed(2)} s (${pct(median(ours.backupStep), median(raw.backup))})`);
  log(
    `side restore: barman recover ${median(raw.recover).toFixed(2)} s, its recover step ${median(ours.sideRecover).toFixed(2)} s (${pct(median(ours.sideRecover), median(raw.recover))}); ` +
      `by hand (recover + replay to promotion) ${median(raw.byHand).toFixed(2)} s, pgcockpit end to end ${median(ours.side).toFixed(2)} s (${pct(median(ours.side), median(raw.byHand))})`,
  );
  log(`load average now ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
} finally {
  if (createdDb && topology && !values.keep) {
    await run(path.join(PG_BIN_DIR, 'psql'), ['-Atc', `DROP DATABASE IF EXISTS ${BENCH_DB}`], { PGHOST: topology.host, PGPORT: String(topology.haproxy.writePort), PGUSER: 'postgres', PGDATABASE: 'postgres', PGPASSWORD: labSuperuserPassword(topology) });
  }
  if (ownLab && !values.keep) await labDestroy(dir, () => undefined);
}
