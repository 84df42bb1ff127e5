import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BarmanAdapter, BarmanServerPaths, BarmanStateFingerprint } from '../../src/services/barman.js';
import { BarmanListReader } from '../../src/services/backup-cache.js';
import type { BarmanBackup } from '../../src/services/types.js';
import { ServiceError } from '../../src/services/types.js';

/** A Barman that counts its (Python) runs; the fingerprint is whatever the test sets. */
class FakeBarman {
  readonly transport = { description: 'fake', exec: () => Promise.reject(new Error('unused')), stream: () => Promise.reject(new Error('unused')) };
  runs = { list: 0, paths: 0 };
  fingerprint: BarmanStateFingerprint | Error = { backups: 'b1', wals: 'w1' };
  backups: BarmanBackup[] = [{ id: '20260101T000000', status: 'DONE' }];
  argv(command: string, args: string[]): string[] {
    return ['barman', '-f', 'json', command, ...args];
  }
  serverPaths(): Promise<BarmanServerPaths> {
    this.runs.paths += 1;
    return Promise.resolve({ basebackupsDirectory: '/b/base', walsDirectory: '/b/wals' });
  }
  stateFingerprint(): Promise<BarmanStateFingerprint> {
    return this.fingerprint instanceof Error ? Promise.reject(this.fingerprint) : Promise.resolve(this.fingerprint);
  }
  listBackups(): Promise<BarmanBackup[]> {
    this.runs.list += 1;
    return Promise.resolve(this.backups.map((b) => ({ ...b })));
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function reader(barman: FakeBarman, now: { t: number }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgc-list-cache-'));
  dirs.push(dir);
  return new BarmanListReader(barman as unknown as BarmanAdapter, dir, { walRefreshMs: 60_000, now: () => now.t });
}

describe('BarmanListReader: list-backups from disk while Barman state is unchanged', () => {
  it('runs Barman once, then answers from disk; a backup change (backup.info) always goes to Barman', async () => {
    const barman = new FakeBarman();
    const now = { t: 1_000_000 };
    const list = reader(barman, now);
    expect(await list.listBackups()).toEqual(barman.backups);
    expect(await list.listBackups()).toEqual(barman.backups);
    expect(barman.runs).toEqual({ list: 1, paths: 1 });
    barman.backups = [...barman.backups, { id: '20260102T000000', status: 'STARTED' }];
    barman.fingerprint = { backups: 'b2', wals: 'w1' };
    expect((await list.listBackups()).map((b) => b.id)).toEqual(['20260101T000000', '20260102T000000']);
    expect(barman.runs.list).toBe(2);
  });

  it('WAL-only changes keep the list for walRefreshMs, then refresh it', async () => {
    const barman = new FakeBarman();
    const now = { t: 1_000_000 };
    const list = reader(barman, now);
    await list.listBackups();
    barman.fingerprint = { backups: 'b1', wals: 'w2' };
    now.t += 30_000;
    await list.listBackups();
    expect(barman.runs.list).toBe(1);
    now.t += 31_000;
    await list.listBackups();
    expect(barman.runs.list).toBe(2);
  });

  it('without a fingerprint (a host that cannot stat) it asks Barman every time and re-learns the paths', async () => {
    const barman = new FakeBarman();
    barman.fingerprint = new ServiceError('barman', 'failed', 'cannot read state');
    const list = reader(barman, { t: 1 });
    await list.listBackups();
    await list.listBackups();
    expect(barman.runs).toEqual({ list: 2, paths: 2 });
  });
});
