import { describe, expect, it } from 'vitest';
import type { BackupCatalog } from '../../src/ops/pitr-target.js';
import {
  barmanTargetArgs,
  decodeSegment,
  findWalGaps,
  parseTarget,
  parseTargetTime,
  segmentName,
  selectBackup,
  validatePitrTarget,
  walEndPosition,
} from '../../src/ops/pitr-target.js';
import { recoveryLines, throwawayConfig } from '../../src/services/restore.js';

const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const minutes = (n: number) => n * 60_000;
const iso = (at: number) => new Date(at).toISOString();

/** Two DONE backups (10:00–10:05, 12:00–12:05), one FAILED, archive up to 13:00. */
function catalog(extra: Partial<BackupCatalog> = {}): BackupCatalog {
  return {
    backups: [
      { id: '20261121T120000', status: 'DONE', beginTime: iso(T0 + minutes(120)), endTime: iso(T0 + minutes(125)), beginWal: '000000010000000000000010', endWal: '000000010000000000000011', beginLsn: '0/10000028', endLsn: '0/11000100', timeline: 1 },
      { id: '20261121T110000', status: 'FAILED', beginTime: iso(T0 + minutes(60)) },
      { id: '20261121T100000', status: 'DONE', beginTime: iso(T0), endTime: iso(T0 + minutes(5)), beginWal: '000000010000000000000002', endWal: '000000010000000000000003', beginLsn: '0/2000028', endLsn: '0/3000100', timeline: 1 },
    ],
    lastArchivedWal: '000000010000000000000020',
    lastArchivedAt: T0 + minutes(180),
    ...extra,
  };
}

const now = T0 + minutes(200);
const time = (at: number) => {
  const parsed = parseTarget({ toTime: iso(at) });
  if (!parsed.ok) throw new Error(parsed.reason.message);
  return parsed.target;
};

describe('parseTarget', () => {
  it('reads times with their zone, UTC, and local time without a zone', () => {
    expect(parseTargetTime('2026-11-21T22:00:00+01:00')?.at).toBe(Date.UTC(2026, 10, 21, 21, 0, 0));
    expect(parseTargetTime('2026-11-21 21:00:00.250Z')?.at).toBe(Date.UTC(2026, 10, 21, 21, 0, 0, 250));
    expect(parseTargetTime('2026-11-21 21:00:00 UTC')?.at).toBe(Date.UTC(2026, 10, 21, 21, 0, 0));
    expect(parseTargetTime('2026-11-21T21:00-0530')?.at).toBe(Date.UTC(2026, 10, 22, 2, 30, 0));
    const local = parseTargetTime('2026-11-21 21:00:00');
    expect(local).toEqual({ at: new Date(2026, 10, 21, 21, 0, 0).getTime(), zoneGiven: false });
  });

  it('refuses malformed targets with the reason', () => {
    for (const bad of ['yesterday', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-11-21T25:00:00Z', '2026-11-21T10:00:00+15:00']) {
      const parsed = parseTarget({ toTime: bad });
      expect(parsed.ok, bad).toBe(false);
      if (!parsed.ok) expect(parsed.reason.code).toBe('target-malformed');
    }
    expect(parseTarget({ toLsn: '0/XYZ' })).toMatchObject({ ok: false, reason: { code: 'target-malformed' } });
    expect(parseTarget({ toXid: '-3' })).toMatchObject({ ok: false, reason: { code: 'target-malformed' } });
    expect(parseTarget({ toName: "it's" })).toMatchObject({ ok: false, reason: { code: 'target-malformed' } });
    expect(parseTarget({})).toMatchObject({ ok: false, reason: { message: expect.stringContaining('no recovery target') } });
    expect(parseTarget({ toXid: '5', toName: 'x' })).toMatchObject({ ok: false, reason: { message: expect.stringContaining('more than one') } });
  });

  it('reads LSNs, xids, names and end of backup', () => {
    expect(parseTarget({ toLsn: '0/3000060' })).toMatchObject({ ok: true, target: { kind: 'lsn', lsn: '0/3000060', position: 0x3000060 } });
    expect(parseTarget({ toXid: '1234' })).toMatchObject({ ok: true, target: { kind: 'xid', xid: '1234' } });
    expect(parseTarget({ toName: 'before-migration' })).toMatchObject({ ok: true, target: { kind: 'name', name: 'before-migration' } });
    expect(parseTarget({ endOfBackup: true })).toMatchObject({ ok: true, target: { kind: 'end-of-backup' } });
  });
});

describe('selectBackup', () => {
  it('picks the newest DONE backup that ends before the target', () => {
    expect(selectBackup(time(T0 + minutes(130)), catalog().backups)?.id).toBe('20261121T120000');
    expect(selectBackup(time(T0 + minutes(90)), catalog().backups)?.id).toBe('20261121T100000');
    expect(selectBackup(time(T0 + minutes(122)), catalog().backups)?.id).toBe('20261121T100000');
    expect(selectBackup(time(T0 - minutes(1)), catalog().backups)).toBeUndefined();
  });
  it('by LSN, and the newest for xid, names and end of backup', () => {
    const lsn = parseTarget({ toLsn: '0/5000000' });
    if (!lsn.ok) throw new Error();
    expect(selectBackup(lsn.target, catalog().backups)?.id).toBe('20261121T100000');
    expect(selectBackup({ kind: 'end-of-backup' }, catalog().backups)?.id).toBe('20261121T120000');
  });
});

describe('validatePitrTarget', () => {
  const strict = { now, strict: true };

  it('accepts a target inside the window, with the backup it picked', () => {
    const v = validatePitrTarget(time(T0 + minutes(150)), catalog(), strict);
    expect(v.blockers).toEqual([]);
    expect(v.backup?.id).toBe('20261121T120000');
  });

  it('refuses a target before the oldest backup ends, with the window in UTC', () => {
    const v = validatePitrTarget(time(T0 + minutes(2)), catalog(), strict);
    expect(v.blockers.map((b) => b.code)).toEqual(['target-before-window']);
    expect(v.blockers[0]?.message).toContain('valid window: 2026-11-21 10:05:00.000 UTC');
    expect(v.blockers[0]?.message).toContain('13:00:00.000 UTC');
  });

  it('refuses a target before the end of the chosen backup', () => {
    const v = validatePitrTarget(time(T0 + minutes(60)), catalog(), { ...strict, backupId: '20261121T120000' });
    expect(v.blockers.map((b) => b.code)).toEqual(['target-before-backup']);
    expect(v.blockers[0]?.message).toContain('before the end of backup 20261121T120000');
  });

  it('refuses a target in the future', () => {
    expect(validatePitrTarget(time(now + minutes(10)), catalog(), strict).blockers.map((b) => b.code)).toEqual(['target-in-future']);
  });

  it('after the last archived WAL: refused when strict, a WAL switch when lenient', () => {
    const at = time(T0 + minutes(190));
    expect(validatePitrTarget(at, catalog(), strict).blockers.map((b) => b.code)).toEqual(['target-after-archive']);
    const lenient = validatePitrTarget(at, catalog(), { now, strict: false });
    expect(lenient.blockers).toEqual([]);
    expect(lenient.needsWalSwitch).toBe(true);
    const beyond = parseTarget({ toLsn: 'FF/0' });
    if (!beyond.ok) throw new Error();
    expect(validatePitrTarget(beyond.target, catalog(), strict).blockers.map((b) => b.code)).toEqual(['target-after-archive']);
  });

  it('refuses an unknown or unfinished backup id, listing the DONE ones', () => {
    const v = validatePitrTarget(time(T0 + minutes(150)), catalog(), { ...strict, backupId: 'nope' });
    expect(v.blockers[0]).toMatchObject({ code: 'unknown-backup', message: expect.stringContaining('20261121T100000, 20261121T120000') });
    expect(validatePitrTarget(time(T0 + minutes(150)), catalog(), { ...strict, backupId: '20261121T110000' }).blockers[0]?.code).toBe('backup-not-done');
  });

  it('refuses with no DONE backup at all', () => {
    expect(validatePitrTarget(time(T0), { backups: [] }, strict).blockers[0]?.code).toBe('no-backup');
  });

  it('refuses across a WAL gap after the backup, not one before it', () => {
    const gaps = findWalGaps(['000000010000000000000010', '000000010000000000000011', '000000010000000000000014', '000000010000000000000015']);
    expect(gaps).toEqual([{ timeline: 1, after: '000000010000000000000011', firstMissing: '000000010000000000000012', missingCount: 2 }]);
    const v = validatePitrTarget(time(T0 + minutes(150)), catalog({ walGaps: gaps }), strict);
    expect(v.blockers.map((b) => b.code)).toEqual(['wal-gap']);
    expect(v.blockers[0]?.message).toContain('2 segments missing from 000000010000000000000012');
    const early = findWalGaps(['000000010000000000000001', '000000010000000000000005']);
    expect(validatePitrTarget(time(T0 + minutes(150)), catalog({ walGaps: early }), strict).blockers).toEqual([]);
  });

  it('warns that xid and restore point targets are placed only by replaying WAL', () => {
    const xid = parseTarget({ toXid: '900' });
    if (!xid.ok) throw new Error();
    const v = validatePitrTarget(xid.target, catalog(), strict);
    expect(v.blockers).toEqual([]);
    expect(v.warnings[0]?.code).toBe('target-unverifiable');
  });
});

describe('WAL names and Barman arguments', () => {
  it('decodes and encodes segment names across the 4 GiB boundary', () => {
    expect(decodeSegment('0000000200000001000000FF')).toEqual({ timeline: 2, segment: 0x1ff });
    expect(segmentName(2, 0x200)).toBe('000000020000000200000000');
    expect(findWalGaps(['0000000100000001000000FF', '000000010000000200000000', '00000002.history'])).toEqual([]);
    expect(walEndPosition('000000010000000000000006.00000028.backup')).toBe(7 * 16 * 1024 * 1024);
  });
  it('gives Barman an explicit UTC time and follows the latest timeline', () => {
    expect(barmanTargetArgs(time(Date.UTC(2026, 10, 21, 21, 0, 0, 5)))).toEqual(['--target-time', '2026-11-21 21:00:00.005+00:00', '--target-tli', 'latest']);
    expect(barmanTargetArgs({ kind: 'end-of-backup' })).toEqual(['--target-immediate']);
  });
  it("keeps only Barman's recovery settings of postgresql.auto.conf", () => {
    expect(recoveryLines(["archive_command = 'x'", "restore_command = 'cp barman_wal/%f %p'", "recovery_target_time = '2026-11-21'", "primary_conninfo = 'host=db1'"].join('\n'))).toEqual([
      "restore_command = 'cp barman_wal/%f %p'",
      "recovery_target_time = '2026-11-21'",
    ]);
  });
  it('writes a restored server configuration that points nowhere into the cluster', () => {
    const text = throwawayConfig({ port: 25401, socketDir: '/r/x', hbaFile: '/r/x/data/pg_hba.conf', identFile: '/r/x/data/pg_ident.conf', control: { maxConnections: 100, maxWorkerProcesses: 8, maxWalSenders: 10, maxPreparedXacts: 0, maxLocksPerXact: 64 }, clusterName: 'x' }, 'a test');
    expect(text).toContain('port = 25401');
    expect(text).toContain("archive_mode = off");
    expect(text).toContain("primary_conninfo = ''");
    expect(text).not.toMatch(/include/);
    expect(text).toContain("hba_file = '/r/x/data/pg_hba.conf'");
  });
});
