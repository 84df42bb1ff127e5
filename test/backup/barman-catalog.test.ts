import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { runLabBarman } from '../../src/lab/lab.js';
import type { LabTopology } from '../../src/lab/topology.js';
import { BarmanAdapter } from '../../src/services/barman.js';
import type { BarmanFilesCatalog } from '../../src/services/barman-catalog.js';
import { parseCatalogOutput, readBarmanCatalog, walUntilNextBackup } from '../../src/services/barman-catalog.js';
import { barmanWalNames } from '../../src/services/restore.js';
import type { BarmanBackup } from '../../src/services/types.js';
import { waitFor } from '../../src/util/wait.js';
import { testLab } from '../support/lab.js';

/**
 * Barman's catalogue read from its files (every backup.info and xlog.db, one `sh` run) instead of Python runs:
 * the parsing and Barman's `list-files --target wal` rule on recorded text, then on the lab against Barman's
 * own `list-backups`, `show-backup` and `list-files` answers.
 */

const info = (fields: Record<string, string>) =>
  Object.entries({ begin_offset: '40', compression: 'None', error: 'None', mode: 'postgres', timeline: '1', ...fields })
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');

// Recorded from the lab (backup.info files of Barman 3.4, trimmed) and an xlog.db with a gap, a later timeline and a history file.
const OUTPUT = [
  '\u001e20261122T040938',
  info({ begin_time: '2026-11-22 04:09:38.352701+00:00', end_time: '2026-11-22 04:09:44.582711+00:00', begin_wal: '00000001000000000000003C', end_wal: '00000001000000000000003C', begin_xlog: '0/3C000028', end_xlog: '0/3D000000', size: '1128815152', status: 'DONE' }),
  '\u001e20261122T040948',
  info({ begin_time: '2026-11-22 04:09:48.439865+00:00', end_time: '2026-11-22 04:09:53.916165+00:00', begin_wal: '00000001000000000000003E', end_wal: '00000001000000000000003F', begin_xlog: '0/3E000028', end_xlog: '0/40000000', size: '1128815150', status: 'DONE' }),
  '\u001e20261122T041500',
  info({ begin_time: '2026-11-22 04:15:00.000000+00:00', end_time: 'None', begin_wal: '000000020000000000000044', end_wal: 'None', status: 'FAILED', error: 'failure copying files (connection lost)', timeline: '2' }),
  '\u001e20261122T041051',
  info({ begin_time: '2026-11-22 04:10:51.896000+00:00', end_time: '2026-11-22 04:10:57.038000+00:00', begin_wal: '000000010000000000000041', end_wal: '000000010000000000000041', begin_xlog: '0/41000028', end_xlog: '0/42000000', size: '1128815151', status: 'DONE' }),
  '\u001eempty-dir',
  '',
  '\u001d',
  '00000001000000000000003C',
  '00000001000000000000003C.00000028.backup',
  '00000001000000000000003D',
  '00000001000000000000003E',
  '00000001000000000000003F',
  // 40 is missing: a gap
  '000000010000000000000041',
  '000000010000000000000042',
  '00000002.history',
  '000000020000000000000042',
  '000000020000000000000043',
  '',
].join('\n');

describe('parseCatalogOutput', () => {
  it("reads every backup.info as show-backup's facts, newest first, and the WAL names in xlog.db's order", () => {
    const catalog = parseCatalogOutput(OUTPUT);
    expect(catalog.backups.map((b) => `${b.id} ${b.status}`)).toEqual(['20261122T041500 FAILED', '20261122T041051 DONE', '20261122T040948 DONE', '20261122T040938 DONE']);
    expect(catalog.backups[2]).toEqual({
      id: '20261122T040948',
      status: 'DONE',
      beginTime: '2026-11-22T04:09:48.439Z',
      endTime: '2026-11-22T04:09:53.916Z',
      beginWal: '00000001000000000000003E',
      endWal: '00000001000000000000003F',
      beginLsn: '0/3E000028',
      endLsn: '0/40000000',
      timeline: 1,
      sizeBytes: 1128815150,
      durationSeconds: 5.477,
    } satisfies BarmanBackup);
    expect(catalog.backups[0]?.error).toBe('failure copying files (connection lost)');
    expect(catalog.walNames[0]).toBe('00000001000000000000003C');
    expect(catalog.walNames).toEqual(OUTPUT.slice(OUTPUT.indexOf('\u001d') + 2).split('\n').filter(Boolean));
    expect(catalog.walNames).toContain('00000002.history');
    expect(catalog.walNames).toHaveLength(10);
  });

  it('refuses output without its WAL part (the script did not finish)', () => {
    expect(() => parseCatalogOutput('\u001e20261122T040938\nstatus=DONE\n')).toThrow(/no WAL part/);
  });
});

describe('walUntilNextBackup (Barman’s list-files --target wal)', () => {
  const catalog: BarmanFilesCatalog = parseCatalogOutput(OUTPUT);
  it('the backup’s timeline from its begin WAL up to the end WAL of the next backup whose copy is done; history files archived before the stop', () => {
    // Barman reads xlog.db in order and stops at the first segment past the next backup's end (…41): the
    // .history archived after that is not listed (list-files on the lab does the same).
    expect(walUntilNextBackup(catalog, '20261122T040938')).toEqual(['00000001000000000000003C', '00000001000000000000003D', '00000001000000000000003E', '00000001000000000000003F']);
  });
  it('the newest backup: everything after it, not the later timeline', () => {
    expect(walUntilNextBackup(catalog, '20261122T041051')).toEqual(['00000002.history', '000000010000000000000041', '000000010000000000000042']);
  });
  it('an unknown backup is an error, not an empty list', () => {
    expect(() => walUntilNextBackup(catalog, '20991231T000000')).toThrow(/not in Barman's catalogue/);
  });
});

describe("on the lab: the same answers as Barman's commands", () => {
  let topology: LabTopology;
  let barman: BarmanAdapter;
  beforeAll(async () => {
    topology = testLab();
    const section = loadConfig(topology.paths.cockpitConfig).clusters[0]?.barman;
    if (!section) throw new Error(`${topology.paths.cockpitConfig} has no barman section`);
    barman = BarmanAdapter.fromConfig({ ...section, timeoutMs: 120_000 });
    const listed = await barman.listBackups();
    if (!listed.some((b) => b.status === 'DONE')) {
      const taken = await runLabBarman(topology, ['backup', '--wait', '--wait-timeout', '300', topology.barman.server], 600_000);
      expect(taken.code, taken.stdout + taken.stderr).toBe(0);
    }
  });

  it('lists the backups list-backups lists, with the facts show-backup gives, and each backup’s WAL as list-files does', async () => {
    const paths = await barman.serverPaths();
    const catalog = await readBarmanCatalog(barman.transport, paths);
    const listed = await barman.listBackups();
    expect(catalog.backups.map((b) => `${b.id} ${b.status}`)).toEqual(listed.map((b) => `${b.id} ${b.status}`));
    for (const backup of catalog.backups.filter((b) => b.status === 'DONE')) {
      const shown = await barman.showBackup(backup.id);
      for (const key of ['beginWal', 'endWal', 'beginLsn', 'endLsn', 'timeline', 'sizeBytes'] as const) expect(backup[key], `${backup.id} ${key}`).toEqual(shown[key]);
      // show-backup prints whole seconds; backup.info has Barman's own microseconds.
      for (const key of ['beginTime', 'endTime'] as const) expect(Math.floor(Date.parse(backup[key] as string) / 1000), `${backup.id} ${key}`).toBe(Date.parse(shown[key] as string) / 1000);
      // WAL keeps arriving (the lab archives; an earlier suite's switchover leaves a .history on its way): both
      // answers are read again, Barman's then ours, until they agree on the same archive.
      let last = { ours: [] as string[], theirs: [] as string[] };
      await waitFor(
        `the WAL of ${backup.id} read from the files to equal list-files --target wal`,
        async () => {
          const theirs = [...(await barmanWalNames(barman, topology.barman.server, backup.id))].sort();
          const ours = walUntilNextBackup(await readBarmanCatalog(barman.transport, paths), backup.id).sort();
          last = { ours, theirs };
          return JSON.stringify(ours) === JSON.stringify(theirs) ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, describeFailure: () => `ours only: ${last.ours.filter((n) => !last.theirs.includes(n)).join(', ') || '-'}; list-files only: ${last.theirs.filter((n) => !last.ours.includes(n)).join(', ') || '-'}` },
      );
    }
  });

  it('says which directory is missing', async () => {
    await expect(readBarmanCatalog(barman.transport, { basebackupsDirectory: '/nonexistent/base', walsDirectory: '/nonexistent/wals' })).rejects.toThrow(/\/nonexistent\/base is missing/);
  });
});
