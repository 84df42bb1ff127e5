/** Units as an operator reads them: bytes as PostgreSQL prints them, durations compact, LSNs as PostgreSQL prints them. */

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'] as const;

/**
 * Bytes as PostgreSQL's pg_size_pretty prints them (base 1024, units B kB MB GB TB PB), the one byte format
 * of the screen, the CLI, alerts and refusals: one decimal below 100 ("12.3 MB"), none above ("123 MB"),
 * whole bytes below 1 kB ("512 B").
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  if (value < 1024) return `${sign}${Math.round(value)} B`;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 1023.96 kB must not print as "1024.0 kB".
  if (value >= 1023.95 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = value < 100 ? value.toFixed(1) : Math.round(value).toString();
  return `${sign}${text} ${BYTE_UNITS[unit]}`;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds === 0) return '0 s';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** '16/B374D848' → byte position; undefined for text that is not an LSN. */
export function parseLsn(lsn: string): number | undefined {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return parseInt(match[1], 16) * 0x1_0000_0000 + parseInt(match[2], 16);
}

export function formatLsn(position: number): string {
  const high = Math.floor(position / 0x1_0000_0000);
  const low = position - high * 0x1_0000_0000;
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
}

/** An instant as a compact UTC stamp for names: 20261122T061200Z. */
export function compactStamp(at: number): string {
  return new Date(at).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
