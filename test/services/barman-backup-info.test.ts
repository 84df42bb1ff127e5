import { describe, expect, it } from 'vitest';
import { backupCopySeconds, parseBackupInfo } from '../../src/services/barman-backup-info.js';

/** A backup.info as Barman 3.4 wrote it on the lab (pgbench database, 2026-11-22), shortened to the fields read. */
const DONE = [
  "backup_label='START WAL LOCATION: 0/3E000028 (file 00000001000000000000003E)\\nCHECKPOINT LOCATION: 0/3E000060\\n'",
  'begin_offset=40',
  'begin_time=2026-11-22 01:08:30.959509+00:00',
  'begin_wal=00000001000000000000003E',
  'begin_xlog=0/3E000028',
  "copy_stats={'copy_time': 12.457194, 'total_time': 12.457194}",
  'end_time=2026-11-22 01:08:43.498463+00:00',
  'end_wal=00000001000000000000003E',
  'end_xlog=0/3F000000',
  'error=None',
  'size=1128872285',
  'status=DONE',
  'timeline=1',
  '',
].join('\n');

describe('backup.info', () => {
  it('gives what show-backup gives: status, times, WAL and LSN range, timeline, size', () => {
    expect(parseBackupInfo(DONE, '20261122T010830')).toEqual({
      id: '20261122T010830',
      status: 'DONE',
      beginTime: '2026-11-22T01:08:30.959Z',
      endTime: '2026-11-22T01:08:43.498Z',
      beginWal: '00000001000000000000003E',
      endWal: '00000001000000000000003E',
      beginLsn: '0/3E000028',
      endLsn: '0/3F000000',
      timeline: 1,
      sizeBytes: 1128872285,
      durationSeconds: 12.539,
    });
    expect(backupCopySeconds(DONE)).toBeCloseTo(12.457194);
  });

  it('a backup just started: its status, no end; an unreadable one is an error, not a guess', () => {
    expect(parseBackupInfo('status=STARTED\nbegin_time=None\nerror=None\n', 'b1')).toEqual({ id: 'b1', status: 'STARTED' });
    expect(() => parseBackupInfo('', 'b1')).toThrow(/no status/);
  });
});
