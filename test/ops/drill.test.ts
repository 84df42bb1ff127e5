import fs from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { labOpsSuite, opsWorkspace, waitHealthy, writePortTarget } from './support.js';

/**
 * The failover drill through the CLI on the shared lab: SIGKILL of the leader's Patroni and postmaster,
 * Patroni elects another leader after about ttl (30 s on the lab), writes go through HAProxy again, and the
 * old leader, restarted by the lab, rejoins as a streaming replica. Ends healthy.
 */

const suite = labOpsSuite();

describe('failover drill on the lab', () => {
  it('measures the time to a new leader (≈ ttl) and to writes; the old leader rejoins', async () => {
    const before = await waitHealthy(suite.topology);
    const result = await runCli(['drill', '--config', suite.workspace.config, '--yes', '--json'], { timeoutMs: 400_000 });
    process.stderr.write(result.stderr);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { status: string; result: { details: { oldLeader: string; newLeader: string; ttlSeconds: number; leaderKeyAfterMs: number; newLeaderAfterMs: number; writesAfterMs: number; rejoinAfterMs: number } } };
    const d = doc.result.details;
    expect(d.oldLeader).toBe(before.leader);
    expect(d.newLeader).not.toBe(before.leader);
    // The leader key outlives its holder by up to ttl; Patroni's loop (loop_wait) adds to it.
    expect(d.leaderKeyAfterMs).toBeGreaterThan(d.ttlSeconds * 1000 * 0.5);
    expect(d.leaderKeyAfterMs).toBeLessThan(d.ttlSeconds * 1000 + 30_000);
    expect(d.writesAfterMs).toBeGreaterThanOrEqual(d.newLeaderAfterMs);
    const health = await waitHealthy(suite.topology);
    expect(health.leader).toBe(d.newLeader);
    expect(health.streaming).toContain(d.oldLeader);
    expect(await writePortTarget(suite.topology)).toEqual({ member: d.newLeader, inRecovery: false });
  }, 420_000);

  it('the drill refuses on a cluster that is not a lab', async () => {
    const notLab = opsWorkspace(inject('labDir'), (yaml) => yaml.replace(/\n\s+lab:\n\s+dir: .*\n\s+portBase: .*/, ''));
    try {
      expect(fs.readFileSync(notLab.config, 'utf8')).not.toMatch(/^\s+lab:/m);
      const result = await runCli(['drill', '--config', notLab.config, '--yes']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('it runs only on a pgcockpit lab');
    } finally {
      fs.rmSync(notLab.dir, { recursive: true, force: true });
    }
  });
});
