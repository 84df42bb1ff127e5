import { describe, expect, it } from 'vitest';
import type { OperationEvent } from '../../src/ops/types.js';
import { runCli } from '../support/cli.js';
import { labOpsSuite, openOps, waitForSnapshot, waitHealthy } from './support.js';

/** Reinit, restart, reload, pause and resume on the shared lab; each leaves the lab healthy. */

const suite = labOpsSuite({ healthyAroundEach: true });

describe('maintenance operations on the lab', () => {
  it('reinit of a replica completes, with progress from the rebuild, and it streams again', async () => {
    const { leader } = await waitHealthy(suite.topology);
    const replica = suite.topology.members.find((m) => m.name !== leader)?.name as string;
    const ops = await openOps(suite.workspace);
    try {
      const events: OperationEvent[] = [];
      const run = await ops.runner.run({ operation: 'reinit', params: { member: replica } }, { onEvent: (e) => events.push(e) });
      expect(run.status, run.error ?? JSON.stringify(run.reasons)).toBe('done');
      expect(run.steps.map((s) => `${s.id}:${s.status}`)).toEqual(['preflight:done', 'request:done', 'rebuild:done', 'streaming:done']);
      const progress = events.filter((e) => e.type === 'progress').map((e) => (e.type === 'progress' ? (e.message ?? '') : ''));
      expect(progress.some((m) => /creating replica|stopped|stopping|base backup/.test(m)), progress.join(' | ')).toBe(true);
      expect(run.warnings.some((w) => w.includes('wipes its data directory'))).toBe(true);
    } finally {
      await ops.close();
    }
    const health = await waitHealthy(suite.topology);
    expect(health.streaming).toContain(replica);
    expect(health.leader).toBe(leader);
  });

  it('restart of a replica (CLI): a new postmaster, streaming again', async () => {
    const { leader } = await waitHealthy(suite.topology);
    const replica = suite.topology.members.filter((m) => m.name !== leader).at(-1)?.name as string;
    const result = await runCli(['restart', replica, '--config', suite.workspace.config, '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { status: string; steps: Array<{ id: string; detail?: string }> };
    expect(doc.status).toBe('done');
    expect(doc.steps.find((s) => s.id === `verify:${replica}`)?.detail).toContain(`reports ${replica} streaming`);
  });

  it('reload of every member; restart --pending with nothing pending is refused', async () => {
    const ops = await openOps(suite.workspace);
    try {
      const run = await ops.runner.run({ operation: 'reload', params: {} });
      expect(run.status, run.error ?? JSON.stringify(run.reasons)).toBe('done');
      expect(run.result?.details.reloaded).toEqual(suite.topology.members.map((m) => m.name));
      const pending = await ops.runner.run({ operation: 'restart', params: { pending: true } });
      expect(pending.status).toBe('refused');
      expect(pending.reasons?.map((r) => r.message)).toEqual(['no member has a pending restart']);
    } finally {
      await ops.close();
    }
  });

  it('pause and resume (CLI): the store shows maintenance mode, then not', async () => {
    const ops = await openOps(suite.workspace);
    try {
      const paused = await runCli(['pause', '--config', suite.workspace.config]);
      expect(paused.code, paused.stderr).toBe(0);
      await waitForSnapshot(ops.store, 'the cluster paused', (s) => s.paused && s.alerts.some((a) => a.id === 'paused'));
      const again = await runCli(['pause', '--config', suite.workspace.config]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('the cluster is already paused');
      const resumed = await runCli(['resume', '--config', suite.workspace.config]);
      expect(resumed.code, resumed.stderr).toBe(0);
      await waitForSnapshot(ops.store, 'the cluster resumed', (s) => !s.paused);
    } finally {
      await ops.close();
    }
  });
});
