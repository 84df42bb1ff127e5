import { describe, expect, it } from 'vitest';
import {
  EMPTY,
  fit,
  formatAge,
  formatBytes,
  formatDuration,
  formatLag,
  formatLsn,
  lsnFromBytes,
  lsnToBytes,
  sparkline,
  truncate,
} from '../../src/ui/format.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1024, '1.0 kB'],
    [1536, '1.5 kB'],
    [12.3 * 1024 * 1024, '12.3 MB'],
    [123 * 1024 * 1024, '123 MB'],
    [1024 * 1024 - 1, '1.0 MB'],
    [5 * 1024 ** 3, '5.0 GB'],
    [-2048, '-2.0 kB'],
  ])('%d → %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it('says unknown, never 0, when absent', () => {
    expect(formatBytes(undefined)).toBe(EMPTY);
    expect(formatBytes(Number.NaN)).toBe(EMPTY);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.43, '0.4s'],
    [9.96, '10s'],
    [42, '42s'],
    [65, '1m 05s'],
    [3599, '59m 59s'],
    [3600 + 180, '1h 03m'],
    [86_400 * 3 + 4 * 3600, '3d 04h'],
  ])('%d s → %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));

  it('absent is EMPTY', () => expect(formatDuration(undefined)).toBe(EMPTY));
});

describe('formatAge', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  it('takes epoch ms and ISO strings', () => {
    expect(formatAge(now - 45_000, now)).toBe('45s');
    expect(formatAge(new Date(now - 130_000).toISOString(), now)).toBe('2m 10s');
  });
  it('never goes negative (clock skew)', () => expect(formatAge(now + 5000, now)).toBe('0s'));
  it('absent or unparsable is EMPTY', () => {
    expect(formatAge(undefined, now)).toBe(EMPTY);
    expect(formatAge('not a date', now)).toBe(EMPTY);
  });
});

describe('formatLag', () => {
  it('shows bytes and seconds, both with units', () => expect(formatLag(12 * 1024 * 1024, 65)).toBe('12.0 MB 1m 05s'));
  it('says unknown when Patroni does', () => expect(formatLag(undefined, undefined, true)).toBe('unknown'));
  it('marks missing bytes but keeps seconds', () => expect(formatLag(undefined, 3)).toBe('? 3s'));
});

describe('LSN', () => {
  it('parses and prints PostgreSQL text LSNs', () => {
    expect(lsnToBytes('0/5000060')).toBe(0x5000060);
    expect(lsnToBytes('16/B374D848')).toBe(0x16 * 2 ** 32 + 0xb374d848);
    expect(lsnFromBytes(0x16 * 2 ** 32 + 0xb374d848)).toBe('16/B374D848');
    expect(formatLsn('0/5000060')).toBe('0/5000060');
    expect(formatLsn('0/5a')).toBe('0/5A');
    expect(formatLsn(undefined)).toBe(EMPTY);
    expect(lsnToBytes('nope')).toBeUndefined();
  });
});

describe('sparkline', () => {
  it('scales to the threshold: a full block means at or over it', () => {
    expect(sparkline([0, 50, 100, 200], 4, 100)).toBe('▁▄██');
  });
  it('right-aligns, blanks missing samples, keeps the newest', () => {
    expect(sparkline([1, undefined], 4, 1)).toBe('  █ ');
    expect(sparkline([1, 2, 3, 4, 5, 6], 3, 6)).toBe('▆▇█');
    expect(sparkline([0, 2, 4], 3)).toBe('▁▄█');
  });
});

describe('truncate and fit', () => {
  it('cut with an ellipsis and pad to the width', () => {
    expect(truncate('streaming', 5)).toBe('stre…');
    expect(fit('db1', 5)).toBe('db1  ');
    expect(fit('3', 3, 'right')).toBe('  3');
    expect(fit('archive recovery', 11)).toBe('archive re…');
  });
});
