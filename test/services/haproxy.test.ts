import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HaproxyAdapter, parseHaproxyStatsCsv, routingFromCsv, serverStatusWord } from '../../src/services/haproxy.js';
import { ServiceError } from '../../src/services/types.js';
import { fakePatroniServer, unusedPort } from './fake-peer.js';
import { testLabCluster, waitForHealthyCluster } from './lab-config.js';

const cluster = testLabCluster();
const haproxyConfig = cluster.haproxy as NonNullable<typeof cluster.haproxy>;

describe('HAProxy on the lab', () => {
  it('the write backend routes to the leader only, the read backend to the replicas', async () => {
    const leader = await waitForHealthyCluster(cluster);
    const haproxy = HaproxyAdapter.fromConfig(haproxyConfig);
    try {
      // HAProxy's health checks run every few seconds: wait until they agree with Patroni.
      let routing = await haproxy.routing();
      const deadline = Date.now() + 30_000;
      while ((routing.writeTargets.join() !== leader || routing.readTargets.includes(leader)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        routing = await haproxy.routing();
      }
      expect(routing.writeTargets).toEqual([leader]);
      expect(routing.readTargets.length).toBeGreaterThanOrEqual(1);
      expect(routing.readTargets).not.toContain(leader);
      expect(routing.servers.filter((s) => s.backend === 'write')).toHaveLength(3);
      const leaderRow = routing.servers.find((s) => s.backend === 'write' && s.server === leader);
      expect(leaderRow).toMatchObject({ status: 'UP', up: true, checkStatus: 'L7OK' });
    } finally {
      await haproxy.close();
    }
  });
});

describe('HAProxy faults and parsing', () => {
  it('stats port closed: "unreachable"', async () => {
    const port = await unusedPort();
    const haproxy = new HaproxyAdapter({ statsUrl: `http://127.0.0.1:${port}/;csv`, writeBackend: 'write', readBackend: 'read', timeoutMs: 1000 });
    try {
      await expect(haproxy.routing()).rejects.toMatchObject({ source: 'haproxy', kind: 'unreachable' });
    } finally {
      await haproxy.close();
    }
  });

  it('an HTML page instead of the CSV, or backends missing: "malformed" with a hint', async () => {
    const fake = await fakePatroniServer((req) =>
      req.url === '/html' ? { status: 200, body: '<html>stats</html>', contentType: 'text/html' } : { status: 200, body: '# pxname,svname,status\nother,FRONTEND,OPEN\n', contentType: 'text/csv' },
    );
    try {
      const html = new HaproxyAdapter({ statsUrl: `${fake.url}/html`, writeBackend: 'write', readBackend: 'read', timeoutMs: 1000 });
      const error = await html.routing().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ kind: 'malformed' });
      expect((error as Error).message).toContain(';csv');
      await html.close();
      const missing = new HaproxyAdapter({ statsUrl: `${fake.url}/;csv`, writeBackend: 'write', readBackend: 'read', timeoutMs: 1000 });
      await expect(missing.routing()).rejects.toThrow(/no backend named "write" or "read"/);
      await missing.close();
    } finally {
      await fake.close();
    }
  });

  it('parses the recorded lab CSV and HAProxy status words', () => {
    const csv = fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'lab', 'haproxy-stats.csv'), 'utf8');
    const rows = parseHaproxyStatsCsv(csv);
    expect(rows.some((r) => r.pxname === 'stats' && r.svname === 'FRONTEND')).toBe(true);
    const routing = routingFromCsv(rows, 'write', 'read');
    expect(routing.writeTargets).toHaveLength(1);
    expect(routing.readTargets).not.toContain(routing.writeTargets[0]);
    expect(['UP 1/3', 'DOWN 1/2', 'MAINT', 'no check', 'NOLB'].map(serverStatusWord)).toEqual(['UP', 'DOWN', 'MAINT', 'no check', 'NOLB']);
    expect(parseHaproxyStatsCsv('# pxname,svname,status,check_desc\nw,db1,UP,"a, quoted ""desc"""\n')[0]?.check_desc).toBe('a, quoted "desc"');
    expect(() => parseHaproxyStatsCsv('<html>')).toThrow(/not an HAProxy stats CSV/);
  });
});
