import { describe, expect, it } from 'vitest';
import { labSuperuserPassword } from '../../src/lab/lab.js';
import { countLostCommits, runLoad } from '../../src/lab/load.js';
import { runCli } from '../support/cli.js';
import { testLab } from '../support/lab.js';
import { inject } from 'vitest';

describe('lab load', () => {
  it('writes through the write port and every acknowledged commit is on the leader', async () => {
    const lab = testLab();
    const target = { host: lab.host, port: lab.haproxy.writePort, user: 'postgres', password: labSuperuserPassword(lab), database: 'postgres' };
    const report = await runLoad({ target, ratePerSecond: 100, durationMs: 1500 });
    expect(report.errors).toBe(0);
    expect(report.acknowledged).toBeGreaterThan(50);
    expect(report.acknowledgedSeqs).toHaveLength(report.acknowledged);
    expect(await countLostCommits(target, report)).toEqual({ present: report.acknowledged, lost: 0 });
  });

  it('reports its acknowledged commits from the CLI', async () => {
    const result = await runCli(['lab', 'load', '--dir', inject('labDir'), '--rate', '50', '--duration', '1.5', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { acknowledged: number; errors: number };
    expect(summary.errors).toBe(0);
    expect(summary.acknowledged).toBeGreaterThan(20);
  });
});
