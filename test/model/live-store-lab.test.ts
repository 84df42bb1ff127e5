import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { labSuperuserPassword } from '../../src/lab/lab.js';
import { runLoad } from '../../src/lab/load.js';
import { LiveClusterStore } from '../../src/model/live-store.js';
import { createServiceSources } from '../../src/model/service-sources.js';
import type { ClusterSnapshot } from '../../src/model/snapshot.js';
import { waitFor } from '../../src/util/wait.js';
import { freezeEtcd, labLeader, patronictl, pauseReplay, restoreLab, stopMember, waitHealthy } from '../support/lab-faults.js';
import { labQuery, testLab } from '../support/lab.js';

const run = promisify(execFile);
const lab = testLab();
const cluster = loadConfig(path.join(inject('labDir'), 'pgcockpit.yaml')).clusters[0] as ClusterConfig;
let store: LiveClusterStore;

function until(what: string, predicate: (s: ClusterSnapshot) => boolean, timeoutMs = 60_000): Promise<ClusterSnapshot> {
  let last = '';
  return waitFor(
    what,
    () => {
      const snapshot = store.getSnapshot();
      const members = snapshot.members.map((m) => `${m.name} ${m.role} ${m.state} lag ${m.replayLagBytes ?? '?'} paused ${m.replayPaused ?? '?'}`).join('; ');
      const failing = Object.values(snapshot.sources).filter((f) => f.error).map((f) => `${f.key}: ${f.error}`).join('; ');
      last = `leader ${snapshot.leader}, alerts [${snapshot.alerts.map((a) => a.id).join(', ')}], members [${members}], failing [${failing}], updated ${new Date(snapshot.updatedAt).toISOString()}`;
      return predicate(snapshot) ? snapshot : undefined;
    },
    { timeoutMs, intervalMs: 50, describeFailure: () => last },
  );
}

const alertIds = (s: ClusterSnapshot) => s.alerts.map((a) => a.id);

beforeAll(async () => {
  await waitHealthy(lab);
  store = new LiveClusterStore({ cluster, sources: createServiceSources(cluster), pollIntervalMs: 500, slowIntervalMs: 1500 });
  store.start();
  await store.whenFirstComplete();
});

afterAll(async () => {
  await store.stop();
  await restoreLab(lab);
});

describe('the live model on the lab', () => {
  it('shows the members, roles and timelines Patroni shows', async () => {
    await until('every member streaming or leading', (s) => s.members.length === 3 && s.members.every((m) => m.state === 'streaming' || m.name === s.leader));
    const { command, config } = patronictl(lab);
    const { stdout } = await run(command, ['-c', config, 'list', '-f', 'json'], { env: { ...process.env, PATH: '/usr/bin:/bin' } });
    const snapshot = store.getSnapshot();
    const theirs = (JSON.parse(stdout) as Array<{ Member: string; Host: string; Role: string; TL: number }>).sort((a, b) => a.Member.localeCompare(b.Member));
    expect(snapshot.members.map((m) => m.name)).toEqual(theirs.map((t) => t.Member));
    for (const t of theirs) {
      const ours = snapshot.members.find((m) => m.name === t.Member);
      expect(`${ours?.host}:${ours?.port}`).toBe(t.Host);
      expect(ours?.role).toBe(t.Role === 'Leader' ? 'leader' : 'replica');
      expect(ours?.timeline).toBe(t.TL);
    }
    expect(snapshot.leader).toBe(theirs.find((t) => t.Role === 'Leader')?.Member);
  });

  it('follows a switchover made outside the cockpit: new leader, new timeline entry, events', async () => {
    const before = store.getSnapshot();
    const oldLeader = before.leader as string;
    const candidate = before.members.find((m) => m.name !== oldLeader)?.name as string;
    const historyBefore = before.history.length;
    const { command, config } = patronictl(lab);
    await run(command, ['-c', config, 'switchover', '--leader', oldLeader, '--candidate', candidate, '--force'], {
      env: { ...process.env, PATH: '/usr/bin:/bin' },
    });
    const after = await until(`${candidate} to lead`, (s) => s.leader === candidate);
    expect(after.members.find((m) => m.name === candidate)?.role).toBe('leader');
    await until('the new timeline in the history', (s) => s.history.length === historyBefore + 1);
    const entry = store.getSnapshot().history.at(-1);
    expect(entry?.newLeader ?? candidate).toBe(candidate);
    const leaderEvents = store.getEvents().filter((e) => e.kind === 'leader-changed').map((e) => e.message);
    expect(leaderEvents.at(-1)).toMatch(new RegExp(`^leader changed: (${oldLeader}|none) → ${candidate}$`));
    await until('a timeline event', (s) => s.history.length > historyBefore && store.getEvents().some((e) => e.kind === 'timeline-changed'));
    await waitHealthy(lab);
    await until('the old leader streaming again', (s) => s.members.find((m) => m.name === oldLeader)?.state === 'streaming');
  });

  it('raises "unreachable" when a replica goes away and clears it when it is back', async () => {
    const leader = (await labLeader(lab)).name;
    const replica = lab.members.find((m) => m.name !== leader)?.name as string;
    await stopMember(lab, replica);
    const down = await until(`${replica} flagged`, (s) => alertIds(s).includes(`unreachable:${replica}`));
    expect(down.members.find((m) => m.name === replica)?.state).toBe('unreachable');
    expect(down.alerts.find((a) => a.id === `unreachable:${replica}`)?.severity).toBe('critical');
    await restoreLab(lab);
    await until(`${replica} streaming and the alert cleared`, (s) => s.members.find((m) => m.name === replica)?.state === 'streaming' && !alertIds(s).includes(`unreachable:${replica}`));
    expect(store.getEvents().some((e) => e.kind === 'alert-cleared' && e.member === replica)).toBe(true);
  });

  it('raises "archiving failing" when archive_command breaks and clears it when mended', async () => {
    const leader = await labLeader(lab);
    await labQuery(lab, leader.pgPort, "ALTER SYSTEM SET archive_command = '/bin/false'");
    await labQuery(lab, leader.pgPort, 'SELECT pg_reload_conf()');
    try {
      await labQuery(lab, leader.pgPort, 'CREATE TABLE IF NOT EXISTS wal_probe (at timestamptz); INSERT INTO wal_probe VALUES (now()); SELECT pg_switch_wal()');
      const failing = await until('archiving flagged failing', (s) => alertIds(s).includes('archiving-failing'));
      expect(failing.alerts.find((a) => a.id === 'archiving-failing')?.message).toMatch(/^WAL archiving is failing on db\d: last failure [0-9A-F]{24} at /);
    } finally {
      await labQuery(lab, leader.pgPort, 'ALTER SYSTEM RESET archive_command');
      await labQuery(lab, leader.pgPort, 'SELECT pg_reload_conf()');
    }
    await until('archiving mended', (s) => !alertIds(s).includes('archiving-failing'), 90_000);
  });

  it('raises etcd quorum degraded with one member frozen, lost with two, and clears it when thawed', async () => {
    try {
      freezeEtcd(lab, 'etcd3', true);
      const degraded = await until('etcd degraded', (s) => s.alerts.some((a) => a.id === 'etcd-quorum' && a.severity === 'warning'));
      expect(degraded.etcd?.quorum).toBe('degraded');
      freezeEtcd(lab, 'etcd2', true);
      const lost = await until('etcd quorum lost', (s) => s.alerts.some((a) => a.id === 'etcd-quorum' && a.severity === 'critical'));
      expect(lost.etcd?.quorum).toBe('lost');
    } finally {
      freezeEtcd(lab, 'etcd2', false);
      freezeEtcd(lab, 'etcd3', false);
    }
    await until('etcd healthy again', (s) => s.etcd?.quorum === 'healthy' && !alertIds(s).includes('etcd-quorum'));
    await waitHealthy(lab);
  });

  it('raises replay paused and lag over the threshold under load, and clears them when replay resumes', async () => {
    const leader = await labLeader(lab);
    const replica = lab.members.find((m) => m.name !== leader.name) as (typeof lab.members)[number];
    const target = { host: lab.host, port: lab.haproxy.writePort, user: 'postgres', password: labSuperuserPassword(lab), database: 'postgres' };
    // Paused durably (maintenance mode first: Patroni resumes a paused replay at its next HA loop otherwise).
    const resumeReplay = await pauseReplay(lab, replica.name);
    const controller = new AbortController();
    const load = runLoad({ target, ratePerSecond: 50, signal: controller.signal });
    try {
      await labQuery(lab, leader.pgPort, "CREATE TABLE IF NOT EXISTS lag_probe (payload text); INSERT INTO lag_probe SELECT repeat('x', 200) FROM generate_series(1, 20000)");
      const lagging = await until(`${replica.name} lagging`, (s) => alertIds(s).includes(`lag:${replica.name}`) && alertIds(s).includes(`replay-paused:${replica.name}`));
      const alert = lagging.alerts.find((a) => a.id === `lag:${replica.name}`);
      expect(alert?.message).toMatch(new RegExp(`^${replica.name} replay lag [\\d.]+ MB > 1.0 MB \\(maximum_lag_on_failover\\)`));
      expect(lagging.members.find((m) => m.name === replica.name)?.replayPaused).toBe(true);
    } finally {
      await resumeReplay();
      controller.abort();
      await load;
      await labQuery(lab, leader.pgPort, 'DROP TABLE IF EXISTS lag_probe');
    }
    await until('lag cleared', (s) => !alertIds(s).some((id) => id === `lag:${replica.name}` || id === `replay-paused:${replica.name}`));
  });

  it('marks PostgreSQL stale when SQL is refused, while Patroni and etcd keep updating', async () => {
    const broken: ClusterConfig = { ...cluster, postgres: { ...cluster.postgres, passwordFile: undefined, passwordEnv: 'PGCOCKPIT_TEST_WRONG_PASSWORD' } };
    const sources = createServiceSources(broken, { ...process.env, PGCOCKPIT_TEST_WRONG_PASSWORD: 'not-the-password' });
    const other = new LiveClusterStore({ cluster: broken, sources, pollIntervalMs: 300 });
    other.start();
    try {
      await other.whenFirstComplete();
      const snapshot = other.getSnapshot();
      for (const m of snapshot.members) {
        expect(m.sqlReachable, m.name).toBe(false);
        expect(m.sqlError, m.name).toMatch(/password authentication failed|authentication/i);
        expect(m.restReachable, m.name).toBe(true);
      }
      expect(snapshot.leader).toBeDefined();
      const patroniAsOf = snapshot.sources.patroni?.asOf ?? 0;
      await waitFor('Patroni to be read again', () => ((other.getSnapshot().sources.patroni?.asOf ?? 0) > patroniAsOf ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      expect(JSON.stringify(other.getSnapshot())).not.toContain('not-the-password');
    } finally {
      await other.stop();
    }
  });
});
