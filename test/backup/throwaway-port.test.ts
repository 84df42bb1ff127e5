import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setThrowawayPort, throwawayConfig } from '../../src/services/restore.js';

/** A side restore whose port was taken between the check and the bind starts again on another: its postgresql.conf's port moves, nothing else. */

let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('setThrowawayPort', () => {
  it("moves the port line of the configuration written for a side restore, and only it", () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-port-'));
    const control = { maxConnections: 100, maxWorkerProcesses: 8, maxWalSenders: 10, maxPreparedXacts: 0, maxLocksPerXact: 64 };
    const written = throwawayConfig({ port: 25400, socketDir: dir, hbaFile: path.join(dir, 'pg_hba.conf'), identFile: path.join(dir, 'pg_ident.conf'), control, clusterName: 'pgcockpit-r1' }, 'a test');
    fs.writeFileSync(path.join(dir, 'postgresql.conf'), written);
    setThrowawayPort(dir, 25417);
    const after = fs.readFileSync(path.join(dir, 'postgresql.conf'), 'utf8');
    expect(after).toContain('\nport = 25417\n');
    expect(after.replace('port = 25417', 'port = 25400')).toBe(written);
  });

  it('refuses a configuration it did not write (no port line of its own)', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-port-'));
    fs.writeFileSync(path.join(dir, 'postgresql.conf'), "include 'postgresql.base.conf'\n");
    expect(() => setThrowawayPort(dir as string, 25417)).toThrow(/no port line written by pgcockpit/);
  });
});
