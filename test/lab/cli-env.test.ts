import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runCli } from '../support/cli.js';
import { testLab } from '../support/lab.js';

describe('pgcockpit lab env and status', () => {
  it('prints exports that take psql to the leader through the write port', async () => {
    const lab = testLab();
    const result = await runCli(['lab', 'env', '--dir', inject('labDir')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`export PGPORT=${lab.haproxy.writePort}`);
    const out = execFileSync('bash', ['-c', `${result.stdout}\npsql -XAtc 'select pg_is_in_recovery()'`]).toString().trim();
    expect(out).toBe('f');
  });

  it('shows every process with its pid, role and ports, and the total memory', async () => {
    const result = await runCli(['lab', 'status', '--dir', inject('labDir')]);
    expect(result.code).toBe(0);
    for (const name of ['etcd1', 'etcd2', 'etcd3', 'db1', 'db2', 'db3', 'haproxy', 'barman-cron']) {
      expect(result.stdout).toMatch(new RegExp(`^${name}\\s+\\d+\\s+yes`, 'm'));
    }
    expect(result.stdout).toMatch(/^db\d\s+\d+\s+yes\s+leader/m);
    expect(result.stdout).toMatch(/total RSS \d+ MiB/);
    expect(result.stdout).toContain('\nready');
  });

  it('answers --help on every lab command and rejects unknown flags with usage', async () => {
    for (const sub of ['up', 'down', 'status', 'destroy', 'load', 'install', 'env']) {
      const help = await runCli(['lab', sub, '--help']);
      expect(help.code, sub).toBe(0);
      expect(help.stdout, sub).toContain(`Usage: pgcockpit lab ${sub}`);
    }
    const bad = await runCli(['lab', 'up', '--port-base', 'abc', '--dir', '/nonexistent/x']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--port-base must be a whole number');
    const unknown = await runCli(['lab', 'up', '--bogus']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
  });
});
