import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BarmanAdapter, barmanCheckSchema, barmanListBackupsSchema, normalizeCheck, normalizeListBackups } from '../../src/services/barman.js';
import { LocalTransport, runAsArgv } from '../../src/services/exec/local.js';
import { shellQuote, sshArgv } from '../../src/services/exec/ssh.js';
import { createTransport } from '../../src/services/exec/transport.js';
import { ServiceError } from '../../src/services/types.js';
import { runLabBarman, testLab } from '../support/lab.js';
import { testLabCluster } from './lab-config.js';

const lab = testLab();
const cluster = testLabCluster();
const barmanConfig = cluster.barman as NonNullable<typeof cluster.barman>;
const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'lab');

describe('Barman on the lab (through the local transport, as the barman account)', () => {
  const barman = BarmanAdapter.fromConfig(barmanConfig);

  beforeAll(async () => {
    // The lab starts without a base backup: take one (real Barman, through the lab's own helper) if none is DONE.
    const listed = await runLabBarman(lab, ['-f', 'json', 'list-backups', lab.barman.server]);
    const backups = (JSON.parse(listed.stdout) as Record<string, Array<{ status: string }>>)[lab.barman.server] ?? [];
    if (!backups.some((b) => b.status === 'DONE')) {
      const result = await runLabBarman(lab, ['backup', '--wait', lab.barman.server], 180_000);
      if (result.code !== 0) throw new Error(`barman backup failed (${result.code}): ${result.stderr}`);
    }
  }, 200_000);

  it('list-backups and show-backup: the lab base backup is DONE, with its WAL range and times', async () => {
    const backups = await barman.listBackups();
    expect(backups.length).toBeGreaterThanOrEqual(1);
    const done = backups.find((b) => b.status === 'DONE');
    expect(done?.id).toMatch(/^\d{8}T\d{6}$/);
    expect(done?.sizeBytes).toBeGreaterThan(0);
    const shown = await barman.showBackup(done?.id as string);
    expect(shown).toMatchObject({ id: done?.id, status: 'DONE' });
    expect(shown.timeline).toBeGreaterThanOrEqual(1);
    expect(shown.beginWal).toMatch(/^[0-9A-F]{24}$/);
    expect(shown.beginLsn).toMatch(/\//);
    expect(Date.parse(shown.beginTime as string)).toBeLessThanOrEqual(Date.parse(shown.endTime as string));
    expect(shown.endTime).toBe(done?.endTime);
  });

  it('status agrees with `barman status` run by the lab helper', async () => {
    const status = await barman.status();
    expect(status.active).toBe(true);
    expect(status.backupCount).toBeGreaterThanOrEqual(1);
    expect(status.firstBackupId).toMatch(/^\d{8}T/);
    const direct = await runLabBarman(lab, ['-f', 'json', 'status', lab.barman.server]);
    const raw = JSON.parse(direct.stdout) as Record<string, Record<string, { message: string }>>;
    expect(status.raw.backups_number).toBe(raw[lab.barman.server]?.backups_number?.message);
  });

  it('check: every check OK on a healthy lab', async () => {
    const check = await barman.check();
    expect(check.checks.length).toBeGreaterThan(5);
    expect(check.checks.filter((c) => !c.ok)).toEqual([]);
    expect(check.ok).toBe(true);
  });

  it('a failing check is a result (ok: false), and a failing command is a ServiceError with its exit code', async () => {
    // A copy of the lab's barman.conf where the server's backup directory is missing: `barman check` fails
    // ("directories" and others) and exits 1. Nothing of the lab is changed.
    const dir = fs.mkdtempSync(path.join(lab.options.dir, 'barman-broken-'));
    fs.chmodSync(dir, 0o755);
    const conf = fs.readFileSync(lab.barman.configFile, 'utf8');
    const brokenHome = path.join(dir, 'home-that-is-not-there');
    const brokenConf = path.join(dir, 'barman.conf');
    const confDir = path.join(dir, 'barman.d');
    fs.mkdirSync(confDir);
    for (const f of fs.readdirSync(lab.barman.confDir)) {
      fs.writeFileSync(path.join(confDir, f), fs.readFileSync(path.join(lab.barman.confDir, f), 'utf8').replace(/^backup_directory.*$/m, `backup_directory = ${brokenHome}`));
    }
    fs.writeFileSync(brokenConf, conf.replace(/^configuration_files_directory.*$/m, `configuration_files_directory = ${confDir}`).replace(/^barman_home.*$/m, `barman_home = ${brokenHome}`).replace(/^log_file.*$/m, `log_file = ${path.join(dir, 'barman.log')}`));
    execFileSync('chmod', ['-R', 'a+rX', dir]);
    try {
      const broken = BarmanAdapter.fromConfig({ ...barmanConfig, config: brokenConf });
      const check = await broken.check();
      expect(check.ok).toBe(false);
      expect(check.checks.some((c) => !c.ok)).toBe(true);
      const unknown = BarmanAdapter.fromConfig({ ...barmanConfig, server: 'no-such-server' });
      const error = await unknown.listBackups().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ source: 'barman', kind: 'failed' });
      expect((error as Error).message).toMatch(/^barman list-backups exited [1-9]\d* on local \(as barman\): /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('normalizes the recorded lab JSON', () => {
    const list = normalizeListBackups(barmanListBackupsSchema.parse(JSON.parse(fs.readFileSync(path.join(fixtures, 'barman-list-backups.json'), 'utf8'))), 'patroni1');
    expect(list[0]).toMatchObject({ status: 'DONE' });
    expect(list[0]?.endTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    const check = normalizeCheck(barmanCheckSchema.parse(JSON.parse(fs.readFileSync(path.join(fixtures, 'barman-check.json'), 'utf8'))), 'patroni1');
    expect(check.ok).toBe(true);
    expect(() => normalizeCheck({ other: {} }, 'patroni1')).toThrow(/no entry for server patroni1/);
  });
});

describe('exec transports', () => {
  it('local: runs as another account (setpriv as root, sudo -n otherwise) with PATH starting at /usr/bin', async () => {
    const asBarman = new LocalTransport({ user: 'barman' });
    const result = await asBarman.exec(['sh', '-c', 'id -un; echo "$PATH"']);
    expect(result.code).toBe(0);
    const [user, pathLine] = result.stdout.trim().split('\n');
    expect(user).toBe('barman');
    expect(pathLine?.startsWith('/usr/bin:')).toBe(true);
    expect(runAsArgv(['barman', 'check'], 'barman', false, { home: '/var/lib/barman' })).toEqual(['sudo', '-n', '-u', 'barman', '--', 'env', 'PATH=/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin', 'LANG=C.UTF-8', 'HOME=/var/lib/barman', 'barman', 'check']);
  });

  it('local: a non-zero exit is a result; a missing command and a timeout are ServiceErrors', async () => {
    const local = new LocalTransport();
    expect(await local.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    await expect(local.exec(['no-such-command-pgcockpit'])).rejects.toMatchObject({ kind: 'failed' });
    const started = Date.now();
    await expect(local.exec(['sleep', '30'], { timeoutMs: 300 })).rejects.toMatchObject({ kind: 'timeout', message: 'sleep 30 on local timed out after 300 ms' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('local: stream delivers lines as they come and ends when the signal aborts', async () => {
    const local = new LocalTransport();
    const lines: string[] = [];
    const controller = new AbortController();
    const done = local.stream(['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.05; done'], (line) => {
      lines.push(line);
      if (lines.length === 3) controller.abort();
    }, { signal: controller.signal });
    const result = await done;
    expect(lines.slice(0, 3)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(result.code).not.toBe(0);
  });

  it('ssh: BatchMode, port, options, and argv quoted so the remote shell sees the same words', () => {
    const words = ['barman', '-f', 'json', "it's", 'a b', '$(reboot)', '`id`', '*', ''];
    const argv = sshArgv({ host: 'barman@backup1', port: 2222, options: ['-i', '/k'] }, words);
    expect(argv.slice(0, 10)).toEqual(['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-p', '2222', '-i', '/k', '--']);
    expect(argv[10]).toBe('barman@backup1');
    // What the remote shell would do with the command string: run it through a local sh and compare the words.
    const echoed = execFileSync('sh', ['-c', `printf '%s\\n' ${words.map(shellQuote).join(' ')}`]).toString();
    expect(echoed.split('\n').slice(0, -1)).toEqual(words);
    expect(argv[11]).toBe(words.map(shellQuote).join(' '));
  });

  it('each kind of config makes its transport (the docker one is exercised in test/services/docker.test.ts)', () => {
    expect(createTransport({ kind: 'docker', container: 'barman' }).description).toMatch(/barman/);
    expect(createTransport({ kind: 'ssh', host: 'backup1' }).description).toBe('ssh backup1');
  });
});
