import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { labPorts, labTopology } from '../../src/lab/topology.js';
import { packageRoot } from '../../src/util/package-root.js';

/**
 * A static check of compose/docker-compose.yml (no engine needed): it parses; every service is built here
 * from compose/ and FROM debian:bookworm-slim with Debian's packages; the ports and volumes are the
 * documented ones; nothing waits on a health check; no secret is written in it or baked into an image;
 * compose/pgcockpit.yaml names the same containers and ports.
 */

const dir = path.join(packageRoot(), 'compose');
// merge: the file shares its etcd and member settings through YAML merge keys (<<: *member), as compose does.
const file = parse(fs.readFileSync(path.join(dir, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { build?: { context: string; dockerfile: string }; image?: string; container_name?: string; ports?: string[]; volumes?: string[]; depends_on?: unknown; healthcheck?: { test: string[] }; environment?: Record<string, string> }>;
  volumes: Record<string, unknown>;
};
const services = file.services;

const EXPECTED_PORTS: Record<string, string[]> = {
  etcd1: ['2379:2379'],
  etcd2: ['2479:2379'],
  etcd3: ['2579:2379'],
  db1: ['15431:15431', '8001:8001'],
  db2: ['15432:15432', '8002:8002'],
  db3: ['15433:15433', '8003:8003'],
  db4: ['15434:15434', '8004:8004'],
  haproxy: ['5551:5551', '5552:5552', '5553:5553'],
  barman: ['15440-15443:15440-15443'],
};

describe('compose/docker-compose.yml', () => {
  it('names the seed topology: 3 etcd, db1–db4, HAProxy, Barman', () => {
    expect(Object.keys(services).sort()).toEqual(Object.keys(EXPECTED_PORTS).sort());
  });

  it('builds every service here, from debian:bookworm-slim and Debian packages', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.build?.context, name).toBe('.');
      const dockerfile = path.join(dir, service.build?.dockerfile ?? '');
      expect(path.relative(dir, dockerfile).startsWith('..'), `${name}: ${dockerfile}`).toBe(false);
      const text = fs.readFileSync(dockerfile, 'utf8');
      expect(text.match(/^FROM .*/gm), name).toEqual(['FROM debian:bookworm-slim']);
      expect(text, name).toMatch(/apt-get install/);
      expect(text, `${name}: no secret baked into the image`).not.toMatch(/PASSWORD|pgcockpit-compose-superuser/);
      expect(service.image, name).toMatch(/^pgcockpit-compose\//);
    }
    const packages = Object.values(services).map((s) => fs.readFileSync(path.join(dir, s.build?.dockerfile ?? ''), 'utf8')).join('\n');
    for (const p of ['postgresql-15', 'patroni', 'etcd-server', 'haproxy', 'barman']) expect(packages).toMatch(new RegExp(`install[^\\n]*\\b${p}\\b`));
  });

  it('publishes the documented ports, which the native test lab (port base 10000) never uses', () => {
    for (const [name, ports] of Object.entries(EXPECTED_PORTS)) expect(services[name]?.ports ?? [], name).toEqual(ports);
    const published = Object.values(services).flatMap((s) =>
      (s.ports ?? []).flatMap((p) => {
        const [first, last] = (p.split(':')[0] as string).split('-').map(Number) as [number, number | undefined];
        return Array.from({ length: (last ?? first) - first + 1 }, (_, i) => first + i);
      }),
    );
    expect(published).toHaveLength(18);
    const lab = labPorts(labTopology({ dir: '/nonexistent', portBase: 10000, members: 5, restAuth: false })).map((p) => p.port);
    expect(published.filter((p) => lab.includes(p))).toEqual([]);
  });

  it('keeps data in named volumes, configs mounted read-only from compose/config/', () => {
    const named = new Set(Object.keys(file.volumes));
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const [source, target, mode] = volume.split(':');
        if (source?.startsWith('./')) {
          expect(mode, `${name}: ${volume}`).toBe('ro');
          expect(source.startsWith('./config/'), `${name}: ${volume}`).toBe(true);
          expect(fs.existsSync(path.join(dir, source)), `${name}: ${source}`).toBe(true);
        } else {
          expect(named.has(source as string), `${name}: ${volume}`).toBe(true);
        }
        expect(target?.startsWith('/'), `${name}: ${volume}`).toBe(true);
      }
    }
    for (const m of ['db1', 'db2', 'db3', 'db4']) {
      expect(services[m]?.volumes).toContain(`${m}_data:/var/lib/postgresql/data`);
      expect(services[m]?.volumes).toContain('walship:/var/lib/walship');
    }
    expect(services.barman?.volumes).toContain('barman_data:/var/lib/barman');
    expect(services.barman?.volumes).toContain('walship:/var/lib/walship');
  });

  it('has health checks, and nothing waits on one (Podman never runs them on its own)', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test.length, name).toBeGreaterThan(0);
      expect(JSON.stringify(service.depends_on ?? []), name).not.toContain('service_healthy');
    }
  });

  it('takes credentials from .env, with documented defaults', () => {
    const raw = fs.readFileSync(path.join(dir, 'docker-compose.yml'), 'utf8');
    expect(raw).not.toMatch(/pgcockpit-compose-(superuser|replication)/);
    const env = fs.readFileSync(path.join(dir, '.env'), 'utf8');
    for (const key of ['POSTGRES_PASSWORD', 'REPLICATION_PASSWORD']) {
      expect(env).toMatch(new RegExp(`^# .+\\n${key}=\\S+`, 'm'));
      expect(raw).toContain(`\${${key}}`);
    }
  });

  it('archives WAL through configs/archive-wal.sh into the volume Barman reads', () => {
    const patroni = fs.readFileSync(path.join(dir, 'config', 'patroni-db1.yml'), 'utf8');
    expect(patroni).toContain("archive_command: '/etc/pgcockpit/archive-wal.sh %p %f /var/lib/walship/spool /var/lib/walship/incoming /var/log/postgresql/archive.log'");
    expect(fs.readFileSync(path.join(dir, 'config', 'barman.d', 'patroni1.conf'), 'utf8')).toContain('incoming_wals_directory = /var/lib/walship/incoming');
  });

  it('is what compose/pgcockpit.yaml describes: containers, published ports', () => {
    const config = loadConfig(path.join(dir, 'pgcockpit.yaml'));
    const cluster = config.clusters[0];
    expect(cluster?.barman?.transport).toMatchObject({ kind: 'docker', container: services.barman?.container_name });
    for (const m of ['db1', 'db2', 'db3', 'db4']) {
      const access = cluster?.members?.[m];
      expect(access?.container).toBe(services[m]?.container_name);
      expect(services[m]?.ports).toContain(`${access?.postgres?.split(':')[1]}:${access?.postgres?.split(':')[1]}`);
      expect(cluster?.archiveLog?.members?.[m]).toMatchObject({ kind: 'docker', container: services[m]?.container_name });
    }
    expect(cluster?.etcd.endpoints).toEqual(['etcd1', 'etcd2', 'etcd3'].map((e) => `http://127.0.0.1:${services[e]?.ports?.[0]?.split(':')[0]}`));
  });
});
