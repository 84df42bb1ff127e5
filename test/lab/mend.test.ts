import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { getJson, probeLab } from '../../src/lab/probe.js';
import { waitFor } from '../../src/util/wait.js';
import { runCli, stopStrayChildren } from '../support/cli.js';
import { freezeEtcd, labLeader, mendLab } from '../support/lab-faults.js';
import { labQuery, testLab } from '../support/lab.js';

/**
 * The test run's own safety net (test/support/each-file.ts runs it before every file): what a test that
 * failed half-way leaves behind is mended, and a command it started does not outlive it.
 */
const lab = testLab();

async function clusterDoc(): Promise<{ pause?: boolean; scheduled_switchover?: unknown }> {
  for (const m of lab.members) {
    const doc = (await getJson(`http://${lab.host}:${m.restPort}/cluster`)) as { pause?: boolean } | undefined;
    if (doc) return doc;
  }
  throw new Error('no Patroni REST API answers /cluster');
}

describe('mending the shared lab', () => {
  it('thaws etcd, resumes a paused cluster, cancels a scheduled switchover and resumes WAL replay', async () => {
    const leader = await labLeader(lab);
    const replica = lab.members.find((m) => m.name !== leader.name) as (typeof lab.members)[number];
    const rest = `http://${lab.host}:${leader.restPort}`;
    try {
      // Scheduled first: Patroni refuses to schedule a switchover in a paused cluster.
      const at = new Date(Date.now() + 3_600_000).toISOString();
      const scheduled = await fetch(`${rest}/switchover`, { method: 'POST', body: JSON.stringify({ leader: leader.name, scheduled_at: at }) });
      expect(scheduled.status, await scheduled.text()).toBe(202);
      await fetch(`${rest}/config`, { method: 'PATCH', body: JSON.stringify({ pause: true }) });
      await labQuery(lab, replica.pgPort, 'SELECT pg_wal_replay_pause()');
      await waitFor('the cluster paused with a switchover scheduled', async () => {
        const doc = await clusterDoc();
        return doc.pause && doc.scheduled_switchover ? true : undefined;
      }, { timeoutMs: 30_000 });
      // Frozen last: Patroni writes the keys above through it.
      freezeEtcd(lab, 'etcd3', true);
      expect((await probeLab(lab)).etcdUnhealthy).toContain('etcd3');
    } catch (error) {
      await mendLab(lab);
      throw error;
    }

    expect(await mendLab(lab)).toBe(leader.name);
    const doc = await clusterDoc();
    expect(doc.pause ?? false).toBe(false);
    expect(doc.scheduled_switchover).toBeUndefined();
    const [row] = await labQuery<{ paused: boolean }>(lab, replica.pgPort, 'SELECT pg_is_wal_replay_paused() AS paused');
    expect(row?.paused).toBe(false);
    expect((await probeLab(lab)).etcdHealthy).toContain('etcd3');
  });

  it('stops a command a test left running (SIGTERM, as Ctrl-C would)', async () => {
    // `status --watch` runs until stopped.
    const left = runCli(['status', '--watch', '--config', path.join(inject('labDir'), 'pgcockpit.yaml')]);
    expect(await stopStrayChildren()).toBe(1);
    const outcome = await Promise.race([left.then(() => 'exited'), new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 30_000).unref())]);
    expect(outcome).toBe('exited');
    expect(await stopStrayChildren()).toBe(0);
  });
});
