import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labSuperuserPassword } from '../../src/lab/lab.js';
import { countLostCommits, runLoad } from '../../src/lab/load.js';
import type { LoadProgress } from '../../src/lab/load.js';
import { readAuditLog } from '../../src/ops/audit.js';
import type { OperationEvent } from '../../src/ops/types.js';
import { runCli } from '../support/cli.js';
import { labOpsSuite, labSecrets, openOps, waitHealthy, writePortTarget } from './support.js';

/**
 * Switchover on the shared test lab, through the CLI and through the runner: verified through the HAProxy
 * write port, audited, nothing lost under load; scheduling and cancelling; aborting before the request.
 * Every test starts and ends with a healthy lab.
 */

const suite = labOpsSuite({ healthyAroundEach: true });

describe('switchover on the lab', () => {
  it('through the CLI: done once the write port reaches the new leader; audit lines without secrets', async () => {
    const before = await waitHealthy(suite.topology);
    const candidate = suite.topology.members.find((m) => m.name !== before.leader)?.name as string;
    const result = await runCli(['switchover', '--config', suite.workspace.config, '--to', candidate, '--yes', '--json']);
    // (With --json, a refusal's reasons are in the document on stdout.)
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect(result.stderr).toMatch(/✓ Preflight checks \(\d+ ms\)/);
    expect(result.stderr).toMatch(new RegExp(`✓ HAProxy write port reaches ${candidate} \\(`));
    const doc = JSON.parse(result.stdout) as { status: string; result: { details: { from: string; to: string } }; steps: Array<{ id: string; status: string }> };
    expect(doc.status).toBe('done');
    expect(doc.result.details).toMatchObject({ from: before.leader, to: candidate });
    expect(doc.steps.map((s) => `${s.id}:${s.status}`)).toEqual([
      'preflight:done',
      'request:done',
      'leader-key:done',
      'new-leader:done',
      'write-port:done',
      'old-leader-streaming:done',
      'done:done',
    ]);
    // "done" is reported the moment writes reach the new leader; the old leader's rejoin trails it.
    const rows = result.stderr.split('\n');
    const writeLine = rows.findIndex((l) => l.includes(`✓ HAProxy write port reaches ${candidate}`));
    const doneLine = rows.findIndex((l) => l.includes(`✓ Switchover done: ${candidate} is the leader`));
    expect(writeLine).toBeGreaterThan(-1);
    expect(doneLine).toBeGreaterThan(writeLine);
    expect(rows.slice(writeLine + 1, doneLine).every((l) => l.includes('Switchover done'))).toBe(true);
    // Checked independently, right after the command returned: the write port reaches the new leader.
    expect(await writePortTarget(suite.topology)).toEqual({ member: candidate, inRecovery: false });

    const audit = readAuditLog(suite.workspace.auditLog).filter((r) => r.operation === 'switchover');
    const id = audit.at(-1)?.operationId;
    const lines = audit.filter((r) => r.operationId === id);
    expect(lines.map((r) => r.event)).toEqual(['start', 'step', 'step', 'step', 'step', 'step', 'step', 'step', 'end']);
    expect(lines[0]).toMatchObject({ cluster: 'lab', params: { candidate }, user: expect.any(String) as string });
    expect(lines.at(-1)).toMatchObject({ status: 'done', result: { outcome: 'done' } });
    const text = fs.readFileSync(suite.workspace.auditLog, 'utf8');
    for (const secret of labSecrets(suite.topology)) expect(text).not.toContain(secret);
  });

  it('through the runner, to the best candidate: the steps stream live and the store records them', async () => {
    const before = await waitHealthy(suite.topology);
    const ops = await openOps(suite.workspace);
    try {
      const seen: OperationEvent[] = [];
      const run = await ops.runner.run({ operation: 'switchover', params: {} }, { onEvent: (e) => seen.push(e) });
      expect(run.status, run.error ?? JSON.stringify(run.reasons)).toBe('done');
      const to = run.result?.details.to as string;
      expect(to).not.toBe(before.leader);
      expect(await writePortTarget(suite.topology)).toEqual({ member: to, inRecovery: false });
      // Started events come before their ends, and each end carries a duration.
      const steps = seen.filter((e) => e.type === 'step');
      expect(steps.filter((s) => s.status === 'started').length).toBe(7);
      expect(steps.filter((s) => s.status === 'done').every((s) => typeof s.durationMs === 'number')).toBe(true);
      expect(ops.store.getEvents().some((e) => e.kind === 'operation' && e.message.startsWith('switchover done'))).toBe(true);
      expect(ops.runner.getState().last?.status).toBe('done');
    } finally {
      await ops.close();
    }
  });

  it('under load, a switchover loses zero acknowledged commits', async () => {
    const password = labSuperuserPassword(suite.topology);
    const target = { host: suite.topology.host, port: suite.topology.haproxy.writePort, user: 'postgres', password, database: 'postgres' };
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
    const ops = await openOps(suite.workspace);
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
    const before = await waitHealthy(suite.topology);
    const ops = await openOps(suite.workspace);
    try {
      const at = new Date(Date.now() + 3600_000).toISOString();
      const candidate = suite.topology.members.find((m) => m.name !== before.leader)?.name as string;
      const run = await ops.runner.run({ operation: 'switchover', params: { candidate, at } });
      expect(run.status, run.error ?? JSON.stringify(run.reasons)).toBe('done');
      expect(run.result?.outcome).toBe('scheduled');
      const scheduled = await ops.context.patroni.getCluster();
      expect(scheduled.scheduledSwitchover?.to).toBe(candidate);
      // A second switchover is refused while one is scheduled.
      await ops.runner.whenIdle();
      const cli = await runCli(['switchover', '--config', suite.workspace.config, '--cancel', '--yes']);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/switchover cancelled/);
      expect((await ops.context.patroni.getCluster()).scheduledSwitchover).toBeUndefined();
      const again = await runCli(['switchover', '--config', suite.workspace.config, '--cancel', '--yes']);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('no switchover is scheduled');
      expect((await waitHealthy(suite.topology)).leader).toBe(before.leader);
    } finally {
      await ops.close();
    }
  });

  it('aborting before the request changes nothing; a dry run changes nothing', async () => {
    const before = await waitHealthy(suite.topology);
    const ops = await openOps(suite.workspace);
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
    const dry = await runCli(['switchover', '--config', suite.workspace.config, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { requests: Array<{ method: string; url: string; body: Record<string, string> }> };
    expect(plan.requests[0]).toMatchObject({ method: 'POST', body: { leader: before.leader } });
    expect(dry.stdout).not.toMatch(/password/i);
    const after = await waitHealthy(suite.topology);
    expect(after.leader).toBe(before.leader);
    expect((await writePortTarget(suite.topology)).member).toBe(before.leader);
  });
});
