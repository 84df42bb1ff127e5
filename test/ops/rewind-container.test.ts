import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreListing, rewindPlan, rewindPreconditions } from '../../src/ops/pitr.js';
import { canRewindInContainers, containerUndoInstructions } from '../../src/ops/rewind-container.js';
import { SafetyCopyRegistry } from '../../src/services/safety-copies.js';
import { fakeCluster, fakeContext, fakeHealthySnapshot } from './fake-snapshots.js';

/**
 * The cluster rewind where Barman and every member run in containers (FAKE snapshots): allowed without a
 * lab section when the config names every member's container and Barman's, refused otherwise with the
 * reason; its plan names the Docker requests; the undo lines; the safety copies' record.
 */

const inContainers = () =>
  fakeCluster({
    lab: undefined,
    barman: { server: 'patroni1', timeoutMs: 60_000, transport: { kind: 'docker', container: 'pgcockpit-barman', user: 'barman' } },
    members: Object.fromEntries(['db1', 'db2', 'db3'].map((m) => [m, { container: `pgcockpit-${m}` }])),
  } as never);
const codes = (reasons: Array<{ code: string }>) => reasons.map((r) => r.code);
const params = { target: { toTime: '2026-11-21T22:00:00Z' } };

describe('cluster rewind in containers (FAKE snapshots)', () => {
  it('is allowed when Barman and every member run in named containers', () => {
    const cluster = inContainers();
    expect(canRewindInContainers(cluster, fakeHealthySnapshot())).toBe(true);
    const checks = rewindPreconditions(fakeHealthySnapshot(), params, fakeContext({ cluster }));
    expect(codes(checks.blockers)).not.toContain('not-a-lab');
    expect(codes(checks.blockers)).not.toContain('barman-not-local');
    expect(codes(checks.warnings)).toContain('destructive');
  });

  it('is refused without a lab when a member has no container, or Barman is not in one', () => {
    const noContainer = { ...inContainers(), members: { db1: { container: 'pgcockpit-db1' } } };
    const refused = rewindPreconditions(fakeHealthySnapshot(), params, fakeContext({ cluster: noContainer }));
    expect(codes(refused.blockers)).toContain('not-a-lab');
    expect(refused.blockers.find((b) => b.code === 'not-a-lab')?.message).toMatch(/db2 none/);
    const sshBarman = { ...inContainers(), barman: { server: 'patroni1', timeoutMs: 60_000, transport: { kind: 'ssh' as const, host: 'backup1' } } };
    expect(codes(rewindPreconditions(fakeHealthySnapshot(), params, fakeContext({ cluster: sshBarman })).blockers)).toEqual(expect.arrayContaining(['not-a-lab', 'barman-not-local']));
  });

  it('plans the Docker requests: stop, the helper, the safety copies, recover, etcd, start', () => {
    const plan = rewindPlan(fakeHealthySnapshot(), params, fakeContext({ cluster: inContainers() }));
    const urls = plan.requests.map((r) => r.url).join('\n');
    expect(urls).toMatch(/pg_ctl stop -m fast, then \/containers\/\{pgcockpit-db1,pgcockpit-db2,pgcockpit-db3\}\/stop/);
    expect(urls).toMatch(/\.safety-<stamp>/);
    expect(urls).toMatch(/\/containers\/pgcockpit-db1\/start/);
    expect(plan.requests.find((r) => r.method === 'DELETE')?.url).toBe('etcd /service/patroni1/ (prefix)');
  });

  it('says how to undo with the safety copies: stop, move back (unpaused), wipe the scope, start the old leader first', () => {
    const cluster = inContainers();
    const plans = ['db1', 'db2'].map((name) => ({ name, container: `pgcockpit-${name}`, image: 'pgcockpit-compose/patroni:bookworm' }));
    const copy = (member: string) => ({ id: `${member}-S`, member, path: '/d/pgdata.safety-S', from: '/d/pgdata', createdAt: '', reason: '', container: `pgcockpit-${member}`, volume: `p_${member}_data`, mountedAt: '/d' });
    const lines = containerUndoInstructions(cluster, plans, 'db2', [copy('db1'), copy('db2')]);
    expect(lines[0]).toBe('docker stop -t 30 pgcockpit-db1 pgcockpit-db2');
    expect(lines[1]).toContain('-v p_db1_data:/d pgcockpit-compose/patroni:bookworm -c ');
    expect(lines[1]).toContain('mv /d/pgdata.safety-S /d/pgdata');
    expect(lines[1]).toContain('d.pop(\\"pause\\", None)');
    expect(lines[3]).toContain('del --prefix /service/patroni1/');
    expect(lines[4]).toMatch(/^docker start pgcockpit-db2 /);
    expect(lines[5]).toBe('docker start pgcockpit-db1');
  });

  it("lists the safety copies recorded in the state directory (the cockpit's listing), this cluster's only", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-safety-'));
    try {
      const env = { ...process.env, PGCOCKPIT_RESTORE_DIR: dir };
      const cluster = inContainers();
      const registry = new SafetyCopyRegistry(path.join(dir, cluster.name));
      registry.put({ id: 'db1-S', member: 'db1', path: '/d/pgdata.safety-S', from: '/d/pgdata', createdAt: '2026-11-22T00:00:00Z', reason: 'rewind', container: 'pgcockpit-db1', cluster: cluster.name });
      registry.put({ id: 'db9-S', member: 'db9', path: '/x', from: '/y', createdAt: '', reason: '', cluster: 'other' });
      expect(restoreListing(cluster, env).safetyCopies.map((c) => c.id)).toEqual(['db1-S']);
      registry.remove('db1-S');
      expect(restoreListing(cluster, env).safetyCopies).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
