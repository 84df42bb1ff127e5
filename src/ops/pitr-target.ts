import type { BarmanBackup } from '../services/types.js';
import { formatLsn, parseLsn } from '../util/units.js';
import type { Reason } from './types.js';

/**
 * Point-in-time recovery targets, pure: parsing what the operator typed, choosing the backup to restore,
 * and the runbook's red flags as refusals with the valid window ("do not recover to a time before the
 * backup", "do not skip WAL gap warnings"). No I/O here: the catalog is read by the caller (from the
 * snapshot for the precondition check, fresh from Barman when the operation runs).
 */

export type PitrTarget =
  | { kind: 'time'; input: string; at: number; zoneGiven: boolean }
  | { kind: 'lsn'; input: string; lsn: string; position: number }
  | { kind: 'xid'; input: string; xid: string }
  | { kind: 'name'; input: string; name: string }
  | { kind: 'end-of-backup' };

/** The target as the CLI and the modal take it: exactly one of these. */
export interface PitrTargetInput {
  toTime?: string;
  toLsn?: string;
  toXid?: string;
  toName?: string;
  endOfBackup?: boolean;
}

export type ParsedTarget = { ok: true; target: PitrTarget } | { ok: false; reason: Reason };

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i;
const LSN_RE = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;
const NAME_RE = /^[^'"\\\n\r\0]{1,63}$/;

function malformed(message: string): ParsedTarget {
  return { ok: false, reason: { code: 'target-malformed', message } };
}

/**
 * A time with its zone (ISO 8601: `2026-11-21T22:00:00+01:00`, `…Z`, or `2026-11-21 21:00:00`, which is
 * read in the local zone and said so). Returns epoch ms, or undefined when malformed or not a real date.
 */
export function parseTargetTime(input: string): { at: number; zoneGiven: boolean } | undefined {
  const m = TIME_RE.exec(input.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[8];
  let at: number;
  if (!zone) {
    const local = new Date(year, month - 1, day, hour, minute, second, ms);
    if (local.getFullYear() !== year || local.getMonth() !== month - 1 || local.getDate() !== day) return undefined;
    at = local.getTime();
  } else {
    at = Date.UTC(year, month - 1, day, hour, minute, second, ms);
    const check = new Date(at);
    if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
    if (!/^(Z|UTC)$/i.test(zone)) {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
      if (offsetMinutes > 14 * 60) return undefined;
      at -= sign * offsetMinutes * 60_000;
    }
  }
  return { at, zoneGiven: zone !== undefined };
}

/** Parse the operator's target: exactly one kind, well formed. */
export function parseTarget(input: PitrTargetInput): ParsedTarget {
  const given = [input.toTime !== undefined, input.toLsn !== undefined, input.toXid !== undefined, input.toName !== undefined, input.endOfBackup === true].filter(Boolean).length;
  if (given === 0) return malformed('no recovery target: give one of --to-time, --to-lsn, --to-xid, --to-name, --end-of-backup');
  if (given > 1) return malformed('more than one recovery target given: choose one of --to-time, --to-lsn, --to-xid, --to-name, --end-of-backup');
  if (input.endOfBackup) return { ok: true, target: { kind: 'end-of-backup' } };
  if (input.toTime !== undefined) {
    const parsed = parseTargetTime(input.toTime);
    if (!parsed) return malformed(`"${input.toTime}" is not a time: use ISO 8601 with a zone, e.g. 2026-11-21T22:00:00+01:00 or 2026-11-21 21:00:00Z`);
    return { ok: true, target: { kind: 'time', input: input.toTime, at: parsed.at, zoneGiven: parsed.zoneGiven } };
  }
  if (input.toLsn !== undefined) {
    const lsn = input.toLsn.trim();
    const position = LSN_RE.test(lsn) ? parseLsn(lsn) : undefined;
    if (position === undefined) return malformed(`"${input.toLsn}" is not an LSN: write it as PostgreSQL does, e.g. 0/3000060`);
    return { ok: true, target: { kind: 'lsn', input: input.toLsn, lsn: formatLsn(position), position } };
  }
  if (input.toXid !== undefined) {
    const xid = input.toXid.trim();
    if (!/^[1-9]\d{0,19}$/.test(xid) || BigInt(xid) < 3n || BigInt(xid) > 0xffffffffffffffffn) return malformed(`"${input.toXid}" is not a transaction id: a whole number ≥ 3`);
    return { ok: true, target: { kind: 'xid', input: input.toXid, xid } };
  }
  const name = (input.toName ?? '').trim();
  if (!NAME_RE.test(name)) return malformed(`"${input.toName ?? ''}" is not a restore point name: 1 to 63 characters, no quotes or backslashes`);
  return { ok: true, target: { kind: 'name', input: input.toName as string, name } };
}

// ------------------------------------------------------------------ formatting

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2026-11-21 21:00:00.000 UTC`. */
export function formatUtc(at: number): string {
  const d = new Date(at);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)} UTC`;
}

/** `2026-11-21 22:00:00.000 +01:00` in this machine's zone. */
export function formatLocal(at: number): string {
  const d = new Date(at);
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)} ${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** A time in UTC and, when the zone differs, local: "2026-11-21 21:00:00.000 UTC (2026-11-21 22:00:00.000 +01:00 local)". */
export function formatBoth(at: number): string {
  const local = formatLocal(at);
  return new Date(at).getTimezoneOffset() === 0 ? formatUtc(at) : `${formatUtc(at)} (${local} local)`;
}

/** The time as Barman's --target-time and PostgreSQL's recovery_target_time take it: explicit UTC offset. */
export function barmanTargetTime(at: number): string {
  const d = new Date(at);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}+00:00`;
}

export function describeTarget(target: PitrTarget): string {
  switch (target.kind) {
    case 'time':
      return `time ${formatBoth(target.at)}${target.zoneGiven ? '' : ' (no zone given: read as local time)'}`;
    case 'lsn':
      return `LSN ${target.lsn}`;
    case 'xid':
      return `transaction ${target.xid}`;
    case 'name':
      return `restore point "${target.name}"`;
    case 'end-of-backup':
      return 'the end of the backup (first consistent point)';
  }
}

// ------------------------------------------------------------------ the catalog and WAL

/** What the validation knows of Barman's archive. */
export interface BackupCatalog {
  backups: BarmanBackup[];
  /** Name of the last archived WAL file (may be a `.backup` or `.history` file). */
  lastArchivedWal?: string;
  /** When it was archived (epoch ms). */
  lastArchivedAt?: number;
  /** Missing WAL segments found in the archive; undefined when not looked for. */
  walGaps?: WalGap[];
}

export interface WalGap {
  timeline: number;
  /** The last segment present before the gap. */
  after: string;
  /** The first missing segment. */
  firstMissing: string;
  missingCount: number;
}

/** 16 MiB segments (the lab's and PostgreSQL's default). */
export const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;
const SEGMENTS_PER_XLOGID = 0x1_0000_0000 / WAL_SEGMENT_BYTES;

/** A segment file name → timeline and segment number; undefined for .history / .backup / .partial names. */
export function decodeSegment(name: string): { timeline: number; segment: number } | undefined {
  const m = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/i.exec(name);
  if (!m) return undefined;
  return { timeline: parseInt(m[1] as string, 16), segment: parseInt(m[2] as string, 16) * SEGMENTS_PER_XLOGID + parseInt(m[3] as string, 16) };
}

export function segmentName(timeline: number, segment: number): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(Math.floor(segment / SEGMENTS_PER_XLOGID))}${hex(segment % SEGMENTS_PER_XLOGID)}`;
}

/** The LSN at which a WAL file ends (the end of its segment; for `X.0000028.backup` the segment's end too). */
export function walEndPosition(name: string): number | undefined {
  const decoded = decodeSegment(name.slice(0, 24));
  return decoded ? (decoded.segment + 1) * WAL_SEGMENT_BYTES : undefined;
}

/** Gaps in a list of archived WAL names, per timeline (history, backup and partial files ignored). */
export function findWalGaps(names: string[]): WalGap[] {
  const byTimeline = new Map<number, number[]>();
  for (const name of names) {
    const decoded = decodeSegment(name);
    if (!decoded) continue;
    const list = byTimeline.get(decoded.timeline) ?? [];
    list.push(decoded.segment);
    byTimeline.set(decoded.timeline, list);
  }
  const gaps: WalGap[] = [];
  for (const [timeline, segments] of [...byTimeline.entries()].sort((a, b) => a[0] - b[0])) {
    const sorted = [...new Set(segments)].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1] as number;
      const current = sorted[i] as number;
      if (current - previous > 1) {
        gaps.push({ timeline, after: segmentName(timeline, previous), firstMissing: segmentName(timeline, previous + 1), missingCount: current - previous - 1 });
      }
    }
  }
  return gaps;
}

// ------------------------------------------------------------------ validation

export interface RecoveryWindowInfo {
  /** The earliest time a time target can take: the end of the oldest DONE backup. */
  fromAt: number;
  fromBackupId: string;
  /** The last archived WAL's time (when known). */
  toAt?: number;
  toWal?: string;
}

export interface PitrValidation {
  blockers: Reason[];
  warnings: Reason[];
  /** The backup to restore (chosen, or picked: the newest DONE one that ends before the target). */
  backup?: BarmanBackup;
  window?: RecoveryWindowInfo;
  /** The target lies after the last archived WAL but not in the future: a WAL switch must be forced first. */
  needsWalSwitch: boolean;
}

export interface PitrValidationOptions {
  backupId?: string;
  now: number;
  /**
   * Strict: a target after the last archived WAL is refused (after a forced switch). Lenient (the check
   * before running, on the snapshot): it is a warning, and the run switches WAL first, then checks again.
   */
  strict: boolean;
  /** Clock skew tolerated for "in the future" (default 1 s). */
  skewMs?: number;
}

function timeOf(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

export function doneBackups(backups: BarmanBackup[]): BarmanBackup[] {
  return backups.filter((b) => b.status === 'DONE').sort((a, b) => (timeOf(a.endTime) ?? 0) - (timeOf(b.endTime) ?? 0) || a.id.localeCompare(b.id));
}

export function recoveryWindowOf(catalog: BackupCatalog): RecoveryWindowInfo | undefined {
  const done = doneBackups(catalog.backups);
  const oldest = done.find((b) => timeOf(b.endTime) !== undefined);
  if (!oldest) return undefined;
  const window: RecoveryWindowInfo = { fromAt: timeOf(oldest.endTime) as number, fromBackupId: oldest.id };
  // The archive reaches at least the end of the newest backup (its WAL is archived before it is DONE).
  const newestEnd = timeOf(done.at(-1)?.endTime);
  const to = Math.max(catalog.lastArchivedAt ?? -Infinity, newestEnd ?? -Infinity);
  if (Number.isFinite(to)) window.toAt = to;
  if (catalog.lastArchivedWal) window.toWal = catalog.lastArchivedWal;
  return window;
}

export function describeWindow(window: RecoveryWindowInfo | undefined): string {
  if (!window) return 'there is no recovery window: no DONE backup';
  const to = window.toAt !== undefined ? `${formatBoth(window.toAt)}${window.toWal ? ` (WAL ${window.toWal})` : ''}` : 'the last archived WAL (unknown)';
  return `valid window: ${formatBoth(window.fromAt)} (end of backup ${window.fromBackupId}) → ${to}`;
}

/**
 * The backup a target restores from: the newest DONE backup that ends before it (time, LSN), else the
 * newest DONE one (xid, restore point, end of backup: their position is known only by replaying WAL).
 */
export function selectBackup(target: PitrTarget, backups: BarmanBackup[]): BarmanBackup | undefined {
  const done = doneBackups(backups);
  if (target.kind === 'time') return done.filter((b) => (timeOf(b.endTime) ?? Infinity) <= target.at).at(-1);
  if (target.kind === 'lsn') return done.filter((b) => (b.endLsn ? (parseLsn(b.endLsn) ?? Infinity) : Infinity) <= target.position).at(-1);
  return done.at(-1);
}

/** Validate a target against the catalog: refusals with the reason and the valid window. Pure. */
export function validatePitrTarget(target: PitrTarget, catalog: BackupCatalog, options: PitrValidationOptions): PitrValidation {
  const blockers: Reason[] = [];
  const warnings: Reason[] = [];
  const result: PitrValidation = { blockers, warnings, needsWalSwitch: false };
  const done = doneBackups(catalog.backups);
  const window = recoveryWindowOf(catalog);
  if (window) result.window = window;
  const windowText = describeWindow(window);
  if (done.length === 0) {
    blockers.push({ code: 'no-backup', message: `Barman has no DONE backup of this server: there is nothing to recover from (${catalog.backups.length} backup${catalog.backups.length === 1 ? '' : 's'} listed)` });
    return result;
  }

  // The backup: the operator's, or the right one for the target.
  let backup: BarmanBackup | undefined;
  if (options.backupId !== undefined) {
    backup = catalog.backups.find((b) => b.id === options.backupId);
    if (!backup) {
      blockers.push({ code: 'unknown-backup', message: `there is no backup ${options.backupId} (DONE backups: ${done.map((b) => b.id).join(', ')})` });
      return result;
    }
    if (backup.status !== 'DONE') {
      blockers.push({ code: 'backup-not-done', message: `backup ${backup.id} is ${backup.status}, not DONE: it cannot be restored` });
      return result;
    }
  } else {
    backup = selectBackup(target, catalog.backups);
  }

  const skew = options.skewMs ?? 1000;
  const afterArchive = (what: string) => {
    if (options.strict) {
      blockers.push({ code: 'target-after-archive', message: `${what} is after the last archived WAL: recovery cannot reach it (${windowText})` });
    } else {
      result.needsWalSwitch = true;
      warnings.push({ code: 'wal-not-archived', message: `${what} is after the last archived WAL: the current WAL will be switched and archived first, then the target checked again` });
    }
  };

  switch (target.kind) {
    case 'time': {
      const what = `the target ${formatBoth(target.at)}`;
      if (target.at > options.now + skew) {
        blockers.push({ code: 'target-in-future', message: `${what} is in the future (now ${formatBoth(options.now)}): ${windowText}` });
        break;
      }
      if (!target.zoneGiven) warnings.push({ code: 'target-local-time', message: `"${target.input}" has no zone: it was read as local time, ${formatBoth(target.at)}` });
      if (target.at < (window?.fromAt ?? -Infinity)) {
        blockers.push({ code: 'target-before-window', message: `${what} is before the end of the oldest backup ${window?.fromBackupId ?? '?'}: no backup can be recovered to it (${windowText})` });
        break;
      }
      const end = timeOf(backup?.endTime);
      if (backup && end !== undefined && target.at < end) {
        blockers.push({ code: 'target-before-backup', message: `${what} is before the end of backup ${backup.id} (${formatBoth(end)}): recover from an older backup, or choose a later target (${windowText})` });
        break;
      }
      if (catalog.lastArchivedAt !== undefined && target.at > catalog.lastArchivedAt) afterArchive(what);
      break;
    }
    case 'lsn': {
      const what = `the target LSN ${target.lsn}`;
      const oldest = done[0] as BarmanBackup;
      const oldestEnd = oldest.endLsn ? parseLsn(oldest.endLsn) : undefined;
      if (oldestEnd !== undefined && target.position < oldestEnd && options.backupId === undefined) {
        blockers.push({ code: 'target-before-window', message: `${what} is before the end of the oldest backup ${oldest.id} (LSN ${oldest.endLsn}): ${windowText}` });
        break;
      }
      const end = backup?.endLsn ? parseLsn(backup.endLsn) : undefined;
      if (backup && end !== undefined && target.position < end) {
        blockers.push({ code: 'target-before-backup', message: `${what} is before the end of backup ${backup.id} (LSN ${backup.endLsn}): ${windowText}` });
        break;
      }
      const archivedEnd = catalog.lastArchivedWal ? walEndPosition(catalog.lastArchivedWal) : undefined;
      if (archivedEnd !== undefined && target.position >= archivedEnd) afterArchive(`${what} (last archived WAL ${catalog.lastArchivedWal} ends at ${formatLsn(archivedEnd)})`);
      break;
    }
    case 'xid':
    case 'name':
      warnings.push({
        code: 'target-unverifiable',
        message: `${describeTarget(target)} cannot be placed in the window before replaying WAL: if recovery does not find it, the restore stops with that error and nothing in the cluster is touched`,
      });
      break;
    case 'end-of-backup':
      break;
  }
  if (!backup && blockers.length === 0) {
    blockers.push({ code: 'no-backup-before-target', message: `no DONE backup ends before ${describeTarget(target)} (${windowText})` });
  }
  if (backup) result.backup = backup;

  // WAL gaps between the backup's first WAL and the target refuse the recovery (runbook: never skip them).
  if (backup && catalog.walGaps && blockers.length === 0) {
    const begin = backup.beginWal ? decodeSegment(backup.beginWal) : undefined;
    const targetSegment = target.kind === 'lsn' ? Math.floor(target.position / WAL_SEGMENT_BYTES) : undefined;
    const relevant = catalog.walGaps.filter((gap) => {
      const first = decodeSegment(gap.firstMissing);
      if (!first) return false;
      if (begin && first.segment < begin.segment) return false;
      if (target.kind === 'end-of-backup') {
        const end = backup.endWal ? decodeSegment(backup.endWal) : undefined;
        return end ? first.segment <= end.segment : true;
      }
      return targetSegment === undefined || first.segment <= targetSegment;
    });
    for (const gap of relevant) {
      blockers.push({
        code: 'wal-gap',
        message: `WAL gap on timeline ${gap.timeline}: ${gap.missingCount} segment${gap.missingCount === 1 ? '' : 's'} missing from ${gap.firstMissing} (after ${gap.after}), between backup ${backup.id} and the target: recovery would stop at the gap`,
      });
    }
  }
  return result;
}

/** Barman's recover arguments for a target (`--target-…`), with the timeline to follow. */
export function barmanTargetArgs(target: PitrTarget): string[] {
  const common = ['--target-tli', 'latest'];
  switch (target.kind) {
    case 'time':
      return ['--target-time', barmanTargetTime(target.at), ...common];
    case 'lsn':
      return ['--target-lsn', target.lsn, ...common];
    case 'xid':
      return ['--target-xid', target.xid, ...common];
    case 'name':
      return ['--target-name', target.name, ...common];
    case 'end-of-backup':
      return ['--target-immediate'];
  }
}

/** The catalog a snapshot's backups view gives (no WAL gap list: the run reads it from Barman). */
export function catalogFromView(view: { backups: BarmanBackup[]; lastArchivedWal?: string; lastArchivedAt?: string }): BackupCatalog {
  const catalog: BackupCatalog = { backups: view.backups };
  if (view.lastArchivedWal) catalog.lastArchivedWal = view.lastArchivedWal;
  const at = timeOf(view.lastArchivedAt);
  if (at !== undefined) catalog.lastArchivedAt = at;
  return catalog;
}
