import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { packageRoot } from '../util/package-root.js';
import type { LabProcessRecord, LabState } from './lab-state.js';
import { acquireLabLock, readLabState, writeLabState } from './lab-state.js';
import { findListener, isPortFree } from './ports.js';
import { MissingPackagesError, PG_BIN_DIR, missingLabPackages } from './prerequisites.js';
import type { CommandResult, LabReadiness } from './probe.js';
import { getJson, probeLab, runCommand } from './probe.js';
import type { RunAs } from './processes.js';
import { isJustStartedProcessRunning, isOurProcessAlive, lookupUser, processInfo, spawnDaemon, stopProcess, tailFile } from './processes.js';
import { waitFor } from '../util/wait.js';
import { renderTemplate } from './template.js';
import type { LabOptions, LabTopology } from './topology.js';
import { labPorts, labTopology } from './topology.js';

export type LabLog = (line: string) => void;

/** Patroni's timing in the lab: its defaults, so failover behaves as in production (ttl 30). */
export const LAB_PATRONI_TIMING = { ttl: 30, loopWait: 10, retryTimeout: 10, maximumLagOnFailover: 1048576 };
/** How often the lab's own loop runs `barman cron` (no cron daemon runs here). */
export const BARMAN_CRON_INTERVAL_S = 3;
export const LAB_SUPERUSER = 'postgres';
export const LAB_REPLICATION_USER = 'replicator';
export const LAB_REST_USER = 'patroni';

export class LabError extends Error {
  override name = 'LabError';
}

/** The accounts the daemons run as. As root: the Debian packages' system users; otherwise ourselves. */
export interface LabAccounts {
  asRoot: boolean;
  postgres?: RunAs;
  etcd?: RunAs;
  barman?: RunAs;
  haproxy?: RunAs;
  /** Owner of the files each daemon writes (uid/gid); ourselves when not root. */
  owner: (who: 'postgres' | 'etcd' | 'barman' | 'haproxy') => { uid: number; gid: number };
  barmanUserName: string;
}

export function labAccounts(): LabAccounts {
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) {
    const self = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    return { asRoot, owner: () => self, barmanUserName: process.env.USER ?? String(self.uid) };
  }
  const need = (name: string): RunAs => {
    const user = lookupUser(name);
    if (!user) throw new LabError(`the system account '${name}' does not exist; it comes with its Debian package (run 'pgcockpit lab install')`);
    return user;
  };
  const postgres = need('postgres');
  const etcd = need('etcd');
  const barman = need('barman');
  const haproxy = need('haproxy');
  // postgres also joins barman's group: its archive_command writes into Barman's incoming directory.
  postgres.groups = [postgres.gid, barman.gid];
  const byName = { postgres, etcd, barman, haproxy };
  return { asRoot, postgres, etcd, barman, haproxy, owner: (who) => byName[who], barmanUserName: 'barman' };
}

interface LabSecrets {
  superuserPassword: string;
  replicationPassword: string;
  restPassword: string;
}

function secretFile(topology: LabTopology, name: string): string {
  return path.join(topology.paths.secretsDir, `${name}.password`);
}

function loadOrCreateSecrets(topology: LabTopology): LabSecrets {
  fs.mkdirSync(topology.paths.secretsDir, { recursive: true, mode: 0o700 });
  const get = (name: string): string => {
    const file = secretFile(topology, name);
    if (!fs.existsSync(file)) {
      fs.writeFileSync(file, `${crypto.randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
    }
    return fs.readFileSync(file, 'utf8').trim();
  };
  return { superuserPassword: get('postgres'), replicationPassword: get('replicator'), restPassword: get('patroni-rest') };
}

function writeOwned(file: string, content: string, mode: number, owner: { uid: number; gid: number }): void {
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
  if (process.getuid?.() === 0) fs.chownSync(file, owner.uid, owner.gid);
}

function mkdirOwned(dir: string, mode: number, owner: { uid: number; gid: number }): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, mode);
  if (process.getuid?.() === 0) fs.chownSync(dir, owner.uid, owner.gid);
}

function template(name: string): string {
  return fs.readFileSync(path.join(packageRoot(), 'configs', name), 'utf8');
}

/** Lay out the lab directory and render every configuration file from configs/. Idempotent. */
export function prepareLabFiles(topology: LabTopology, accounts: LabAccounts): LabSecrets {
  const { paths, barman } = topology;
  fs.mkdirSync(topology.options.dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(topology.options.dir, 0o755);
  for (const dir of [paths.runDir, paths.binDir, path.join(topology.options.dir, 'haproxy')]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  }
  // Logs are written through descriptors we open, but daemons may reopen theirs: keep the dir traversable.
  fs.mkdirSync(paths.logDir, { recursive: true, mode: 0o755 });
  const secrets = loadOrCreateSecrets(topology);

  fs.copyFileSync(path.join(packageRoot(), 'configs', 'archive-wal.sh'), paths.archiveScript);
  fs.chmodSync(paths.archiveScript, 0o755);

  // etcd
  fs.mkdirSync(path.join(topology.options.dir, 'etcd'), { recursive: true, mode: 0o755 });
  for (const e of topology.etcd) mkdirOwned(e.dataDir, 0o700, accounts.owner('etcd'));

  // Barman: its home, the incoming directory postgres writes into (shared group, setgid), the spool for
  // atomic moves, its config and its password file.
  const barmanOwner = accounts.owner('barman');
  mkdirOwned(path.dirname(barman.home), 0o755, barmanOwner);
  mkdirOwned(barman.home, 0o2750, barmanOwner);
  mkdirOwned(path.dirname(barman.incomingDir), 0o2750, barmanOwner);
  mkdirOwned(barman.incomingDir, 0o2770, barmanOwner);
  mkdirOwned(barman.spoolDir, 0o2770, barmanOwner);
  mkdirOwned(barman.confDir, 0o755, barmanOwner);
  writeOwned(
    barman.configFile,
    renderTemplate(
      template('barman.conf.tmpl'),
      { barmanUser: accounts.barmanUserName, barmanConfDir: barman.confDir, barmanHome: barman.home, barmanLog: barman.logFile },
      'barman.conf.tmpl',
    ),
    0o644,
    barmanOwner,
  );
  writeOwned(
    path.join(barman.confDir, `${barman.server}.conf`),
    renderTemplate(
      template('barman-server.conf.tmpl'),
      {
        server: barman.server,
        scope: topology.scope,
        writeHost: topology.host,
        writePort: topology.haproxy.writePort,
        superuser: LAB_SUPERUSER,
        passfile: barman.passfile,
        incomingDir: barman.incomingDir,
        pgBinDir: PG_BIN_DIR,
      },
      'barman-server.conf.tmpl',
    ),
    0o644,
    barmanOwner,
  );
  writeOwned(barman.passfile, `${topology.host}:*:*:${LAB_SUPERUSER}:${secrets.superuserPassword}\n`, 0o600, barmanOwner);
  // barman writes its own log file (log_file): make sure it can.
  if (!fs.existsSync(barman.logFile)) writeOwned(barman.logFile, '', 0o640, barmanOwner);
  if (process.getuid?.() === 0) fs.chownSync(barman.logFile, barmanOwner.uid, barmanOwner.gid);

  // Patroni members
  const pgOwner = accounts.owner('postgres');
  fs.mkdirSync(path.join(topology.options.dir, 'members'), { recursive: true, mode: 0o755 });
  const etcdHosts = topology.etcd.map((e) => `${topology.host}:${e.clientPort}`).join(',');
  for (const m of topology.members) {
    mkdirOwned(m.dir, 0o750, pgOwner);
    const archiveCommand = [paths.archiveScript, '%p', '%f', barman.spoolDir, barman.incomingDir, m.archiveLog].join(' ');
    const rendered = renderTemplate(
      template('patroni.yml.tmpl'),
      {
        scope: topology.scope,
        namespace: topology.namespace,
        name: m.name,
        restListen: `${topology.host}:${m.restPort}`,
        restConnect: `${topology.host}:${m.restPort}`,
        restAuth: topology.options.restAuth ? { username: LAB_REST_USER, password: secrets.restPassword } : undefined,
        etcdHosts,
        etcdUseProxies: false,
        clientNetwork: `${topology.host}/32`,
        ttl: LAB_PATRONI_TIMING.ttl,
        loopWait: LAB_PATRONI_TIMING.loopWait,
        retryTimeout: LAB_PATRONI_TIMING.retryTimeout,
        maximumLagOnFailover: LAB_PATRONI_TIMING.maximumLagOnFailover,
        pgListen: `${topology.host}:${m.pgPort}`,
        pgConnect: `${topology.host}:${m.pgPort}`,
        dataDir: m.dataDir,
        binDir: PG_BIN_DIR,
        pgpass: path.join(m.dir, 'pgpass'),
        superuser: LAB_SUPERUSER,
        superuserPassword: secrets.superuserPassword,
        replicationUser: LAB_REPLICATION_USER,
        replicationPassword: secrets.replicationPassword,
        socketDir: m.socketDir,
        archiveCommand,
      },
      'patroni.yml.tmpl',
    );
    writeOwned(m.configFile, rendered, 0o600, pgOwner);
    if (!fs.existsSync(m.archiveLog)) writeOwned(m.archiveLog, '', 0o640, pgOwner);
  }

  // HAProxy
  fs.writeFileSync(
    topology.haproxy.configFile,
    renderTemplate(
      template('haproxy.cfg.tmpl'),
      {
        bindHost: topology.host,
        statsPort: topology.haproxy.statsPort,
        writePort: topology.haproxy.writePort,
        readPort: topology.haproxy.readPort,
        dnsResolvers: false,
        serverDefaults: '',
        members: topology.members.map((m) => ({ name: m.name, pgHost: topology.host, pgPort: m.pgPort, restPort: m.restPort })),
      },
      'haproxy.cfg.tmpl',
    ),
    { mode: 0o644 },
  );
  writeCockpitConfig(topology);
  return secrets;
}

/** The cockpit's own config for this lab, so `pgcockpit` with no arguments finds it. */
export function writeCockpitConfig(topology: LabTopology): void {
  const { host } = topology;
  const config = {
    // Each lab keeps its own event log and audit log, so two labs (or a test lab) never mix theirs.
    eventLogDir: path.join(topology.options.dir, 'events'),
    auditLog: path.join(topology.options.dir, 'audit.log'),
    clusters: [
      {
        name: 'lab',
        scope: topology.scope,
        namespace: topology.namespace,
        patroni: {
          endpoints: topology.members.map((m) => `http://${host}:${m.restPort}`),
          ...(topology.options.restAuth
            ? { auth: { username: LAB_REST_USER, passwordFile: secretFile(topology, 'patroni-rest') } }
            : {}),
        },
        etcd: { endpoints: topology.etcd.map((e) => `http://${host}:${e.clientPort}`) },
        postgres: { user: LAB_SUPERUSER, database: 'postgres', passwordFile: secretFile(topology, 'postgres') },
        haproxy: {
          statsUrl: `http://${host}:${topology.haproxy.statsPort}/;csv`,
          writeBackend: 'write',
          readBackend: 'read',
          write: { host, port: topology.haproxy.writePort },
          read: { host, port: topology.haproxy.readPort },
        },
        barman: {
          server: topology.barman.server,
          config: topology.barman.configFile,
          transport: { kind: 'local', ...(process.getuid?.() === 0 ? { user: 'barman' } : {}) },
        },
        archiveLog: {
          path: path.join(topology.options.dir, 'members', '{member}', 'archive.log'),
          transport: { kind: 'local' },
        },
        lab: { dir: topology.options.dir, portBase: topology.options.portBase },
      },
    ],
  };
  const header =
    '# Written by `pgcockpit lab up` for the native lab. Secrets are referenced by file, never inline.\n';
  fs.writeFileSync(topology.paths.cockpitConfig, header + toYaml(config), { mode: 0o644 });
}

interface DaemonPlan {
  record: Omit<LabProcessRecord, 'pid' | 'startedAt'>;
  start: () => number;
  ports: number[];
}

function daemonPlans(topology: LabTopology, accounts: LabAccounts): DaemonPlan[] {
  const initialCluster = topology.etcd.map((e) => `${e.name}=http://${topology.host}:${e.peerPort}`).join(',');
  const plans: DaemonPlan[] = [];
  for (const e of topology.etcd) {
    plans.push({
      record: { name: e.name, kind: 'etcd', marker: e.dataDir },
      ports: [e.clientPort, e.peerPort],
      start: () =>
        spawnDaemon({
          name: e.name,
          command: '/usr/bin/etcd',
          args: [
            `--name=${e.name}`,
            `--data-dir=${e.dataDir}`,
            `--listen-client-urls=http://${topology.host}:${e.clientPort}`,
            `--advertise-client-urls=http://${topology.host}:${e.clientPort}`,
            `--listen-peer-urls=http://${topology.host}:${e.peerPort}`,
            `--initial-advertise-peer-urls=http://${topology.host}:${e.peerPort}`,
            `--initial-cluster=${initialCluster}`,
            '--initial-cluster-state=new',
            `--initial-cluster-token=pgcockpit-lab-${topology.options.portBase}`,
            '--heartbeat-interval=100',
            '--election-timeout=1000',
            '--logger=zap',
            '--log-outputs=stderr',
          ],
          logFile: e.logFile,
          ...(accounts.etcd ? { runAs: accounts.etcd } : {}),
        }),
    });
  }
  for (const m of topology.members) {
    plans.push({
      record: { name: m.name, kind: 'patroni', marker: m.configFile },
      ports: [m.pgPort, m.restPort],
      start: () =>
        spawnDaemon({
          name: m.name,
          command: '/usr/bin/patroni',
          args: [m.configFile],
          logFile: m.logFile,
          cwd: m.dir,
          ...(accounts.postgres ? { runAs: accounts.postgres } : {}),
        }),
    });
  }
  plans.push({
    record: { name: 'haproxy', kind: 'haproxy', marker: topology.haproxy.configFile },
    ports: [topology.haproxy.writePort, topology.haproxy.readPort, topology.haproxy.statsPort],
    start: () =>
      spawnDaemon({
        name: 'haproxy',
        command: '/usr/sbin/haproxy',
        args: ['-db', '-f', topology.haproxy.configFile],
        logFile: topology.haproxy.logFile,
        ...(accounts.haproxy ? { runAs: accounts.haproxy } : {}),
      }),
  });
  plans.push({
    record: { name: 'barman-cron', kind: 'barman-cron', marker: topology.barman.configFile },
    ports: [],
    start: () =>
      spawnDaemon({
        name: 'barman-cron',
        command: '/bin/sh',
        args: [
          '-c',
          // No cron daemon runs on these machines: the lab owns the loop that moves incoming WAL into the
          // archive. barman (Python) costs ~0.5 s of CPU a run, so it runs when a WAL waits in incoming/, and
          // once a minute otherwise for its other housekeeping.
          `i=0; while :; do if [ -n "$(ls -A "$1")" ] || [ $((i % 20)) -eq 0 ]; then barman -q -c "$0" cron; fi; i=$((i+1)); sleep ${BARMAN_CRON_INTERVAL_S}; done`,
          topology.barman.configFile,
          topology.barman.incomingDir,
        ],
        logFile: topology.barman.cronLogFile,
        ...(accounts.barman ? { runAs: accounts.barman } : {}),
      }),
  });
  return plans;
}

function isAlive(record: LabProcessRecord | undefined): boolean {
  return record !== undefined && isOurProcessAlive(record.pid, record.marker);
}

/** Run barman against the lab's own configuration, as the barman account. */
export function runLabBarman(topology: LabTopology, args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  const accounts = labAccounts();
  return runCommand('/usr/bin/barman', ['-c', topology.barman.configFile, ...args], {
    timeoutMs,
    ...(accounts.barman ? { runAs: accounts.barman } : {}),
  });
}

/** Remove the `.duplicate` files of the lab's Barman errors directory; returns their names. */
function dropDuplicateWalCopies(topology: LabTopology): string[] {
  const errors = path.join(topology.barman.home, topology.barman.server, 'errors');
  let names: string[];
  try {
    names = fs.readdirSync(errors).filter((n) => n.endsWith('.duplicate'));
  } catch {
    return [];
  }
  for (const name of names) fs.rmSync(path.join(errors, name), { force: true });
  return names;
}

/** Linux's ephemeral port range (outgoing connections take their local ports from it). */
export function ephemeralPortRange(): [number, number] | undefined {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high) ? [low, high] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuse ports inside the ephemeral range: any outgoing connection may hold one of them for a while, so a
 * lab there would fail to start (or to restart a member) at random.
 */
export function checkPortsOutsideEphemeralRange(topology: LabTopology, range = ephemeralPortRange()): void {
  if (!range) return;
  const [low, high] = range;
  const inside = labPorts(topology).filter((p) => p.port >= low && p.port <= high);
  if (inside.length === 0) return;
  const highest = Math.max(...labPorts(topology).map((p) => p.port - topology.options.portBase));
  throw new LabError(
    `port base ${topology.options.portBase} puts lab ports in the ephemeral range ${low}-${high} ` +
      `(${inside.slice(0, 3).map((p) => `${p.port} ${p.owner}`).join(', ')}${inside.length > 3 ? ', …' : ''}), ` +
      `where outgoing connections take their ports; choose a port base below ${low - highest}`,
  );
}

async function checkPortsFree(topology: LabTopology, plans: DaemonPlan[]): Promise<void> {
  const owners = new Map(labPorts(topology).map((p) => [p.port, p.owner]));
  const taken: string[] = [];
  for (const plan of plans) {
    for (const port of plan.ports) {
      if (await isPortFree(port, topology.host)) continue;
      const listener = findListener(port);
      const who = listener ? `pid ${listener.pid}: ${listener.command.slice(0, 120)}` : 'an unknown process';
      taken.push(`  port ${port} (${owners.get(port) ?? plan.record.name}) is in use by ${who}`);
    }
  }
  if (taken.length) {
    throw new LabError(
      `cannot start the lab: ${taken.length === 1 ? 'a port it needs is' : 'ports it needs are'} taken\n${taken.join('\n')}\n` +
        `  stop that process, or run the lab on other ports with --port-base N (or PGCOCKPIT_LAB_PORT_BASE)`,
    );
  }
}

export interface LabUpResult {
  topology: LabTopology;
  readiness: LabReadiness;
  started: string[];
  alreadyRunning: string[];
  elapsedMs: number;
}

/**
 * Bring the lab up, or what is missing of it, and wait until it is really ready: a leader, every replica
 * streaming (per the leader), HAProxy routing writes to the leader only, one WAL archived and `barman check` OK.
 * Idempotent; refuses to run beside another `up` or `down` on the same lab; fails before starting anything
 * when a port is taken; on a failure after starting, it stops what it started and names the cause.
 */
export async function labUp(options: LabOptions, log: LabLog, signal?: AbortSignal): Promise<LabUpResult> {
  const started0 = Date.now();
  const missing = missingLabPackages();
  if (missing.length) throw new MissingPackagesError(missing);
  if (process.getuid?.() === 0 && !fs.existsSync('/usr/bin/setpriv')) {
    throw new LabError("setpriv (Debian package util-linux) is missing; it runs the daemons as their own accounts");
  }
  const topology = labTopology(options);
  const accounts = labAccounts();
  fs.mkdirSync(options.dir, { recursive: true, mode: 0o755 });
  const release = acquireLabLock(topology.paths.lockFile, 'up');
  const startedNow: LabProcessRecord[] = [];
  try {
    const previous = readLabState(topology.paths.stateFile);
    if (previous && (previous.options.members !== options.members || previous.options.portBase !== options.portBase)) {
      const running = Object.values(previous.processes).filter((r) => isAlive(r));
      if (running.length) {
        throw new LabError(
          `this lab directory runs with ${previous.options.members} members on port base ${previous.options.portBase}; ` +
            `run 'pgcockpit lab down' first to change that`,
        );
      }
    }
    if (previous && fs.existsSync(path.join(topology.members[0]?.dir ?? '', 'data')) && previous.options.members !== options.members) {
      throw new LabError(
        `this lab directory holds a ${previous.options.members}-member cluster; run 'pgcockpit lab destroy' before changing --members`,
      );
    }
    const state: LabState = previous
      ? { ...previous, options }
      : { version: 1, options, processes: {}, createdAt: new Date().toISOString() };
    const plans = daemonPlans(topology, accounts);
    const toStart = plans.filter((p) => !isAlive(state.processes[p.record.name]));
    const alreadyRunning = plans.filter((p) => isAlive(state.processes[p.record.name])).map((p) => p.record.name);
    if (toStart.length) checkPortsOutsideEphemeralRange(topology);
    await checkPortsFree(topology, toStart);
    prepareLabFiles(topology, accounts);

    const startGroup = (kind: LabProcessRecord['kind']): void => {
      for (const plan of toStart.filter((p) => p.record.kind === kind)) {
        const pid = plan.start();
        const record: LabProcessRecord = { ...plan.record, pid, startedAt: new Date().toISOString() };
        state.processes[plan.record.name] = record;
        startedNow.push(record);
        writeLabState(topology.paths.stateFile, state);
        log(`started ${plan.record.name} (pid ${pid})`);
      }
    };
    const ensureStillRunning = (): void => {
      for (const record of startedNow) {
        // Just started, so the pid cannot have been reused: existence (not a zombie) is the test. Its command
        // line is not, since /proc shows it empty or half-replaced while setpriv execs the daemon.
        if (!isJustStartedProcessRunning(record.pid)) {
          const logFile = logFileOf(topology, record.name);
          throw new LabError(`${record.name} exited right after it started; last lines of ${logFile}:\n${tailFile(logFile, 15)}`);
        }
      }
    };

    startGroup('etcd');
    await waitFor(
      'etcd to have all members healthy',
      async () => {
        ensureStillRunning();
        const health = await Promise.all(
          topology.etcd.map((e) => getJson(`http://${topology.host}:${e.clientPort}/health`) as Promise<{ health?: string } | undefined>),
        );
        return health.every((h) => h?.health === 'true') ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, ...(signal ? { signal } : {}) },
    );
    log('etcd: 3 healthy members');
    startGroup('patroni');
    startGroup('haproxy');
    startGroup('barman-cron');

    let last: LabReadiness | undefined;
    const readiness = await waitFor(
      'the cluster to be ready (leader, replicas streaming, HAProxy routing)',
      async () => {
        ensureStillRunning();
        last = await probeLab(topology);
        return last.ready ? last : undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 250,
        ...(signal ? { signal } : {}),
        describeFailure: () => (last ? last.problems.join('; ') : 'no answer yet'),
      },
    );
    log(`cluster ready: leader ${readiness.leader}, streaming ${readiness.streaming.join(', ')}`);

    // Barman: check refuses until one WAL has been archived, so force one through.
    const switched = await runLabBarman(topology, ['switch-wal', '--force', '--archive', '--archive-timeout', '60', topology.barman.server], 90_000);
    if (switched.code !== 0) {
      throw new LabError(`barman switch-wal failed (exit ${switched.code}):\n${(switched.stdout + switched.stderr).trim()}`);
    }
    // Leader kills (drills, tests) can leave Barman a second, different copy of an old timeline's last
    // segment (a rewound former leader archives it again once promoted): Barman keeps the first copy and files
    // the other under errors/, which fails `barman check` from then on. The lab has no use for it: drop it.
    const duplicates = dropDuplicateWalCopies(topology);
    if (duplicates.length) log(`barman: dropped ${duplicates.length} duplicate WAL ${duplicates.length === 1 ? 'copy' : 'copies'} (${duplicates.join(', ')})`);
    const check = await waitFor(
      '`barman check` to pass',
      async () => {
        const result = await runLabBarman(topology, ['check', topology.barman.server], 60_000);
        return result.code === 0 ? result : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1000,
        ...(signal ? { signal } : {}),
        describeFailure: () => 'see `pgcockpit lab status` and the barman log',
      },
    ).catch(async (error: Error) => {
      const result = await runLabBarman(topology, ['check', topology.barman.server]);
      throw new LabError(`${error.message}\n${result.stdout.trim()}`);
    });
    void check;
    log('barman: WAL archived, check OK');
    state.readyAt = new Date().toISOString();
    writeLabState(topology.paths.stateFile, state);
    return {
      topology,
      readiness,
      started: startedNow.map((r) => r.name),
      alreadyRunning,
      elapsedMs: Date.now() - started0,
    };
  } catch (error) {
    if (startedNow.length) {
      log(`stopping what this 'up' started: ${startedNow.map((r) => r.name).join(', ')}`);
      const leader = await probeLab(topology).then((r) => r.leader, () => undefined);
      const startedState: LabState = { version: 1, options, processes: Object.fromEntries(startedNow.map((r) => [r.name, r])), createdAt: '' };
      await stopRecords(topology, stopOrder(startedState, leader), log);
      const state = readLabState(topology.paths.stateFile);
      if (state) {
        for (const r of startedNow) delete state.processes[r.name];
        writeLabState(topology.paths.stateFile, state);
      }
    }
    throw error;
  } finally {
    release();
  }
}

function logFileOf(topology: LabTopology, name: string): string {
  if (name === 'haproxy') return topology.haproxy.logFile;
  if (name === 'barman-cron') return topology.barman.cronLogFile;
  const member = topology.members.find((m) => m.name === name);
  if (member) return member.logFile;
  return topology.etcd.find((e) => e.name === name)?.logFile ?? '';
}

/**
 * The postmaster of a member, from its postmaster.pid, when it runs. Patroni starts PostgreSQL detached
 * (its parent is init, not Patroni), so it outlives a Patroni killed with SIGKILL and must be found this way.
 */
export function postmasterPid(member: LabTopology['members'][number]): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(member.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 && isOurProcessAlive(pid, member.dataDir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function stopRecords(topology: LabTopology, records: LabProcessRecord[], log: LabLog): Promise<string[]> {
  const stopped: string[] = [];
  for (const record of records) {
    // Patroni shuts PostgreSQL down cleanly on SIGTERM; give it time for a checkpoint.
    const grace = record.kind === 'patroni' ? 60_000 : 15_000;
    const outcome = await stopProcess(record.pid, record.marker, grace);
    if (outcome !== 'not-running') {
      stopped.push(record.name);
      log(`${outcome === 'killed' ? 'killed' : 'stopped'} ${record.name} (pid ${record.pid})`);
    }
    const member = record.kind === 'patroni' ? topology.members.find((m) => m.name === record.name) : undefined;
    const orphan = member ? postmasterPid(member) : undefined;
    if (member && orphan) {
      // A postmaster left without its Patroni (killed, crashed): a fast shutdown, as pg_ctl -m fast does.
      process.kill(orphan, 'SIGINT');
      await waitFor(`PostgreSQL of ${member.name} to stop`, () => (isOurProcessAlive(orphan, member.dataDir) ? undefined : true), {
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      log(`stopped PostgreSQL of ${member.name} left without its Patroni (pid ${orphan})`);
    }
  }
  return stopped;
}

/** The order to stop in: barman's loop and HAProxy first, replicas before the leader, etcd last. */
function stopOrder(state: LabState, leader: string | undefined): LabProcessRecord[] {
  const all = Object.values(state.processes);
  const kind = (k: LabProcessRecord['kind']) => all.filter((r) => r.kind === k);
  const patroni = kind('patroni').sort((a, b) => Number(a.name === leader) - Number(b.name === leader));
  return [...kind('barman-cron'), ...kind('haproxy'), ...patroni, ...kind('etcd')];
}

export interface LabDownResult {
  stopped: string[];
  nothingRunning: boolean;
}

/** Stop only the processes this lab started (by recorded pid): replicas before the leader. Data stays. */
export async function labDown(dir: string, log: LabLog): Promise<LabDownResult> {
  const stateFile = path.join(dir, 'lab.json');
  if (!fs.existsSync(stateFile)) return { stopped: [], nothingRunning: true };
  const release = acquireLabLock(path.join(dir, 'lab.lock'), 'down');
  try {
    const state = readLabState(stateFile);
    if (!state) return { stopped: [], nothingRunning: true };
    const topologyNow = labTopology({ ...state.options, dir });
    const running = Object.values(state.processes).filter((r) => isAlive(r));
    const orphans = topologyNow.members.filter((m) => postmasterPid(m) !== undefined);
    if (running.length === 0 && orphans.length === 0) {
      state.processes = {};
      writeLabState(stateFile, state);
      return { stopped: [], nothingRunning: true };
    }
    const topology = topologyNow;
    let leader: string | undefined;
    try {
      leader = (await probeLab(topology)).leader;
    } catch {
      leader = undefined;
    }
    const stopped = await stopRecords(
      topology,
      stopOrder(state, leader).filter((r) => isAlive(r) || (r.kind === 'patroni' && orphans.some((m) => m.name === r.name))),
      log,
    );
    state.processes = {};
    delete state.readyAt;
    writeLabState(stateFile, state);
    return { stopped, nothingRunning: false };
  } finally {
    release();
  }
}

/** Stop the lab and remove its directory. Refuses a directory that is not a lab's. */
export async function labDestroy(dir: string, log: LabLog): Promise<{ removed: boolean; stopped: string[] }> {
  if (!fs.existsSync(dir)) return { removed: false, stopped: [] };
  const looksLikeLab = fs.existsSync(path.join(dir, 'lab.json')) || fs.existsSync(path.join(dir, 'members'));
  if (!looksLikeLab) {
    throw new LabError(`${dir} does not look like a pgcockpit lab (no lab.json, no members/); refusing to remove it`);
  }
  const { stopped } = await labDown(dir, log);
  fs.rmSync(dir, { recursive: true, force: true });
  log(`removed ${dir}`);
  return { removed: true, stopped };
}

export interface LabProcessStatus {
  name: string;
  kind: LabProcessRecord['kind'];
  pid?: number;
  alive: boolean;
  rssBytes: number;
  ports: number[];
  role?: string;
  state?: string;
}

export interface LabStatusReport {
  dir: string;
  exists: boolean;
  options?: LabOptions;
  processes: LabProcessStatus[];
  readiness?: LabReadiness;
  totalRssBytes: number;
}

/** Every process, port and role of the lab. RSS includes each daemon's children (PostgreSQL under Patroni). */
export async function labStatus(dir: string): Promise<LabStatusReport> {
  const state = readLabState(path.join(dir, 'lab.json'));
  if (!state) return { dir, exists: fs.existsSync(dir), processes: [], totalRssBytes: 0 };
  const topology = labTopology({ ...state.options, dir });
  const plans = daemonPlans(topology, { asRoot: false, owner: () => ({ uid: 0, gid: 0 }), barmanUserName: '' } as LabAccounts);
  const anyAlive = Object.values(state.processes).some((r) => isAlive(r));
  const readiness = anyAlive ? await probeLab(topology) : undefined;
  const processes: LabProcessStatus[] = plans.map((plan) => {
    const record = state.processes[plan.record.name];
    const alive = isAlive(record);
    const member = readiness?.members.find((m) => m.name === plan.record.name);
    return {
      name: plan.record.name,
      kind: plan.record.kind,
      ...(record ? { pid: record.pid } : {}),
      alive,
      rssBytes: (alive && record ? treeRss(record.pid) : 0) + memberPostgresRss(topology, plan.record.name),
      ports: plan.ports,
      ...(member ? { role: member.role, state: member.state } : {}),
    };
  });
  return {
    dir,
    exists: true,
    options: state.options,
    processes,
    ...(readiness ? { readiness } : {}),
    totalRssBytes: processes.reduce((sum, p) => sum + p.rssBytes, 0),
  };
}

function memberPostgresRss(topology: LabTopology, name: string): number {
  const member = topology.members.find((m) => m.name === name);
  const pid = member ? postmasterPid(member) : undefined;
  return pid ? treeRss(pid) : 0;
}

/** RSS of a process and all its descendants (PostgreSQL's backends under Patroni, barman under its loop). */
export function treeRss(rootPid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      /* gone */
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop() as number;
    total += processInfo(pid)?.rssBytes ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Shell exports that point libpq at the write port, e.g. `eval "$(pgcockpit lab env)"; psql`. */
export function labEnv(dir: string): string {
  const state = readLabState(path.join(dir, 'lab.json'));
  if (!state) throw new LabError(`no lab in ${dir}; start one with 'pgcockpit lab up'`);
  const topology = labTopology({ ...state.options, dir });
  const password = fs.readFileSync(secretFile(topology, 'postgres'), 'utf8').trim();
  const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  return [
    `export PGHOST=${topology.host}`,
    `export PGPORT=${topology.haproxy.writePort}`,
    `export PGUSER=${LAB_SUPERUSER}`,
    `export PGPASSWORD=${quote(password)}`,
    `export PGDATABASE=postgres`,
  ].join('\n');
}

export function readLabTopology(dir: string): LabTopology {
  const state = readLabState(path.join(dir, 'lab.json'));
  if (!state) throw new LabError(`no lab in ${dir}; start one with 'pgcockpit lab up'`);
  return labTopology({ ...state.options, dir });
}

export function labSuperuserPassword(topology: LabTopology): string {
  return fs.readFileSync(secretFile(topology, 'postgres'), 'utf8').trim();
}

export function labRestPassword(topology: LabTopology): string {
  return fs.readFileSync(secretFile(topology, 'patroni-rest'), 'utf8').trim();
}
