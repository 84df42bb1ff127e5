import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { labDestroy, labDown, labStatus } from '../../src/lab/lab.js';
import { readLabState } from '../../src/lab/lab-state.js';
import { isPortFree } from '../../src/lab/ports.js';
import { isOurProcessAlive } from '../../src/lab/processes.js';
import { labPorts, labTopology } from '../../src/lab/topology.js';
import { waitFor } from '../../src/util/wait.js';
import { runCli } from '../support/cli.js';

// A second, 2-member lab beside the shared one, on its own ports, to exercise up/down/destroy themselves.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-lifecycle-'));
const portBase = inject('labPortBase') + 1000;
const topology = labTopology({ dir, portBase, members: 2, restAuth: false });
const upArgs = ['lab', 'up', '--dir', dir, '--port-base', String(portBase), '--members', '2'];

/** Every process on the machine whose command line points into this lab's directory. */
function processesInLab(): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmdline.includes(dir) && state !== 'Z' && !cmdline.includes('vitest')) found.push(`${entry}: ${cmdline}`);
    } catch {
      /* gone */
    }
  }
  return found;
}

afterAll(async () => {
  await labDestroy(dir, () => undefined).catch(() => undefined);
});

describe('lab lifecycle and bad input', () => {
  it('`down` with nothing running says so and changes nothing', async () => {
    const result = await runCli(['lab', 'down', '--dir', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('nothing to stop');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('`up` with a port taken names the port and who holds it, and starts nothing', async () => {
    const squatter = net.createServer();
    const port = topology.etcd[1]?.clientPort as number;
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const result = await runCli(upArgs);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`port ${port} (etcd2 client) is in use by pid ${process.pid}`);
      expect(result.stderr).toContain('--port-base');
      expect(processesInLab()).toEqual([]);
      const state = readLabState(topology.paths.stateFile);
      expect(Object.keys(state?.processes ?? {})).toEqual([]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  it('refuses a second `up` while the first runs, then the first brings the lab up', async () => {
    const first = runCli(upArgs);
    await waitFor('the first up to take the lab lock', () => (fs.existsSync(topology.paths.lockFile) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    const second = await runCli(upArgs);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another 'pgcockpit lab up' is running on this lab \(pid \d+/);
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/lab ready in [\d.]+ s: leader db[12], streaming db[12]/);
    const status = await labStatus(dir);
    expect(status.readiness?.ready).toBe(true);
    expect(status.processes.every((p) => p.alive)).toBe(true);
  });

  it('`up` again is idempotent: nothing new is started', async () => {
    const before = readLabState(topology.paths.stateFile);
    const result = await runCli([...upArgs, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { started: string[]; alreadyRunning: string[] };
    expect(report.started).toEqual([]);
    expect(report.alreadyRunning.sort()).toEqual(Object.keys(before?.processes ?? {}).sort());
  });

  it('after `down`, no lab process is alive and every port is free, even with a Patroni killed -9', async () => {
    const state = readLabState(topology.paths.stateFile);
    const records = Object.values(state?.processes ?? {});
    expect(records.length).toBe(3 + 2 + 2);
    // A Patroni killed -9 leaves its PostgreSQL running (Patroni starts it detached): down must stop it too.
    const replica = (await labStatus(dir)).processes.find((p) => p.kind === 'patroni' && p.role === 'replica');
    expect(replica?.pid).toBeTypeOf('number');
    process.kill(replica?.pid as number, 'SIGKILL');
    await waitFor('the killed Patroni to be gone', () => (isOurProcessAlive(replica?.pid as number, dir) ? undefined : true), {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(processesInLab().some((p) => p.includes('postgres -D') && p.includes(`members/${replica?.name}/data`))).toBe(true);
    const result = await labDown(dir, () => undefined);
    expect(result.stopped.sort()).toEqual(records.map((r) => r.name).filter((n) => n !== replica?.name).sort());
    for (const record of records) expect(isOurProcessAlive(record.pid, record.marker), record.name).toBe(false);
    expect(processesInLab()).toEqual([]);
    for (const { port, owner } of labPorts(topology)) expect(await isPortFree(port, '127.0.0.1'), owner).toBe(true);
    // the data stays
    expect(fs.existsSync(path.join(topology.members[0]?.dataDir ?? '', 'PG_VERSION'))).toBe(true);
  });

  it('`destroy` refuses without --yes off a terminal, and removes the lab with it', async () => {
    const refused = await runCli(['lab', 'destroy', '--dir', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('without --yes');
    expect(fs.existsSync(dir)).toBe(true);
    const destroyed = await runCli(['lab', 'destroy', '--dir', dir, '--yes']);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
