import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { renderTemplate } from './template.js';
import { LAB_NAMESPACE, LAB_SCOPE, LAB_BARMAN_SERVER } from './topology.js';
import { LAB_PATRONI_TIMING, LAB_REPLICATION_USER, LAB_SUPERUSER } from './lab.js';
import { PG_BIN_DIR } from './prerequisites.js';

/**
 * The configuration files of the Docker Compose stack (compose/config/), rendered from the same templates
 * in configs/ as the native lab, with the stack's container names and in-container ports. They hold no
 * secret: the passwords reach Patroni through its PATRONI_*_PASSWORD environment variables and Barman's
 * password file is written at the container's start, both from compose/.env.
 *
 * The files are committed (a reviewer reads them as they run); test/lab/compose-configs.test.ts fails when
 * they drift from the templates. `node scripts/render-compose-configs.mjs` renders them again.
 */

export const COMPOSE_MEMBERS = ['db1', 'db2', 'db3', 'db4'] as const;
export const COMPOSE_ETCD = ['etcd1', 'etcd2', 'etcd3'] as const;
/**
 * Each member listens on its own ports inside its container, the same numbers as published on the host
 * (PostgreSQL 15431–15434, REST 8001–8004): a connection through HAProxy tells which member it reached by
 * inet_server_port(), as on the native lab, and the cockpit's address of a member matches what it reports.
 */
export const COMPOSE_PG_PORT_FIRST = 15431;
export const COMPOSE_REST_PORT_FIRST = 8001;
export function composePorts(member: string): { pg: number; rest: number } {
  const index = COMPOSE_MEMBERS.indexOf(member as (typeof COMPOSE_MEMBERS)[number]);
  if (index < 0) throw new Error(`${member} is not a member of the compose stack`);
  return { pg: COMPOSE_PG_PORT_FIRST + index, rest: COMPOSE_REST_PORT_FIRST + index };
}
export const COMPOSE_HAPROXY = { write: 5551, read: 5552, stats: 5553 } as const;
/** The volume every member's archive_command writes into and Barman reads from (incoming/ and spool/). */
export const COMPOSE_WALSHIP_DIR = '/var/lib/walship';
export const COMPOSE_ARCHIVE_LOG = '/var/log/postgresql/archive.log';
export const COMPOSE_DATA_DIR = '/var/lib/postgresql/data/pgdata';
/** Where the rendered files are mounted in the containers. */
export const COMPOSE_ARCHIVE_SCRIPT = '/etc/pgcockpit/archive-wal.sh';

function template(name: string): string {
  return fs.readFileSync(path.join(packageRoot(), 'configs', name), 'utf8');
}

const PLACEHOLDER = (variable: string) => `set-at-start-from-${variable}`;

/** Every file of compose/config/, by its path relative to that directory. */
export function composeConfigFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const header = '# Rendered from configs/ by src/lab/compose-configs.ts: edit the template, then render again.\n';
  const spool = `${COMPOSE_WALSHIP_DIR}/spool`;
  const incoming = `${COMPOSE_WALSHIP_DIR}/incoming`;
  for (const name of COMPOSE_MEMBERS) {
    const ports = composePorts(name);
    files[`patroni-${name}.yml`] =
      header +
      renderTemplate(
        template('patroni.yml.tmpl'),
        {
          scope: LAB_SCOPE,
          namespace: LAB_NAMESPACE,
          name,
          restListen: `0.0.0.0:${ports.rest}`,
          restConnect: `${name}:${ports.rest}`,
          restAuth: undefined,
          etcdHosts: COMPOSE_ETCD.map((e) => `${e}:2379`).join(','),
          etcdUseProxies: true,
          clientNetwork: '0.0.0.0/0',
          ttl: LAB_PATRONI_TIMING.ttl,
          loopWait: LAB_PATRONI_TIMING.loopWait,
          retryTimeout: LAB_PATRONI_TIMING.retryTimeout,
          maximumLagOnFailover: LAB_PATRONI_TIMING.maximumLagOnFailover,
          pgListen: `0.0.0.0:${ports.pg}`,
          pgConnect: `${name}:${ports.pg}`,
          dataDir: COMPOSE_DATA_DIR,
          binDir: PG_BIN_DIR,
          pgpass: '/var/lib/postgresql/pgpass-patroni',
          superuser: LAB_SUPERUSER,
          superuserPassword: PLACEHOLDER('PATRONI_SUPERUSER_PASSWORD'),
          replicationUser: LAB_REPLICATION_USER,
          replicationPassword: PLACEHOLDER('PATRONI_REPLICATION_PASSWORD'),
          socketDir: '/var/run/postgresql',
          archiveCommand: [COMPOSE_ARCHIVE_SCRIPT, '%p', '%f', spool, incoming, COMPOSE_ARCHIVE_LOG].join(' '),
        },
        'patroni.yml.tmpl',
      );
  }
  files['haproxy.cfg'] =
    header +
    renderTemplate(
      template('haproxy.cfg.tmpl'),
      {
        bindHost: '0.0.0.0',
        statsPort: COMPOSE_HAPROXY.stats,
        writePort: COMPOSE_HAPROXY.write,
        readPort: COMPOSE_HAPROXY.read,
        dnsResolvers: true,
        serverDefaults: ' resolvers dns init-addr last,libc,none',
        members: COMPOSE_MEMBERS.map((name) => ({ name, pgHost: name, pgPort: composePorts(name).pg, restPort: composePorts(name).rest })),
      },
      'haproxy.cfg.tmpl',
    );
  files['barman.conf'] =
    header.replace('#', ';') +
    renderTemplate(
      template('barman.conf.tmpl'),
      { barmanUser: 'barman', barmanConfDir: '/etc/barman.d', barmanHome: '/var/lib/barman', barmanLog: '/var/log/barman/barman.log' },
      'barman.conf.tmpl',
    );
  files[`barman.d/${LAB_BARMAN_SERVER}.conf`] =
    header.replace('#', ';') +
    renderTemplate(
      template('barman-server.conf.tmpl'),
      {
        server: LAB_BARMAN_SERVER,
        scope: LAB_SCOPE,
        writeHost: 'haproxy',
        writePort: COMPOSE_HAPROXY.write,
        superuser: LAB_SUPERUSER,
        passfile: '/var/lib/barman/.pgpass-cluster',
        incomingDir: incoming,
        pgBinDir: PG_BIN_DIR,
      },
      'barman-server.conf.tmpl',
    );
  files['archive-wal.sh'] = fs.readFileSync(path.join(packageRoot(), 'configs', 'archive-wal.sh'), 'utf8');
  return files;
}

export function composeConfigDir(): string {
  return path.join(packageRoot(), 'compose', 'config');
}

/** Write compose/config/ (only the files whose content changed); returns the paths written. */
export function writeComposeConfigs(dir = composeConfigDir()): string[] {
  const written: string[] = [];
  for (const [relative, content] of Object.entries(composeConfigFiles())) {
    const file = path.join(dir, relative);
    const mode = relative.endsWith('.sh') ? 0o755 : 0o644;
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) continue;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
    written.push(file);
  }
  return written;
}
