import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClusterConfig } from '../config/schema.js';
import { isPortFree } from '../lab/ports.js';
import { PG_BIN_DIR } from '../lab/prerequisites.js';
import type { RunAs } from '../lab/processes.js';
import { isJustStartedProcessRunning, isOurProcessAlive, lookupUser, spawnDaemon, stopProcess, tailFile } from '../lab/processes.js';
import { JsonRegistry } from './json-registry.js';
import type { BarmanAdapter } from './barman.js';
import { DockerEngine } from './docker.js';
import { PostgresMemberClient } from './postgres.js';
import type { CallOptions } from './types.js';
import { ServiceError } from './types.js';
import { compactStamp } from '../util/units.js';

/**
 * The I/O of a restore from Barman: `barman recover` into a new directory (as Barman's account, through
 * the cluster's exec transport), a throwaway PostgreSQL on that directory with a configuration of its own
 * (its port, its socket directory, its hba/ident files, no archive_command, no primary_conninfo: nothing
 * that points back into the cluster), waiting until recovery reached the target and promoted, and the
 * registry of side restores (a JSON file in the state directory) so they are listed until removed.
 * PostgreSQL refuses to run as root: as root the throwaway runs as `postgres`, and its files are its own.
 */

export const RESTORE_HOST = '127.0.0.1';
/** Side restores listen from here up (below the ephemeral range, away from the lab's ports). */
export const RESTORE_PORT_FIRST = 25400;
export const RESTORE_PORT_LAST = 25999;

export type RestoreStatus = 'restoring' | 'recovering' | 'running' | 'stopped' | 'failed';

/** One side restore, as the registry keeps it (no secret: the password is named by reference). */
export interface SideRestoreRecord {
  id: string;
  cluster: string;
  server: string;
  backupId: string;
  /** The target as the operator reads it. */
  target: string;
  dir: string;
  dataDir: string;
  logFile: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** Where the password is (the cluster's superuser's: the restored database has the cluster's roles). */
  passwordRef: string;
  pid?: number;
  status: RestoreStatus;
  createdAt: string;
  error?: string;
  /** Where recovery stopped, from the server log ("recovery stopping before commit of transaction …"). */
  stoppedAt?: string;
  /** A restore inside Barman's container (Docker transport): dir and dataDir are paths in that container. */
  container?: string;
  containerUser?: string;
  /** The Docker API it was made through (default DOCKER_HOST, then /var/run/docker.sock). */
  dockerSocket?: string;
}

/** Where side restores live in a Barman container (Docker transport). */
export const CONTAINER_RESTORES_DIR = '/var/lib/barman/restores';

// ------------------------------------------------------------------ where

/** The directory of a cluster's side restores: the lab's `restores/`, else the state directory. */
export function restoresDir(cluster: ClusterConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (cluster.lab) return path.join(cluster.lab.dir, 'restores');
  if (env.PGCOCKPIT_RESTORE_DIR) return path.resolve(env.PGCOCKPIT_RESTORE_DIR, cluster.name);
  if (process.getuid?.() === 0) return path.join('/var/lib/pgcockpit/restores', cluster.name);
  const state = env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'pgcockpit', 'restores', cluster.name);
}

export function newRestoreId(now: number): string {
  return `r${compactStamp(now).replace('T', '-')}-${crypto.randomBytes(2).toString('hex')}`;
}

/** The password's reference as the operator reads it, never the password. */
export function passwordReference(cluster: ClusterConfig): string {
  const p = cluster.postgres;
  if (p.passwordFile) return `the cluster's ${p.user} password, in ${p.passwordFile}`;
  if (p.passwordEnv) return `the cluster's ${p.user} password, in $${p.passwordEnv}`;
  return `the cluster's ${p.user} password (none configured: ~/.pgpass or peer authentication)`;
}

/** `postgresql://user@host:port/db` — never with a password. */
export function restoreUri(record: Pick<SideRestoreRecord, 'user' | 'host' | 'port' | 'database'>): string {
  return `postgresql://${encodeURIComponent(record.user)}@${record.host}:${record.port}/${encodeURIComponent(record.database)}`;
}

// ------------------------------------------------------------------ registry

export class RestoreRegistry extends JsonRegistry<SideRestoreRecord> {
  constructor(dir: string) {
    super(dir, 'restores.json', 'restores');
  }

  /** Each record with its status as of now (a throwaway whose process is gone is `stopped`). */
  listLive(): SideRestoreRecord[] {
    // A restore in a container is not a process of this machine: its recorded status stands.
    return this.list().map((r) => ({ ...r, status: r.status === 'running' && !r.container && !throwawayAlive(r) ? 'stopped' : r.status }));
  }
}

// ------------------------------------------------------------------ accounts and files

/** The account PostgreSQL runs as: `postgres` when we are root, else ourselves. */
export function postgresAccount(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const user = lookupUser('postgres');
  if (!user) throw new ServiceError('postgres', 'failed', "PostgreSQL refuses to run as root and there is no 'postgres' account to run the restored server as");
  return user;
}

function chownTree(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('chown', ['-R', `${owner.uid}:${owner.gid}`, dir], { timeout: 600_000 }, (error) => (error ? reject(error) : resolve()));
  });
}

/** Give a tree to an account (only as root; otherwise everything is already ours). */
export async function giveTo(dir: string, account: RunAs | undefined): Promise<void> {
  if (!account || process.getuid?.() !== 0) return;
  await chownTree(dir, account);
}

/** A directory Barman's account can create the destination in. */
export function prepareRecoveryParent(dir: string, barmanUser: string | undefined): void {
  // The directories above it must let Barman's account through.
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  if (barmanUser && process.getuid?.() === 0) {
    const account = lookupUser(barmanUser);
    if (account) fs.chownSync(dir, account.uid, account.gid);
  }
}

export async function findFreePort(used: number[], first = RESTORE_PORT_FIRST, last = RESTORE_PORT_LAST): Promise<number> {
  for (let port = first; port <= last; port++) {
    if (used.includes(port)) continue;
    if (await isPortFree(port, RESTORE_HOST)) return port;
  }
  throw new ServiceError('postgres', 'failed', `no free port from ${first} to ${last} on ${RESTORE_HOST} for the restored server`);
}

// ------------------------------------------------------------------ barman recover

export interface RecoverRequest {
  server: string;
  backupId: string;
  /** `--target-…` arguments (pitr-target.ts barmanTargetArgs). */
  targetArgs: string[];
  destination: string;
}

export interface RecoverResult {
  elapsedSeconds?: number;
  changes: string[];
  warnings: string[];
}

/** `barman recover … --target-action promote` into a local directory, through the cluster's transport. */
export async function barmanRecover(barman: BarmanAdapter, request: RecoverRequest, options: CallOptions = {}): Promise<RecoverResult> {
  const args = [...request.targetArgs, ...(request.targetArgs.includes('--target-immediate') || request.targetArgs.length ? ['--target-action', 'promote'] : []), request.server, request.backupId, request.destination];
  const result = await barman.transport.exec(barman.argv('recover', args), { timeoutMs: options.timeoutMs ?? 6 * 3600_000, ...(options.signal ? { signal: options.signal } : {}) });
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    // not JSON: the error text below says what happened
  }
  if (result.code !== 0) {
    const errors = Array.isArray(data._ERROR) ? (data._ERROR as unknown[]).map(String).join(' / ') : (result.stderr.trim() || result.stdout.trim()).slice(0, 500);
    throw new ServiceError('barman', 'failed', `barman recover exited ${result.code}: ${errors}`, barman.transport.description);
  }
  const listOf = (key: string) => (Array.isArray(data[key]) ? (data[key] as unknown[][]).map((row) => row.map(String).join(' ')) : []);
  const elapsed = Number(data.recovery_elapsed_time_seconds);
  return { ...(Number.isFinite(elapsed) ? { elapsedSeconds: elapsed } : {}), changes: listOf('changes'), warnings: listOf('warnings') };
}

/** The names of the archived WAL files a backup needs (and those after it, up to the next backup). */
export async function barmanWalNames(barman: BarmanAdapter, server: string, backupId: string, options: CallOptions = {}): Promise<string[]> {
  const result = await barman.transport.exec(barman.argv('list-files', ['--target', 'wal', server, backupId]), options);
  if (result.code !== 0) throw new ServiceError('barman', 'failed', `barman list-files exited ${result.code}: ${(result.stderr || result.stdout).trim().slice(0, 300)}`);
  const data = JSON.parse(result.stdout) as { _INFO?: string[] };
  return (data._INFO ?? []).map((p) => path.basename(p));
}

/** `barman switch-wal --force --archive`: close the current WAL and wait until Barman archived it. */
export async function barmanSwitchWal(barman: BarmanAdapter, server: string, options: CallOptions = {}): Promise<string> {
  const result = await barman.transport.exec(barman.argv('switch-wal', ['--force', '--archive', '--archive-timeout', '60', server]), { timeoutMs: 90_000, ...options });
  if (result.code !== 0) throw new ServiceError('barman', 'failed', `barman switch-wal exited ${result.code}: ${(result.stderr || result.stdout).trim().slice(0, 300)}`);
  try {
    const data = JSON.parse(result.stdout) as { _INFO?: string[] };
    return (data._INFO ?? []).join(' ');
  } catch {
    return result.stdout.trim();
  }
}

// ------------------------------------------------------------------ the throwaway server's configuration

/** `pg_controldata`'s settings a hot standby must match or exceed. */
export interface ControlSettings {
  maxConnections: number;
  maxWorkerProcesses: number;
  maxWalSenders: number;
  maxPreparedXacts: number;
  maxLocksPerXact: number;
}

export function parseControlData(text: string): ControlSettings {
  const value = (label: string, fallback: number) => {
    const m = new RegExp(`^${label}:\\s*(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : fallback;
  };
  return {
    maxConnections: value('max_connections setting', 100),
    maxWorkerProcesses: value('max_worker_processes setting', 8),
    maxWalSenders: value('max_wal_senders setting', 10),
    maxPreparedXacts: value('max_prepared_xacts setting', 0),
    maxLocksPerXact: value('max_locks_per_xact setting', 64),
  };
}

export function readControlData(dataDir: string): Promise<ControlSettings> {
  return new Promise((resolve, reject) => {
    execFile(path.join(PG_BIN_DIR, 'pg_controldata'), [dataDir], { env: { LANG: 'C', LC_ALL: 'C', PATH: '/usr/bin:/bin' }, timeout: 30_000 }, (error, stdout) =>
      error ? reject(new ServiceError('postgres', 'failed', `pg_controldata ${dataDir}: ${error.message}`)) : resolve(parseControlData(stdout)),
    );
  });
}

/** The recovery settings Barman wrote into postgresql.auto.conf; everything else there is dropped. */
const RECOVERY_KEYS = /^\s*(restore_command|recovery_end_command|recovery_target\w*)\s*=/;

export function recoveryLines(autoConf: string): string[] {
  return autoConf.split('\n').filter((line) => RECOVERY_KEYS.test(line));
}

export interface ThrowawayConfig {
  port: number;
  socketDir: string;
  hbaFile: string;
  identFile: string;
  control: ControlSettings;
  clusterName: string;
  /** Archive what the server writes (a rewind archives into the cluster's Barman); off for a side restore. */
  archiveCommand?: string;
}

/**
 * The configuration of a restored server, whole (no include of the member's files): its own port, socket
 * directory, hba and ident files; no archive_command (unless told), no primary_conninfo, no slots.
 */
export function throwawayConfig(config: ThrowawayConfig, purpose: string): string {
  const q = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const { control } = config;
  return [
    `# Written by pgcockpit for ${purpose}.`,
    '# Nothing here points back into the cluster: its own port, socket directory, hba/ident files,',
    '# no primary_conninfo, no replication slot, no synchronous standby.',
    `listen_addresses = ${q(RESTORE_HOST)}`,
    `port = ${config.port}`,
    `unix_socket_directories = ${q(config.socketDir)}`,
    `hba_file = ${q(config.hbaFile)}`,
    `ident_file = ${q(config.identFile)}`,
    `cluster_name = ${q(config.clusterName)}`,
    // A hot standby must have at least the primary's settings (recorded in pg_control).
    `max_connections = ${control.maxConnections}`,
    `max_worker_processes = ${control.maxWorkerProcesses}`,
    `max_wal_senders = ${control.maxWalSenders}`,
    `max_prepared_transactions = ${control.maxPreparedXacts}`,
    `max_locks_per_transaction = ${control.maxLocksPerXact}`,
    'hot_standby = on',
    'wal_level = replica',
    'track_commit_timestamp = on',
    'shared_buffers = 32MB',
    "primary_conninfo = ''",
    "primary_slot_name = ''",
    "synchronous_standby_names = ''",
    ...(config.archiveCommand ? ['archive_mode = on', `archive_command = ${q(config.archiveCommand)}`] : ['archive_mode = off', "archive_command = ''"]),
    'logging_collector = off',
    "log_line_prefix = '%m [%p] '",
    '',
  ].join('\n');
}

export const THROWAWAY_HBA = ['# pgcockpit restore: local peer, password over loopback only.', 'local all all peer', 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n');

/**
 * Turn a Barman-restored data directory into a side restore's: the member's Patroni files are kept under
 * `*.cluster-original`, and postgresql.conf, pg_hba.conf and pg_ident.conf become its own; the recovery
 * settings of postgresql.auto.conf are kept, everything else there is dropped.
 */
export function writeSideRestoreConfig(dataDir: string, config: Omit<ThrowawayConfig, 'hbaFile' | 'identFile'>, purpose: string): void {
  for (const name of ['postgresql.conf', 'postgresql.base.conf', 'pg_hba.conf', 'pg_ident.conf']) {
    const file = path.join(dataDir, name);
    if (fs.existsSync(file)) fs.renameSync(file, `${file}.cluster-original`);
  }
  const auto = path.join(dataDir, 'postgresql.auto.conf');
  const recovery = fs.existsSync(auto) ? recoveryLines(fs.readFileSync(auto, 'utf8')) : [];
  fs.writeFileSync(auto, ['# Recovery settings written by barman recover, kept by pgcockpit.', ...recovery, ''].join('\n'), { mode: 0o600 });
  fs.writeFileSync(path.join(dataDir, 'postgresql.conf'), throwawayConfig({ ...config, hbaFile: path.join(dataDir, 'pg_hba.conf'), identFile: path.join(dataDir, 'pg_ident.conf') }, purpose), { mode: 0o600 });
  fs.writeFileSync(path.join(dataDir, 'pg_hba.conf'), THROWAWAY_HBA, { mode: 0o600 });
  fs.writeFileSync(path.join(dataDir, 'pg_ident.conf'), '# pgcockpit restore: no mapping\n', { mode: 0o600 });
  // Patroni's leftovers mean nothing to a server Patroni does not run.
  fs.rmSync(path.join(dataDir, 'patroni.dynamic.json'), { force: true });
  fs.rmSync(path.join(dataDir, 'standby.signal'), { force: true });
}

/** Move a side restore's server to another port: the `port` line of the postgresql.conf written for it. */
export function setThrowawayPort(dataDir: string, port: number): void {
  const file = path.join(dataDir, 'postgresql.conf');
  const text = fs.readFileSync(file, 'utf8');
  if (!/^port = \d+$/m.test(text)) throw new ServiceError('postgres', 'failed', `${file} has no port line written by pgcockpit`);
  fs.writeFileSync(file, text.replace(/^port = \d+$/m, `port = ${port}`));
}

// ------------------------------------------------------------------ the throwaway server

export interface ThrowawayServer {
  dataDir: string;
  logFile: string;
  /** A separate configuration file (`-c config_file=`), else the data directory's postgresql.conf. */
  configFile?: string;
  runAs?: RunAs;
}

/** Start PostgreSQL detached on a restored data directory; the postmaster's pid. */
export function startThrowaway(server: ThrowawayServer): number {
  const args = ['-D', server.dataDir, ...(server.configFile ? ['-c', `config_file=${server.configFile}`] : [])];
  return spawnDaemon({ name: 'restored postgres', command: path.join(PG_BIN_DIR, 'postgres'), args, logFile: server.logFile, ...(server.runAs ? { runAs: server.runAs } : {}), cwd: server.dataDir });
}

/** The postmaster pid of a data directory, when it runs. */
export function dataDirPostmaster(dataDir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && isOurProcessAlive(pid, dataDir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function throwawayAlive(record: Pick<SideRestoreRecord, 'dataDir' | 'pid'>): boolean {
  if (record.pid !== undefined && isOurProcessAlive(record.pid, record.dataDir)) return true;
  return dataDirPostmaster(record.dataDir) !== undefined;
}

/** Fast shutdown (SIGINT, as pg_ctl -m fast), waiting until it is gone. */
export async function stopThrowaway(dataDir: string, pid?: number): Promise<boolean> {
  const running = pid !== undefined && isOurProcessAlive(pid, dataDir) ? pid : dataDirPostmaster(dataDir);
  if (running === undefined) return false;
  try {
    process.kill(running, 'SIGINT');
  } catch {
    return false;
  }
  await stopProcess(running, dataDir, 120_000);
  return true;
}

export interface RecoveryProgress {
  inRecovery: boolean;
  replayLsn?: string;
  replayTimestamp?: string;
}

/** Where recovery stopped, from the log: "recovery stopping before commit of transaction 1234, time …". */
export function recoveryStopLine(logText: string): string | undefined {
  const lines = logText.split('\n').filter((l) => /recovery stopping|consistent recovery state reached|recovery has paused/.test(l));
  const stop = lines.filter((l) => /recovery stopping/.test(l)).at(-1) ?? lines.at(-1);
  return stop?.replace(/^.*?(LOG|FATAL):\s*/, '');
}

/** Why the throwaway stopped on its own, from its log (FATAL/PANIC lines). */
export function fatalLines(logText: string): string[] {
  return logText
    .split('\n')
    .filter((l) => /\b(FATAL|PANIC)\b/.test(l))
    .map((l) => l.replace(/^.*?(FATAL|PANIC):\s*/, '$1: '))
    .slice(-3);
}

/**
 * Wait until the restored server finished recovery (reached its target and promoted), reporting replay
 * progress. Fails with the server's own words when it exits (e.g. "recovery ended before configured
 * recovery target was reached").
 */
export async function waitRecovered(
  cluster: ClusterConfig,
  server: { host: string; port: number; dataDir: string; logFile: string; pid: number },
  options: { signal?: AbortSignal; timeoutMs: number; intervalMs?: number; env?: NodeJS.ProcessEnv; onProgress?: (progress: RecoveryProgress) => void },
): Promise<RecoveryProgress> {
  const deadline = Date.now() + options.timeoutMs;
  const client = PostgresMemberClient.fromConfig({ ...cluster.postgres, sslmode: 'disable' }, { name: 'restored server', host: server.host, port: server.port }, options.env ?? process.env);
  let last = '';
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      if (!isJustStartedProcessRunning(server.pid)) {
        const log = fs.existsSync(server.logFile) ? fs.readFileSync(server.logFile, 'utf8') : '';
        const fatal = fatalLines(log);
        throw new ServiceError('postgres', 'failed', `the restored server stopped: ${fatal.join(' / ') || tailFile(server.logFile, 5)}`);
      }
      const rows = await client
        .query('SELECT pg_is_in_recovery() AS in_recovery, pg_last_wal_replay_lsn()::text AS replay_lsn, pg_last_xact_replay_timestamp()::text AS replay_ts', { timeoutMs: 3000 })
        .then((r) => (Array.isArray(r) ? r.at(-1) : r)?.rows ?? [])
        .catch(() => undefined);
      const row = rows?.[0] as { in_recovery?: boolean; replay_lsn?: string | null; replay_ts?: string | null } | undefined;
      if (row) {
        const progress: RecoveryProgress = { inRecovery: row.in_recovery === true };
        if (row.replay_lsn) progress.replayLsn = row.replay_lsn;
        if (row.replay_ts) progress.replayTimestamp = row.replay_ts;
        const key = JSON.stringify(progress);
        if (key !== last) {
          last = key;
          options.onProgress?.(progress);
        }
        if (!progress.inRecovery) return progress;
      }
      if (Date.now() > deadline) throw new ServiceError('postgres', 'timeout', `the restored server did not finish recovery within ${Math.round(options.timeoutMs / 1000)} s (log: ${server.logFile})`);
      // One query on a kept connection: cheap enough to ask every 100 ms (as `pg_ctl -w` looks for the server).
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
    }
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Remove a side restore: stop its server, delete its directory, drop it from the registry. */
export async function removeSideRestore(registry: RestoreRegistry, id: string): Promise<SideRestoreRecord | undefined> {
  const record = registry.get(id);
  if (!record) return undefined;
  if (record.container) {
    await removeContainerRestore(record);
    registry.remove(id);
    return record;
  }
  await stopThrowaway(record.dataDir, record.pid);
  if (path.resolve(record.dir).startsWith(path.resolve(registry.dir) + path.sep)) fs.rmSync(record.dir, { recursive: true, force: true });
  registry.remove(id);
  return record;
}

/** Stop a restore's server in Barman's container and delete its directory there (only under the restores dir). */
async function removeContainerRestore(record: SideRestoreRecord): Promise<void> {
  const engine = new DockerEngine({ ...(record.dockerSocket ? { socket: record.dockerSocket } : {}), timeoutMs: 120_000 }, 'barman');
  const script = `${PG_BIN_DIR}/pg_ctl -D "$1" stop -m fast >/dev/null 2>&1 || true; case "$2" in ${CONTAINER_RESTORES_DIR}/*) rm -rf "$2";; esac`;
  const result = await engine.exec(record.container as string, ['sh', '-c', script, 'sh', record.dataDir, record.dir], { ...(record.containerUser ? { user: record.containerUser } : {}) });
  if (result.code !== 0) throw new ServiceError('barman', 'failed', `removing restore ${record.id} in ${record.container}: ${result.stderr.trim() || `exit ${result.code}`}`);
}
