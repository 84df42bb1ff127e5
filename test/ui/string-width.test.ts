import fs from 'node:fs';
import path from 'node:path';
import realStringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { stringWidth } from '../../src/ui/string-width.js';
import { STANDALONE_WIDTH_RUNS } from '../../src/ui/string-width-table.js';
import { packageRoot } from '../../src/util/package-root.js';
// @ts-expect-error: a plain .mjs script without types
import { computeRuns, renderTable } from '../../scripts/string-width-table.mjs';

/** A small deterministic generator (mulberry32), so a failure names its seed and can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces a string is made of: what the cockpit draws, and everything that makes string-width look at clusters. */
const PIECES = [
  ...'abc XYZ 0123 -_/:|.,'.split(''),
  ...'★✓✗▲·→…│─┌┐└┘├┤▁▂▃▄▅▆▇█⟳○●■□°±×é'.split(''),
  '\u001B[1m',
  '\u001B[22m',
  '\u001B[31m',
  '\u001B[39m',
  '\u009B0m',
  '\u001B]8;;https://example.org\u0007',
  '😀',
  '⭐',
  '✔\uFE0F',
  '✔',
  '👨\u200D👩\u200D👧',
  '🇫🇷',
  '1\u20E3',
  'e\u0301',
  '\u0301',
  '\u200D',
  '\uFE0F',
  '\u00AD',
  '\t',
  '\n',
  '\u0007',
  '\u0085',
  '中文',
  'ｶﾞ',
  '\u1100\u1161\u11A8',
  '\u1100',
  '한',
  'क्ष',
  '\u0E33',
  '\uD800',
  '𝒜',
  '\u2028',
];

describe('the cockpit’s string-width', () => {
  it('its table is what string-width and this Node’s Unicode data give now (scripts/string-width-table.mjs)', () => {
    const file = fs.readFileSync(path.join(packageRoot(), 'src', 'ui', 'string-width-table.ts'), 'utf8');
    expect(file).toBe(renderTable(computeRuns()));
    expect(STANDALONE_WIDTH_RUNS.length % 3).toBe(0);
  });

  it('measures the characters of its table as string-width does, alone and beside others (each run’s ends, every 7th inside)', () => {
    for (let i = 0; i < STANDALONE_WIDTH_RUNS.length; i += 3) {
      const [from, to] = [STANDALONE_WIDTH_RUNS[i] as number, STANDALONE_WIDTH_RUNS[i + 1] as number];
      for (let code = from; code <= to; code = code === to ? to + 1 : Math.min(to, code + 7)) {
        const c = String.fromCharCode(code);
        for (const text of [c, `a${c}`, `${c}b`, `${c}${c}`, `★${c}─`]) expect(stringWidth(text), `U+${code.toString(16)} in "${text}"`).toBe(realStringWidth(text));
      }
    }
  });

  it('gives string-width’s answer on 20,000 random strings of the cockpit’s glyphs, ANSI codes, emoji, marks and controls', () => {
    for (const seed of [1, 2, 3, 4]) {
      const next = random(seed);
      for (let n = 0; n < 5000; n += 1) {
        const length = Math.floor(next() * 12);
        let text = '';
        for (let k = 0; k < length; k += 1) text += PIECES[Math.floor(next() * PIECES.length)];
        expect(stringWidth(text), `seed ${seed}, string ${JSON.stringify(text)}`).toBe(realStringWidth(text));
        for (const options of [{ ambiguousIsNarrow: false }, { countAnsiEscapeCodes: true }]) {
          expect(stringWidth(text, options), `seed ${seed}, ${JSON.stringify(options)}, string ${JSON.stringify(text)}`).toBe(realStringWidth(text, options));
        }
      }
    }
  });

  it('the glyphs the cockpit draws are all in the table (its screen never needs string-width itself)', () => {
    const glyphs = '★✓✗▲·→…│─┌┐└┘├┤▁▂▃▄▅▆▇█⟳○●↑↓←⏸';
    const widths = new Map<string, number>();
    for (const glyph of glyphs) {
      let inTable = false;
      const code = glyph.charCodeAt(0);
      for (let i = 0; i < STANDALONE_WIDTH_RUNS.length; i += 3) {
        if (code >= (STANDALONE_WIDTH_RUNS[i] as number) && code <= (STANDALONE_WIDTH_RUNS[i + 1] as number)) inTable = true;
      }
      widths.set(glyph, inTable ? stringWidth(glyph) : 0);
    }
    expect([...widths].filter(([, w]) => w === 0).map(([g]) => g)).toEqual([]);
  });
});
