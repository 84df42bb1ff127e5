import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { labDestroy, labUp } from '../../src/lab/lab.js';
import type { LabTopology } from '../../src/lab/topology.js';
import { runCli } from '../support/cli.js';
import type { OpsWorkspace } from './support.js';
import { openOps, opsWorkspace, waitForSnapshot, waitHealthy } from './support.js';

/**
 * Patroni REST authentication, on a SEPARATE 2-member lab started with --rest-auth (port base + 2000),
 * destroyed after: a missing or a wrong password is a refusal that says 401 and changes nothing; the
 * right one (from the lab's passwordFile) works.
 */

const log = (line: string) => process.stderr.write(`[auth lab] ${line}\n`);
let dir: string;
let topology: LabTopology;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-auth-lab-'));
  try {
    topology = (await labUp({ dir, portBase: inject('labPortBase') + 2000, members: 2, restAuth: true }, log)).topology;
  } catch (error) {
    await labDestroy(dir, log).catch(() => fs.rmSync(dir, { recursive: true, force: true }));
    throw error;
  }
}, 300_000);

afterAll(async () => {
  if (topology) await labDestroy(dir, log);
  else if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 180_000);

function workspaceWith(edit: (yaml: string) => string): OpsWorkspace {
  return opsWorkspace(dir, edit);
}

describe('Patroni REST authentication (lab with --rest-auth)', () => {
  it('no password configured: the switchover is refused with 401, nothing changes', async () => {
    const { leader } = await waitHealthy(topology);
    const workspace = workspaceWith((yaml) => yaml.replace(/\n\s+auth:\n\s+username: patroni\n\s+passwordFile: .*\n/, '\n'));
    try {
      expect(fs.readFileSync(workspace.config, 'utf8')).not.toContain('passwordFile: ' + path.join(dir, 'secrets', 'patroni-rest.password'));
      const result = await runCli(['switchover', '--config', workspace.config, '--yes', '--json']);
      expect(result.code, result.stderr).toBe(1);
      const doc = JSON.parse(result.stdout) as { status: string; reasons: Array<{ code: string; message: string }> };
      expect(doc.status).toBe('refused');
      expect(doc.reasons[0]?.code).toBe('rest-auth');
      expect(doc.reasons[0]?.message).toMatch(/401 unauthorized/);
      expect((await waitHealthy(topology)).leader).toBe(leader);
    } finally {
      fs.rmSync(workspace.dir, { recursive: true, force: true });
    }
  });

  it('a wrong password: refused with 401, nothing changes, and the password is not in the audit log', async () => {
    const { leader } = await waitHealthy(topology);
    const wrongFile = path.join(os.tmpdir(), `pgcockpit-wrong-${process.pid}.password`);
    fs.writeFileSync(wrongFile, 'definitely-not-the-password\n', { mode: 0o600 });
    const workspace = workspaceWith((yaml) => yaml.replace(/passwordFile: .*patroni-rest\.password/, `passwordFile: ${wrongFile}`));
    try {
      const result = await runCli(['pause', '--config', workspace.config]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(/refused PATCH \/config \(401 unauthorized: check patroni\.auth in the config\)/);
      expect((await waitHealthy(topology)).leader).toBe(leader);
      const ops = await openOps(workspace);
      try {
        expect((await ops.context.patroni.getCluster()).paused).toBe(false);
      } finally {
        await ops.close();
      }
      expect(fs.readFileSync(workspace.auditLog, 'utf8')).not.toContain('definitely-not-the-password');
    } finally {
      fs.rmSync(wrongFile, { force: true });
      fs.rmSync(workspace.dir, { recursive: true, force: true });
    }
  });

  it('the right password (passwordFile from the lab config): pause and resume work', async () => {
    const workspace = workspaceWith((yaml) => yaml);
    const ops = await openOps(workspace);
    try {
      const paused = await ops.runner.run({ operation: 'pause', params: {} });
      expect(paused.status, paused.error ?? JSON.stringify(paused.reasons)).toBe('done');
      expect((await ops.context.patroni.getCluster()).paused).toBe(true);
      ops.store.refresh();
      await waitForSnapshot(ops.store, 'the cluster paused', (s) => s.paused);
      const resumed = await ops.runner.run({ operation: 'resume', params: {} });
      expect(resumed.status, resumed.error ?? JSON.stringify(resumed.reasons)).toBe('done');
      expect((await ops.context.patroni.getCluster()).paused).toBe(false);
    } finally {
      await ops.close();
      fs.rmSync(workspace.dir, { recursive: true, force: true });
    }
    expect((await waitHealthy(topology)).ready).toBe(true);
  });
});
