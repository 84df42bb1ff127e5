import os from 'node:os';
import path from 'node:path';

/** Where every port of the lab sits, before the port base is added. Mirrors the seed's compose stack. */
export const DEFAULT_PORTS = {
  haproxyWrite: 5551,
  haproxyRead: 5552,
  haproxyStats: 5553,
  postgresFirst: 15431,
  restFirst: 8001,
  etcdClientFirst: 2379,
  etcdPeerFirst: 2380,
  /** etcd members are spaced by 100 (2379/2380, 2479/2480, 2579/2580). */
  etcdStride: 100,
} as const;

export const LAB_SCOPE = 'patroni1';
export const LAB_NAMESPACE = '/service';
export const LAB_BARMAN_SERVER = 'patroni1';
export const LAB_HOST = '127.0.0.1';
export const LAB_ETCD_MEMBERS = 3;
export const MIN_MEMBERS = 2;
export const MAX_MEMBERS = 5;

export interface LabOptions {
  /** The lab directory: data, logs, pid files, rendered configs and secrets. */
  dir: string;
  /** Added to every default port, so two labs can run side by side. */
  portBase: number;
  /** Number of Patroni members (2–5). */
  members: number;
  /** Protect Patroni's REST API with basic authentication. */
  restAuth: boolean;
}

export interface LabMemberSpec {
  name: string;
  pgPort: number;
  restPort: number;
  dir: string;
  dataDir: string;
  socketDir: string;
  configFile: string;
  archiveLog: string;
  logFile: string;
}

export interface LabEtcdSpec {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  logFile: string;
}

export interface LabTopology {
  options: LabOptions;
  host: string;
  scope: string;
  namespace: string;
  members: LabMemberSpec[];
  etcd: LabEtcdSpec[];
  haproxy: { writePort: number; readPort: number; statsPort: number; configFile: string; logFile: string };
  barman: {
    server: string;
    home: string;
    confDir: string;
    configFile: string;
    logFile: string;
    incomingDir: string;
    spoolDir: string;
    passfile: string;
    cronLogFile: string;
  };
  paths: {
    runDir: string;
    logDir: string;
    secretsDir: string;
    binDir: string;
    stateFile: string;
    lockFile: string;
    cockpitConfig: string;
    archiveScript: string;
  };
}

/** The default lab directory. Root's home is private (0700) while the daemons run as postgres, etcd and
 * barman, so for root the lab lives under /var/lib; other users get their XDG state directory. */
export function defaultLabDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PGCOCKPIT_LAB_DIR) return path.resolve(env.PGCOCKPIT_LAB_DIR);
  if (process.getuid?.() === 0) return '/var/lib/pgcockpit/lab';
  const state = env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'pgcockpit', 'lab');
}

export function defaultPortBase(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PGCOCKPIT_LAB_PORT_BASE;
  if (raw === undefined || raw === '') return 0;
  return parsePortBase(raw, 'PGCOCKPIT_LAB_PORT_BASE');
}

export function parsePortBase(raw: string, what = '--port-base'): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 40000) {
    throw new Error(`${what} must be a whole number from 0 to 40000 (it is added to every lab port), got "${raw}"`);
  }
  return value;
}

export function parseMemberCount(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < MIN_MEMBERS || value > MAX_MEMBERS) {
    throw new Error(`--members must be a whole number from ${MIN_MEMBERS} to ${MAX_MEMBERS}, got "${raw}"`);
  }
  return value;
}

export function labTopology(options: LabOptions): LabTopology {
  const { dir, portBase } = options;
  const logDir = path.join(dir, 'logs');
  const members: LabMemberSpec[] = [];
  for (let i = 0; i < options.members; i++) {
    const name = `db${i + 1}`;
    const memberDir = path.join(dir, 'members', name);
    members.push({
      name,
      pgPort: DEFAULT_PORTS.postgresFirst + i + portBase,
      restPort: DEFAULT_PORTS.restFirst + i + portBase,
      dir: memberDir,
      dataDir: path.join(memberDir, 'data'),
      socketDir: memberDir,
      configFile: path.join(memberDir, 'patroni.yml'),
      archiveLog: path.join(memberDir, 'archive.log'),
      logFile: path.join(logDir, `${name}.log`),
    });
  }
  const etcd: LabEtcdSpec[] = [];
  for (let i = 0; i < LAB_ETCD_MEMBERS; i++) {
    const name = `etcd${i + 1}`;
    etcd.push({
      name,
      clientPort: DEFAULT_PORTS.etcdClientFirst + i * DEFAULT_PORTS.etcdStride + portBase,
      peerPort: DEFAULT_PORTS.etcdPeerFirst + i * DEFAULT_PORTS.etcdStride + portBase,
      dataDir: path.join(dir, 'etcd', name),
      logFile: path.join(logDir, `${name}.log`),
    });
  }
  const barmanHome = path.join(dir, 'barman', 'home');
  return {
    options,
    host: LAB_HOST,
    scope: LAB_SCOPE,
    namespace: LAB_NAMESPACE,
    members,
    etcd,
    haproxy: {
      writePort: DEFAULT_PORTS.haproxyWrite + portBase,
      readPort: DEFAULT_PORTS.haproxyRead + portBase,
      statsPort: DEFAULT_PORTS.haproxyStats + portBase,
      configFile: path.join(dir, 'haproxy', 'haproxy.cfg'),
      logFile: path.join(logDir, 'haproxy.log'),
    },
    barman: {
      server: LAB_BARMAN_SERVER,
      home: barmanHome,
      confDir: path.join(dir, 'barman', 'barman.d'),
      configFile: path.join(dir, 'barman', 'barman.conf'),
      logFile: path.join(logDir, 'barman.log'),
      incomingDir: path.join(barmanHome, LAB_BARMAN_SERVER, 'incoming'),
      spoolDir: path.join(dir, 'barman', 'spool'),
      passfile: path.join(dir, 'barman', 'pgpass'),
      cronLogFile: path.join(logDir, 'barman-cron.log'),
    },
    paths: {
      runDir: path.join(dir, 'run'),
      logDir,
      secretsDir: path.join(dir, 'secrets'),
      binDir: path.join(dir, 'bin'),
      stateFile: path.join(dir, 'lab.json'),
      lockFile: path.join(dir, 'lab.lock'),
      cockpitConfig: path.join(dir, 'pgcockpit.yaml'),
      archiveScript: path.join(dir, 'bin', 'archive-wal.sh'),
    },
  };
}

/** Every TCP port the lab listens on, with what listens there. */
export function labPorts(topology: LabTopology): Array<{ port: number; owner: string }> {
  const ports: Array<{ port: number; owner: string }> = [];
  for (const e of topology.etcd) {
    ports.push({ port: e.clientPort, owner: `${e.name} client` }, { port: e.peerPort, owner: `${e.name} peer` });
  }
  for (const m of topology.members) {
    ports.push({ port: m.pgPort, owner: `${m.name} PostgreSQL` }, { port: m.restPort, owner: `${m.name} Patroni REST` });
  }
  ports.push(
    { port: topology.haproxy.writePort, owner: 'HAProxy write' },
    { port: topology.haproxy.readPort, owner: 'HAProxy read' },
    { port: topology.haproxy.statsPort, owner: 'HAProxy stats' },
  );
  return ports;
}
