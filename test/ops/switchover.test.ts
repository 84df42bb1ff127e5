import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { labSuperuserPassword } from '../../src/lab/lab.js';
import { countLostCommits, runLoad } from '../../src/lab/load.js';
import type { LoadProgress } from '../../src/lab/load.js';
import type { LabTopology } from '../../src/lab/topology.js';
import { readAuditLog } from '../../src/ops/audit.js';
import type { OperationEvent } from '../../src/ops/types.js';
import { runCli } from '../support/cli.js';
import { testLab } from '../support/lab.js';
import type { OpsWorkspace } from './support.js';
import { labSecrets, openOps, opsWorkspace, waitHealthy, writePortTarget } from './support.js';

/**
 * Switchover on the shared test lab, through the CLI and through the runner: verified through the HAProxy
 * write port, audited, nothing lost under load; scheduling and cancelling; aborting before the request.
 * Every test starts and ends with a healthy lab.
 */

let topology: LabTopology;
let workspace: OpsWorkspace;

beforeAll(async () => {
  topology = testLab();
  workspace = opsWorkspace(inject('labDir'));
  await waitHealthy(topology);
});
beforeEach(async () => {
  await waitHealthy(topology);
});
afterEach(async () => {
  const health = await waitHealthy(topology);
  expect(health.ready).toBe(true);
});
afterAll(() => {
  fs.rmSync(workspace.dir, { recursive: true, force: true });
});

describe('switchover on the lab', () => {
  it('through the CLI: done once the write port reaches the new leader; audit lines without secrets', async () => {
    const before = await waitHealthy(topology);
    const candidate = topology.members.find((m) => m.name !== before.leader)?.name as string;
    const result = await runCli(['switchover', '--config', workspace.config, '--to', candidate, '--yes', '--json']);
    expect(result.stderr).toMatch(/✓ Preflight checks \(\d+ ms\)/);
    expect(result.stderr).toMatch(new RegExp(`✓ HAProxy write port reaches ${candidate} \\(`));
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout) as { status: string; result: { details: { from: string; to: string } }; steps: Array<{ id: string; status: string }> };
    expect(doc.status).toBe('done');
    expect(doc.result.details).toMatchObject({ from: before.leader, to: candidate });
    expect(doc.steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      'preflight:done',
      'request:done',
      'leader-key:done',
      'new-leader:done',
      'old-leader-streaming:done',
      'write-port:done',
    ]);
    // Checked independently, right after the command returned: the write port reaches the new leader.
    expect(await writePortTarget(topology)).toEqual({ member: candidate, inRecovery: false });

    const audit = readAuditLog(workspace.auditLog).filter((r) => r.operation === 'switchover');
    const id = audit.at(-1)?.operationId;
    const lines = audit.filter((r) => r.operationId === id);
    expect(lines.map((r) => r.event)).toEqual(['start', 'step', 'step', 'step', 'step', 'step', 'step', 'end']);
    expect(lines[0]).toMatchObject({ cluster: 'lab', params: { candidate }, user: expect.any(String) as string });
    expect(lines.at(-1)).toMatchObject({ status: 'done', result: { outcome: 'done' } });
    const text = fs.readFileSync(workspace.auditLog, 'utf8');
    for (const secret of labSecrets(topology)) expect(text).not.toContain(secret);
  });

  it('through the runner, to the best candidate: the steps stream live and the store records them', async () => {
    const before = await waitHealthy(topology);
    const ops = await openOps(workspace);
    try {
      const seen: OperationEvent[] = [];
      const run = await ops.runner.run({ operation: 'switchover', params: {} }, { onEvent: (e) => seen.push(e) });
      expect(run.status, run.error ?? JSON.stringify(run.reasons)).toBe('done');
      const to = run.result?.details.to as string;
      expect(to).not.toBe(before.leader);
      expect(await writePortTarget(topology)).toEqual({ member: to, inRecovery: false });
      // Started events come before their ends, and each end carries a duration.
      const steps = seen.filter((e) => e.type === 'step');
      expect(steps.filter((s) => s.status === 'started').length).toBe(6);
      expect(steps.filter((s) => s.status === 'done').every((s) => typeof s.durationMs === 'number')).toBe(true);
      expect(ops.store.getEvents().some((e) => e.kind === 'operation' && e.message.startsWith('switchover done'))).toBe(true);
      expect(ops.runner.getState().last?.status).toBe('done');
    } finally {
      await ops.close();
    }
  });

  it('under load, a switchover loses zero acknowledged commits', async () => {
    const password = labSuperuserPassword(topology);
    const target = { host: topology.host, port: topology.haproxy.writePort, user: 'postgres', password, database: 'postgres' };
    const controller = new AbortController();
    let progress: LoadProgress | undefined;
    let wake: (() => void) | undefined;
    const load = runLoad({
      target,
      ratePerSecond: 40,
      signal: controller.signal,
      onProgress: (p) => {
        progress = p;
        wake?.();
      },
    });
    const untilAcknowledged = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if ((progress?.acknowledged ?? 0) >= count) {
            wake = undefined;
            resolve();
          }
        };
        wake = check;
        check();
      });
    const ops = await openOps(workspace);
    try {
      await untilAcknowledged(20);
      const run = await ops.runner.run({ operation: 'switchover', params: {} });
      expect(run.status, run.error ?? JSON.stringify(run.reasons)).toBe('done');
      // Keep writing on the new leader for a while after the switchover.
      const after = progress?.acknowledged ?? 0;
      await untilAcknowledged(after + 40);
    } finally {
      controller.abort();
      await ops.close();
    }
    const report = await load;
    expect(report.acknowledged).toBeGreaterThan(60);
    const { present, lost } = await countLostCommits(target, report);
    expect(lost).toBe(0);
    expect(present).toBe(report.acknowledged);
  });

  it('a scheduled switchover shows in Patroni and cancelling it removes it; the leader stays', async () => {
    const before = await waitHealthy(topology);
    const ops = await openOps(workspace);
    try {
      const at = new Date(Date.now() + 3600_000).toISOString();
      const candidate = topology.members.find((m) => m.name !== before.leader)?.name as string;
      const run = await ops.runner.run({ operation: 'switchover', params: { candidate, at } });
      expect(run.status, run.error ?? JSON.stringify(run.reasons)).toBe('done');
      expect(run.result?.outcome).toBe('scheduled');
      const scheduled = await ops.context.patroni.getCluster();
      expect(scheduled.scheduledSwitchover?.to).toBe(candidate);
      // A second switchover is refused while one is scheduled.
      await ops.runner.whenIdle();
      const cli = await runCli(['switchover', '--config', workspace.config, '--cancel', '--yes']);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/switchover cancelled/);
      expect((await ops.context.patroni.getCluster()).scheduledSwitchover).toBeUndefined();
      const again = await runCli(['switchover', '--config', workspace.config, '--cancel', '--yes']);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('no switchover is scheduled');
      expect((await waitHealthy(topology)).leader).toBe(before.leader);
    } finally {
      await ops.close();
    }
  });

  it('aborting before the request changes nothing; a dry run changes nothing', async () => {
    const before = await waitHealthy(topology);
    const ops = await openOps(workspace);
    try {
      const run = await ops.runner.run(
        { operation: 'switchover', params: {} },
        {
          onEvent: (e) => {
            if (e.type === 'step' && e.id === 'preflight' && e.status === 'done') ops.runner.abort('aborted in the test');
          },
        },
      );
      expect(run.status).toBe('aborted');
      expect(run.requestSent).toBe(false);
    } finally {
      await ops.close();
    }
    const dry = await runCli(['switchover', '--config', workspace.config, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { requests: Array<{ method: string; url: string; body: Record<string, string> }> };
    expect(plan.requests[0]).toMatchObject({ method: 'POST', body: { leader: before.leader } });
    expect(dry.stdout).not.toMatch(/password/i);
    const after = await waitHealthy(topology);
    expect(after.leader).toBe(before.leader);
    expect((await writePortTarget(topology)).member).toBe(before.leader);
  });
});
