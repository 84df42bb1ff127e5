/**
 * Pure formatting for the cockpit: every number an operator reads goes through here, so units and
 * rounding are the same in every pane. No React, no I/O. Absent values render as EMPTY, never as 0.
 */

import { formatBytes as formatUnits } from '../util/units.js';

/** What a cell shows when the value is not known (never "0", which would be a lie). */
export const EMPTY = '—';

/** Bytes as everywhere else (src/util/units.ts: pg_size_pretty's units); EMPTY when not known. */
export function formatBytes(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? EMPTY : formatUnits(bytes);
}

/**
 * A duration in seconds as an operator reads it: "0.4s", "42s", "1m 05s", "2h 03m", "3d 04h".
 * Sub-second precision only below 10 s, where it matters (replication lag).
 */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return EMPTY;
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 10 && !Number.isInteger(s)) {
    const rounded = Math.round(s * 10) / 10;
    if (rounded < 10) return `${sign}${rounded.toFixed(1).replace(/\.0$/, '')}s`;
  }
  const whole = Math.round(s);
  if (whole < 60) return `${sign}${whole}s`;
  if (whole < 3600) return `${sign}${Math.floor(whole / 60)}m ${pad2(whole % 60)}s`;
  if (whole < 86_400) return `${sign}${Math.floor(whole / 3600)}h ${pad2(Math.floor((whole % 3600) / 60))}m`;
  return `${sign}${Math.floor(whole / 86_400)}d ${pad2(Math.floor((whole % 86_400) / 3600))}h`;
}

/** Age of an instant (epoch ms or ISO string) at `now`: "45s", "2m 10s"; EMPTY when unknown. */
export function formatAge(at: number | string | undefined, now: number): string {
  const ms = toEpochMs(at);
  if (ms === undefined) return EMPTY;
  return formatDuration(Math.max(0, (now - ms) / 1000));
}

/** Lag as bytes and seconds together, both with units: "12.3 MB 1m 05s". */
export function formatLag(bytes: number | undefined, seconds: number | undefined, unknown = false): string {
  if (unknown && bytes === undefined && seconds === undefined) return 'unknown';
  if (bytes === undefined && seconds === undefined) return EMPTY;
  const parts: string[] = [];
  parts.push(bytes === undefined ? '?' : formatBytes(bytes));
  if (seconds !== undefined) parts.push(formatDuration(seconds));
  return parts.join(' ');
}

/** Epoch ms from an epoch-ms number or an ISO string; undefined when absent or unparsable. */
export function toEpochMs(at: number | string | undefined): number | undefined {
  if (at === undefined) return undefined;
  if (typeof at === 'number') return Number.isFinite(at) ? at : undefined;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Wall-clock time of day, local: "14:03:07". */
export function formatClock(at: number | string | undefined): string {
  const ms = toEpochMs(at);
  if (ms === undefined) return EMPTY;
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Date and time, local, to the minute or second: "2024-05-01 14:03". */
export function formatDateTime(at: number | string | undefined, withSeconds = false): string {
  const ms = toEpochMs(at);
  if (ms === undefined) return EMPTY;
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}${withSeconds ? `:${pad2(d.getSeconds())}` : ''}`;
  return `${date} ${time}`;
}

/** Compact local date and time for tables: "03-14 11:00". */
export function formatShortDateTime(at: number | string | undefined): string {
  const ms = toEpochMs(at);
  if (ms === undefined) return EMPTY;
  const d = new Date(ms);
  return `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** An LSN in PostgreSQL's text form, upper-case hex ("0/5000060"); EMPTY when absent. */
export function formatLsn(lsn: string | number | undefined): string {
  if (lsn === undefined) return EMPTY;
  if (typeof lsn === 'number') return lsnFromBytes(lsn);
  const parsed = lsnToBytes(lsn);
  return parsed === undefined ? lsn : lsnFromBytes(parsed);
}

/** "16/B374D848" → byte position; undefined when not an LSN. */
export function lsnToBytes(lsn: string): number | undefined {
  const match = /^([0-9a-f]{1,8})\/([0-9a-f]{1,8})$/i.exec(lsn.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return parseInt(match[1], 16) * 2 ** 32 + parseInt(match[2], 16);
}

/** Byte position → "16/B374D848". */
export function lsnFromBytes(position: number): string {
  const high = Math.floor(position / 2 ** 32);
  const low = position - high * 2 ** 32;
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
}

const SPARK_LEVELS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/**
 * A sparkline of the last `width` values, scaled so that a full block means "at or above `top`"
 * (pass the threshold, so the line reads against it). Missing samples are blanks; the line is
 * right-aligned (newest at the right edge).
 */
export function sparkline(values: ReadonlyArray<number | undefined>, width: number, top?: number): string {
  if (width <= 0) return '';
  const recent = values.slice(-width);
  const known = recent.filter((v): v is number => v !== undefined && Number.isFinite(v));
  const max = top !== undefined && top > 0 ? top : Math.max(...known, 0);
  const cells = recent.map((v) => {
    if (v === undefined || !Number.isFinite(v)) return ' ';
    if (max <= 0 || v <= 0) return SPARK_LEVELS[0];
    const level = Math.min(SPARK_LEVELS.length - 1, Math.ceil((v / max) * SPARK_LEVELS.length) - 1);
    return SPARK_LEVELS[Math.max(0, level)];
  });
  return ' '.repeat(width - cells.length) + cells.join('');
}

/** Cut text to `width` columns with an ellipsis. Assumes one column per code point (no wide glyphs here). */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width === 1) return '…';
  return chars.slice(0, width - 1).join('') + '…';
}

/** Truncate and pad to exactly `width` columns (left-aligned, or right-aligned for numbers). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const gap = width - Array.from(cut).length;
  if (gap <= 0) return cut;
  return align === 'left' ? cut + ' '.repeat(gap) : ' '.repeat(gap) + cut;
}

function pad2(n: number): string {
  return n.toString().padStart(2, '0');
}
