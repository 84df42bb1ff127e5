/**
 * bench/backup-pitr: on a lab with a ≥ 1 GB database made by pgbench, the time of `pgcockpit backup` and of a
 * side restore (`pgcockpit pitr --end-of-backup`) beside the same work done with Barman by hand, on the same
 * lab. Goal: ≤ 5% over Barman itself.
 *   node dist/bench/backup-pitr.js [--port-base B] [--scale S] [--members M] [--dir DIR] [--rounds N] [--keep] [--bin FILE]
 * --bin times another build's executable (e.g. bin/pgcockpit.js of an older commit's checkout) for a before/after.
 * Without --dir it starts a lab in a fresh directory (port base B, default 7000) and destroys it at the end
 * (unless --keep). With --dir it uses that running lab, and makes the pgbench database (`pgbench_bench`) only
 * when the cluster is smaller than 1 GB; it drops what it made at the end unless --keep.
 *
 * What is compared (the raw side does the same work by hand):
 *  - backup: `barman backup --wait SERVER` as Barman's account, against `pgcockpit backup --yes --json`, a
 *    whole process (start-up, preflight, the same `barman backup --wait`, progress, verification, exit).
 *  - side restore: by hand, `barman recover --target-immediate --target-action promote SERVER latest DIR`,
 *    the directory given to postgres, `pg_ctl -w start` with its own port, socket, hba/ident files,
 *    archive_mode=off and no primary_conninfo, then `SELECT pg_is_in_recovery()` every 100 ms until false
 *    (the target reached and promoted); against `pgcockpit pitr --end-of-backup --yes --json` (validation
 *    against Barman's catalogue, the same recover of the newest backup, its own configuration, the start,
 *    the wait until promoted). The restored servers are stopped and removed after each run, untimed.
 * The shared machine's load moves every figure by more than the goal: raw and pgcockpit runs alternate
 * (ABAB…, the order swapped each round), each round's pair is compared, and the medians of the figures and
 * of the per-pair differences are printed with the load average. Before each round the older backups are
 * deleted, and before each run the page cache's dirty pages are written out (`sync`), both untimed: every run
 * copies and restores the same amount and starts with no other run's writes pending. pgcockpit and Barman
 * each run once untimed first (Node's compile cache, Python's bytecode, the first backup's WAL wait).
 * pgcockpit's runs write their start-up trace (PGCOCKPIT_TRACE_STARTUP): the medians of its phases (modules and
 * config loaded, the store's sources read, the first step) are printed beside its parts.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { labAccounts, labDestroy, labSuperuserPassword, labUp, readLabTopology, runLabBarman } from '../src/lab/lab.js';
import type { LabTopology } from '../src/lab/topology.js';
import { PG_BIN_DIR } from '../src/lab/prerequisites.js';
import { findFreePort } from '../src/services/restore.js';
import { packageRoot } from '../src/util/package-root.js';

const { values } = parseArgs({
  options: {
    'port-base': { type: 'string', default: '7000' },
    scale: { type: 'string', default: '70' },
    members: { type: 'string', default: '2' },
    dir: { type: 'string' },
    rounds: { type: 'string', default: '4' },
    keep: { type: 'boolean', default: false },
    bin: { type: 'string' },
  },
});
const cockpitBin = path.resolve(values.bin ?? path.join(packageRoot(), 'bin', 'pgcockpit.js'));
const portBase = Number(values['port-base']);
const scale = Number(values.scale);
const members = Number(values.members);
const roundCount = Number(values.rounds);
// Lab ports must stay below the ephemeral range (lab up refuses a base above 17335).
if (!Number.isInteger(portBase) || portBase < 0 || portBase > 17335) throw new Error(`--port-base ${values['port-base']}: give an integer from 0 to 17335`);
if (!Number.isInteger(roundCount) || roundCount < 1) throw new Error(`--rounds ${values.rounds}: give a positive integer`);
const ownLab = values.dir === undefined;
const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-bench-pitr-'));
const BENCH_DB = 'pgbench_bench';
const log = (line: string) => console.log(line);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Epoch ms when the process was spawned and when it closed. */
  spawnedAt: number;
  closedAt: number;
  /** A pgcockpit run's start-up trace (PGCOCKPIT_TRACE_STARTUP): ms since its process started, by phase (the first of each). */
  marks?: Record<string, number>;
}

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const started = process.hrtime.bigint();
  const spawnedAt = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, seconds: Number(process.hrtime.bigint() - started) / 1e9, spawnedAt, closedAt: Date.now() }));
  });
}

function must<T extends { code: number; stdout: string; stderr: string }>(what: string, result: T): T {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${(result.stdout + result.stderr).trim().slice(-2000)}`);
  return result;
}

/**
 * Time one run. `sync` first (untimed): the previous run's gigabyte of dirty pages is written out before this
 * one starts, instead of being flushed while it runs (it would weigh on whichever run comes next).
 */
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; load: number }> {
  must('sync', await run('sync', []));
  const load = os.loadavg()[0] ?? 0;
  const started = process.hrtime.bigint();
  const value = await work();
  return { value, seconds: Number(process.hrtime.bigint() - started) / 1e9, load };
}

/**
 * A pgcockpit command. Refused because the cluster's state could not be read (every source timed out: the
 * machine is overloaded) is said and tried again, at most twice; the failed try is not timed.
 */
const traceFile = path.join(dir, `bench-trace-${process.pid}.txt`);

async function cli(args: string[]): Promise<Ran> {
  for (let attempt = 1; ; attempt++) {
    fs.rmSync(traceFile, { force: true });
    const result: Ran = await run(process.execPath, [cockpitBin, ...args], { PGCOCKPIT_TRACE_STARTUP: traceFile });
    result.marks = {};
    for (const [at, ...phase] of (fs.existsSync(traceFile) ? fs.readFileSync(traceFile, 'utf8') : '').split('\n').map((line) => line.split(' '))) {
      if (at && phase.length) result.marks[phase.join(' ')] ??= Number(at);
    }
    if (attempt < 3 && result.code === 1 && result.stdout.includes('"state-unknown"')) {
      log(`  (pgcockpit ${args[0] ?? ''} refused: the cluster's state could not be read in time, load ${os.loadavg()[0]?.toFixed(1)}; again)`);
      continue;
    }
    return result;
  }
}

const signed = (n: number, digits = 2) => `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;
const pct = (ours: number, raw: number) => `${signed(((ours - raw) / raw) * 100, 1)}%`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

type Doc = { steps: Array<{ id: string; startedAt: string; durationMs: number }>; result?: { details?: { restore?: { id: string } } } };

/** Where a pgcockpit run's time went: start-up (spawn → first step), each step, exit (last step's end → process closed). */
interface Parts {
  startup: number;
  steps: Record<string, number>;
  exit: number;
  marks: Record<string, number>;
}

function partsOf(ran: Ran): Parts {
  const doc = JSON.parse(ran.stdout) as Doc;
  const steps: Record<string, number> = {};
  for (const step of doc.steps) steps[step.id] = (step.durationMs ?? 0) / 1000;
  const first = doc.steps[0];
  const lastEnd = Math.max(...doc.steps.map((s) => Date.parse(s.startedAt) + (s.durationMs ?? 0)));
  return { startup: first ? (Date.parse(first.startedAt) - ran.spawnedAt) / 1000 : 0, steps, exit: Number.isFinite(lastEnd) ? (ran.closedAt - lastEnd) / 1000 : 0, marks: ran.marks ?? {} };
}

/** The start-up's phases from the trace (src/cli/run-operation.ts marks them; an older build may mark fewer). */
const STARTUP_PHASES = ['main', 'config parsed', 'store started', 'sources read', 'step preflight started'];

/** Each phase's median over the runs, in ms since the process started: "main 66, config parsed 223, …". */
function describePhases(runs: Parts[]): string {
  const phases = STARTUP_PHASES.flatMap((phase) => {
    const at = runs.flatMap((parts) => (parts.marks[phase] === undefined ? [] : [parts.marks[phase]]));
    return at.length ? [`${phase} ${median(at).toFixed(0)}`] : [];
  });
  return phases.length ? `start-up phases (ms since the process started): ${phases.join(', ')}` : 'start-up phases: not traced by this build';
}

function describeParts(parts: Parts): string {
  return [`start-up ${parts.startup.toFixed(2)} s`, ...Object.entries(parts.steps).map(([id, s]) => `${id} ${s.toFixed(2)} s`), `exit ${parts.exit.toFixed(2)} s`].join(', ');
}

/** Delete all but the newest `keep` backups (untimed: every run then copies and restores the same amount). */
async function keepNewestBackups(topology: LabTopology, keep: number): Promise<void> {
  const listed = must('list-backups', await runLabBarman(topology, ['-f', 'json', 'list-backups', topology.barman.server], 120_000));
  const backups = (JSON.parse(listed.stdout) as Record<string, Array<{ backup_id: string }>>)[topology.barman.server] ?? [];
  const ids = backups.map((b) => b.backup_id).sort();
  for (const id of ids.slice(0, Math.max(0, ids.length - keep))) must(`delete ${id}`, await runLabBarman(topology, ['delete', topology.barman.server, id], 600_000));
}

/** The side restore by hand: raw `barman recover` of the newest backup, then a server of its own replaying to promotion. */
async function rawRecover(topology: LabTopology): Promise<{ recover: number; total: number }> {
  const target = path.join(dir, `bench-raw-recover-${process.pid}`);
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(target, { mode: 0o700 });
  const barmanUser = labAccounts().barman;
  if (barmanUser) fs.chownSync(target, barmanUser.uid, barmanUser.gid);
  const data = path.join(target, 'data');
  const postgres = labAccounts().postgres;
  const asPostgres = (argv: string[]) => (postgres && process.getuid?.() === 0 ? ['setpriv', `--reuid=${postgres.uid}`, `--regid=${postgres.gid}`, '--init-groups', '--', ...argv] : argv);
  const port = await findFreePort([], 25990);
  let started = false;
  try {
    const begin = process.hrtime.bigint();
    must('barman recover', await runLabBarman(topology, ['recover', '--target-immediate', '--target-action', 'promote', topology.barman.server, 'latest', data], 3_600_000));
    const recover = Number(process.hrtime.bigint() - begin) / 1e9;
    if (postgres) must('chown', await run('chown', ['-R', `${postgres.uid}:${postgres.gid}`, target]));
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
    started = true;
    const [qcmd, ...qargs] = asPostgres([path.join(PG_BIN_DIR, 'psql'), '-h', target, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-Atc', 'SELECT pg_is_in_recovery()']) as [string, ...string[]];
    for (;;) {
      const answer = await run(qcmd, qargs);
      if (answer.code === 0 && answer.stdout.trim() === 'f') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { recover, total: Number(process.hrtime.bigint() - begin) / 1e9 };
  } finally {
    if (started) {
      const [scmd, ...sargs] = asPostgres([path.join(PG_BIN_DIR, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']) as [string, ...string[]];
      await run(scmd, sargs);
    }
    fs.rmSync(target, { recursive: true, force: true });
  }
}

interface Round {
  load: number;
  rawBackup: number;
  ourBackup: number;
  ourBackupParts: Parts;
  rawRecover: number;
  rawByHand: number;
  ourRestore: number;
  ourRestoreParts: Parts;
}

let createdDb = false;
let topology: LabTopology | undefined;
try {
  topology = ownLab ? (await labUp({ dir, portBase, members, restAuth: false }, (line) => log(`[lab] ${line}`))).topology : readLabTopology(dir);
  const lab = topology;
  const config = lab.paths.cockpitConfig;
  const pgEnv = { PGHOST: lab.host, PGPORT: String(lab.haproxy.writePort), PGUSER: 'postgres', PGDATABASE: 'postgres', PGPASSWORD: labSuperuserPassword(lab) };
  const psql = (sql: string, db = 'postgres') => run(path.join(PG_BIN_DIR, 'psql'), ['-Atc', sql], { ...pgEnv, PGDATABASE: db });
  const clusterBytes = async () => Number(must('size', await psql('SELECT sum(pg_database_size(datname)) FROM pg_database')).stdout.trim());
  if ((await clusterBytes()) < 1024 ** 3) {
    must('createdb', await psql(`CREATE DATABASE ${BENCH_DB}`));
    createdDb = true;
    const init = must('pgbench -i', await run(path.join(PG_BIN_DIR, 'pgbench'), ['-i', '-q', '-s', String(scale), BENCH_DB], pgEnv));
    log(`pgbench -i -s ${scale}: ${init.seconds.toFixed(1)} s`);
  }
  log(`cluster: ${((await clusterBytes()) / 1024 ** 3).toFixed(2)} GiB in ${lab.members.length} members; ${os.cpus().length} CPUs; pgcockpit: ${cockpitBin}`);
  // Everything written so far archived, and one backup taken untimed (the first backup after a bulk load waits for its WAL).
  must('switch-wal', await runLabBarman(lab, ['switch-wal', '--force', '--archive', '--archive-timeout', '300', lab.barman.server], 600_000));
  must('warm-up backup', await runLabBarman(lab, ['backup', '--wait', '--wait-timeout', '600', lab.barman.server], 3_600_000));
  // pgcockpit's warm-up too (untimed): its first run after a build compiles and caches its modules (Node's compile cache).
  for (const args of [['backup', '--dry-run'], ['pitr', '--end-of-backup', '--dry-run']]) must(`pgcockpit ${args.join(' ')}`, await cli([...args, '--config', config]));

  const rawBackup = async () => {
    const t = await timed(async () => must('barman backup', await runLabBarman(lab, ['backup', '--wait', '--wait-timeout', '600', lab.barman.server], 3_600_000)));
    log(`  raw barman backup --wait          ${t.seconds.toFixed(2)} s   (load ${t.load.toFixed(1)})`);
    return t.seconds;
  };
  const ourBackup = async () => {
    const t = await timed(async () => must('pgcockpit backup', await cli(['backup', '--yes', '--json', '--config', config])));
    const parts = partsOf(t.value);
    log(`  pgcockpit backup --yes            ${t.value.seconds.toFixed(2)} s   (load ${t.load.toFixed(1)}; ${describeParts(parts)})`);
    return { seconds: t.value.seconds, parts };
  };
  const rawRestore = async () => {
    const t = await timed(() => rawRecover(lab));
    log(`  by hand: barman recover           ${t.value.recover.toFixed(2)} s; to promotion ${t.value.total.toFixed(2)} s   (load ${t.load.toFixed(1)})`);
    return t.value;
  };
  const ourRestore = async () => {
    const t = await timed(async () => must('pgcockpit pitr', await cli(['pitr', '--end-of-backup', '--yes', '--json', '--config', config])));
    const parts = partsOf(t.value);
    log(`  pgcockpit pitr --end-of-backup    ${t.value.seconds.toFixed(2)} s   (load ${t.load.toFixed(1)}; ${describeParts(parts)})`);
    const id = (JSON.parse(t.value.stdout) as Doc).result?.details?.restore?.id;
    if (id) must('restores remove', await cli(['restores', 'remove', id, '--config', config]));
    return { seconds: t.value.seconds, parts };
  };

  const rounds: Round[] = [];
  for (let round = 1; round <= roundCount; round++) {
    await keepNewestBackups(lab, 1);
    const load = os.loadavg()[0] ?? 0;
    log(`round ${round}/${roundCount} (load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
    const rawFirst = round % 2 === 1;
    const pair = async <A, B>(raw: () => Promise<A>, ours: () => Promise<B>): Promise<[A, B]> => {
      if (rawFirst) {
        const a = await raw();
        return [a, await ours()];
      }
      const b = await ours();
      return [await raw(), b];
    };
    const [rb, ob] = await pair(rawBackup, ourBackup);
    const [rr, or] = await pair(rawRestore, ourRestore);
    rounds.push({ load, rawBackup: rb, ourBackup: ob.seconds, ourBackupParts: ob.parts, rawRecover: rr.recover, rawByHand: rr.total, ourRestore: or.seconds, ourRestoreParts: or.parts });
    log(`  this round: backup ${signed(ob.seconds - rb)} s (${pct(ob.seconds, rb)}), side restore ${signed(or.seconds - rr.total)} s (${pct(or.seconds, rr.total)})`);
  }

  const col = (pick: (r: Round) => number) => rounds.map(pick);
  const compare = (label: string, raw: number[], ours: number[]) => {
    const diffs = ours.map((o, i) => o - (raw[i] as number));
    const ratios = ours.map((o, i) => ((o - (raw[i] as number)) / (raw[i] as number)) * 100);
    return (
      `${label} raw ${median(raw).toFixed(2)} s, pgcockpit ${median(ours).toFixed(2)} s (${pct(median(ours), median(raw))}); ` +
      `per pair ${signed(median(diffs))} s (${signed(median(ratios), 1)}%), from ${signed(Math.min(...diffs))} to ${signed(Math.max(...diffs))} s`
    );
  };
  const step = (parts: Parts, id: string) => parts.steps[id] ?? 0;
  log(`\nmedians of ${rounds.length} rounds (per pair: the median of each round's pgcockpit − raw):`);
  log(compare('backup:              ', col((r) => r.rawBackup), col((r) => r.ourBackup)));
  log(compare('  its barman step:   ', col((r) => r.rawBackup), col((r) => step(r.ourBackupParts, 'request:backup'))));
  log(
    `  pgcockpit's own:    start-up ${median(col((r) => r.ourBackupParts.startup)).toFixed(2)} s, preflight ${median(col((r) => step(r.ourBackupParts, 'preflight'))).toFixed(2)} s, ` +
      `verification ${median(col((r) => step(r.ourBackupParts, 'verify'))).toFixed(2)} s, exit ${median(col((r) => r.ourBackupParts.exit)).toFixed(2)} s`,
  );
  log(`  ${describePhases(rounds.map((r) => r.ourBackupParts))}`);
  log(compare('side restore:        ', col((r) => r.rawByHand), col((r) => r.ourRestore)));
  log(compare('  its recover step:  ', col((r) => r.rawRecover), col((r) => step(r.ourRestoreParts, 'recover'))));
  log(
    `  pgcockpit's own:    start-up ${median(col((r) => r.ourRestoreParts.startup)).toFixed(2)} s, validation ${median(col((r) => step(r.ourRestoreParts, 'preflight'))).toFixed(2)} s, ` +
      `configure + start ${median(col((r) => step(r.ourRestoreParts, 'configure') + step(r.ourRestoreParts, 'start'))).toFixed(2)} s, ` +
      `replay to promotion ${median(col((r) => step(r.ourRestoreParts, 'recovery'))).toFixed(2)} s, exit ${median(col((r) => r.ourRestoreParts.exit)).toFixed(2)} s`,
  );
  log(`  ${describePhases(rounds.map((r) => r.ourRestoreParts))}`);
  log(`load average (1 min): ${rounds.map((r) => r.load.toFixed(1)).join(', ')} at the rounds' starts; now ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
} finally {
  fs.rmSync(traceFile, { force: true });
  if (createdDb && topology && !values.keep) {
    await run(path.join(PG_BIN_DIR, 'psql'), ['-Atc', `DROP DATABASE IF EXISTS ${BENCH_DB}`], { PGHOST: topology.host, PGPORT: String(topology.haproxy.writePort), PGUSER: 'postgres', PGDATABASE: 'postgres', PGPASSWORD: labSuperuserPassword(topology) });
  }
  if (ownLab && !values.keep) await labDestroy(dir, () => undefined);
}
