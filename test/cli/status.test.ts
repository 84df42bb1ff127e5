import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { StatusJson } from '../../src/cli/status-format.js';
import { runCli } from '../support/cli.js';
import { waitFor } from '../../src/util/wait.js';
import { patronictl, waitHealthy } from '../support/lab-faults.js';
import { runLabBarman, testLab } from '../support/lab.js';

const run = promisify(execFile);
const lab = testLab();
const config = path.join(inject('labDir'), 'pgcockpit.yaml');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-config-'));

function writeConfig(name: string, text: string): string {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('pgcockpit status and check on the lab', () => {
  it('`status --json` agrees with `patronictl list -f json` taken at the same moment', async () => {
    await waitHealthy(lab);
    const { command, config: patroniConfig } = patronictl(lab);
    type Listed = { Member: string; Host: string; Role: string; State: string; TL: number; 'Lag in MB'?: number };
    // Patroni's lag comes from the positions members publish in the DCS once per loop (10 s), ours from the
    // leader's pg_stat_replication: right after a WAL switch they can differ by a segment until the next loop.
    // Members, roles and timelines must agree on every pair of readings; lag once both have settled.
    const pair = await waitFor(
      'status --json and patronictl to agree',
      async () => {
        const [ours, theirs] = await Promise.all([
          runCli(['status', '--json', '--config', config]),
          run(command, ['-c', patroniConfig, 'list', '-f', 'json'], { env: { ...process.env, PATH: '/usr/bin:/bin' } }),
        ]);
        expect(ours.code, ours.stderr).toBe(0);
        const status = JSON.parse(ours.stdout) as StatusJson;
        const list = JSON.parse(theirs.stdout) as Listed[];
        expect(status.members.map((m) => m.name).sort()).toEqual(list.map((l) => l.Member).sort());
        for (const l of list) {
          const m = status.members.find((x) => x.name === l.Member);
          expect(`${m?.host}:${m?.port}`).toBe(l.Host);
          expect(m?.role).toBe(l.Role === 'Leader' ? 'leader' : 'replica');
          expect(m?.timeline).toBe(l.TL);
        }
        expect(status.leader).toBe(list.find((l) => l.Role === 'Leader')?.Member);
        const lagAgrees = list.every((l) => {
          const m = status.members.find((x) => x.name === l.Member);
          return l['Lag in MB'] === undefined || Math.abs((m?.replayLagBytes ?? 0) / 1048576 - l['Lag in MB']) <= 1;
        });
        return lagAgrees ? { status, stdout: ours.stdout } : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 1000 },
    );
    expect(pair.status.schema).toBe('pgcockpit.status/v1');
    expect(pair.status.etcd?.quorum).toBe('healthy');
    expect(pair.status.haproxy?.write).toEqual([pair.status.leader]);
    expect(pair.stdout).not.toContain(fs.readFileSync(path.join(inject('labDir'), 'secrets', 'postgres.password'), 'utf8').trim());
  });

  it('`status` prints the member table, routing and archiving', async () => {
    const result = await runCli(['status', '--config', config]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Cluster lab \(patroni1\) · leader db\d · TL \d+ · etcd 3\/3 healthy · write → db\d · read → db\d, db\d/);
    expect(result.stdout).toMatch(/^db\d\s+127\.0\.0\.1:\d+\s+Leader\s+running/m);
    expect(result.stdout).toMatch(/^db\d\s+127\.0\.0\.1:\d+\s+Replica\s+streaming/m);
    expect(result.stdout).toMatch(/^Archiving on db\d: ok · last [0-9A-F]{24}/m);
  });

  it('`check` passes every check on a healthy lab with exit code 0', async () => {
    // A lab starts without a base backup (and `check` rightly warns about that): take one first.
    const backup = await runLabBarman(lab, ['backup', '--wait', lab.barman.server], 180_000);
    expect(backup.code, backup.stderr).toBe(0);
    const result = await runCli(['check', '--config', config]);
    expect(result.stdout).toMatch(/^OK\s+leader\s+leader db\d, one primary$/m);
    expect(result.stdout).toMatch(/^OK\s+replication\s+2 replicas streaming$/m);
    expect(result.stdout).toMatch(/^OK\s+etcd\s+quorum healthy \(3\/3\)$/m);
    expect(result.code, result.stdout).toBe(0);
    const json = await runCli(['check', '--json', '--config', config]);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'OK', exitCode: 0 });
  });
});

describe('bad config and unreachable clusters', () => {
  it('malformed YAML names the file and the line', async () => {
    const file = writeConfig('broken.yaml', 'clusters:\n  - name: x\n    scope: [unclosed\n');
    const result = await runCli(['status', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`${file}: line \\d+, column \\d+: `));
    expect(result.stderr).toContain('not valid YAML');
  });

  it('a wrong key says which key, its line and what is wrong; an inline password is refused', async () => {
    const file = writeConfig(
      'wrong.yaml',
      ['clusters:', '  - name: lab', '    scope: patroni1', '    patroni:', '      endpoints: [ftp://x]', '    etcd:', '      endpoints: [http://127.0.0.1:1]', '    postgres:', '      password: hunter2', ''].join('\n'),
    );
    const result = await runCli(['status', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('clusters[0].patroni.endpoints[0] (line 5): must be an http:// or https:// URL');
    expect(result.stderr).toContain('clusters[0].postgres.password (line 9): inline passwords are not allowed');
    expect(result.stderr).not.toContain('hunter2');
  });

  it('an unknown cluster name lists the ones there are', async () => {
    const result = await runCli(['status', '--config', config, '--cluster', 'nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no cluster named "nope" (the config has: lab)');
  });

  it('an unreachable cluster: status marks every source STALE with its error, check says UNKNOWN (3)', async () => {
    const file = writeConfig(
      'unreachable.yaml',
      [
        'clusters:',
        '  - name: gone',
        '    scope: patroni1',
        '    patroni: { endpoints: [http://127.0.0.1:9], timeoutMs: 500 }',
        '    etcd: { endpoints: [http://127.0.0.1:9], timeoutMs: 500 }',
        '    postgres: { timeoutMs: 500 }',
        '',
      ].join('\n'),
    );
    const status = await runCli(['status', '--config', file]);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/^STALE patroni for [\d.]+ m?s: Patroni REST http:\/\/127\.0\.0\.1:9 refused the connection$/m);
    expect(status.stdout).toMatch(/^STALE dcs for [\d.]+ m?s: etcd http:\/\/127\.0\.0\.1:9 refused the connection/m);
    const check = await runCli(['check', '--config', file]);
    expect(check.code).toBe(3);
    expect(check.stdout).toMatch(/^UNKNOWN\s+cluster\s+no member could be read: /m);
  });
});
