import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import Output, { outputCacheSizes } from '../../src/ui/ink-output.js';
import { packageRoot } from '../../src/util/package-root.js';

/**
 * The cockpit's frame compositor (src/ui/ink-output.ts) draws what Ink's own Output draws, cell for cell:
 * both get the same random writes — styled text whose styles run across newlines, wide (CJK, emoji) and
 * zero-width characters, writes off every edge, nested and empty clips, transformers — and must return the
 * same frame. Many frames go through one instance of ours after another, as in the running cockpit, so what
 * its caches kept from earlier frames is exercised too.
 */

interface OutputLike {
  write(x: number, y: number, text: string, options: { transformers: Array<(line: string, index: number) => string> }): void;
  clip(clip: { x1?: number; x2?: number; y1?: number; y2?: number }): void;
  unclip(): void;
  get(): { output: string; height: number };
}
type OutputClass = new (options: { width: number; height: number }) => OutputLike;

const inkOutputUrl = pathToFileURL(path.join(packageRoot(), 'node_modules', 'ink', 'build', 'output.js')).href;
const InkOutput = ((await import(inkOutputUrl)) as { default: OutputClass }).default;

/** A small deterministic PRNG (mulberry32): the same cases on every run; the seed is in the test name. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['db1', 'leader', ' streaming ', '12.0 MB', '★', '✓', '▲', '✗', '·', '█▇▆', '─│┌', '漢字', '🚀', '👩‍💻', '\u200B', 'e\u0301', '\n', '  ', 'x', 'STALE 12s'];
const STYLES = ['\u001B[31m', '\u001B[1m', '\u001B[7m', '\u001B[2m', '\u001B[32m', '\u001B[39m', '\u001B[22m', '\u001B[27m', '\u001B[0m', '\u001B[48;5;236m', '\u001B[49m'];

function randomText(rand: () => number): string {
  let text = '';
  const parts = 1 + Math.floor(rand() * 6);
  for (let i = 0; i < parts; i++) {
    if (rand() < 0.35) text += STYLES[Math.floor(rand() * STYLES.length)];
    text += PIECES[Math.floor(rand() * PIECES.length)];
  }
  return text;
}

function maybe(rand: () => number, value: () => number): number | undefined {
  return rand() < 0.2 ? undefined : value();
}

type Op = { kind: 'write'; x: number; y: number; text: string; transform: number } | { kind: 'clip'; clip: { x1?: number; x2?: number; y1?: number; y2?: number } } | { kind: 'unclip' };

const TRANSFORMERS: Array<Array<(line: string, index: number) => string>> = [[], [(line) => line.toUpperCase()], [(line, index) => `${index}:${line}`]];

function randomFrame(rand: () => number, width: number, height: number): Op[] {
  const ops: Op[] = [];
  let depth = 0;
  const count = 5 + Math.floor(rand() * 30);
  for (let i = 0; i < count; i++) {
    const r = rand();
    if (r < 0.15) {
      const clip: { x1?: number; x2?: number; y1?: number; y2?: number } = {};
      const x1 = maybe(rand, () => Math.floor(rand() * width) - 2);
      const x2 = maybe(rand, () => Math.floor(rand() * (width + 4)));
      const y1 = maybe(rand, () => Math.floor(rand() * height) - 1);
      const y2 = maybe(rand, () => Math.floor(rand() * (height + 2)));
      if (x1 !== undefined) clip.x1 = x1;
      if (x2 !== undefined) clip.x2 = x2;
      if (y1 !== undefined) clip.y1 = y1;
      if (y2 !== undefined) clip.y2 = y2;
      ops.push({ kind: 'clip', clip });
      depth += 1;
    } else if (r < 0.25 && depth > 0) {
      ops.push({ kind: 'unclip' });
      depth -= 1;
    } else {
      ops.push({ kind: 'write', x: Math.floor(rand() * (width + 10)) - 5, y: Math.floor(rand() * (height + 4)) - 2, text: randomText(rand), transform: rand() < 0.1 ? 1 + Math.floor(rand() * 2) : 0 });
    }
  }
  return ops;
}

function draw(output: OutputLike, ops: Op[]): { output: string; height: number } {
  for (const op of ops) {
    if (op.kind === 'write') output.write(op.x, op.y, op.text, { transformers: TRANSFORMERS[op.transform] ?? [] });
    else if (op.kind === 'clip') output.clip(op.clip);
    else output.unclip();
  }
  return output.get();
}

describe("the frame compositor draws what Ink's Output draws", () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`500 random frames (seed ${seed})`, () => {
      const rand = prng(seed);
      for (let frame = 0; frame < 500; frame++) {
        const width = 1 + Math.floor(rand() * 40);
        const height = 1 + Math.floor(rand() * 8);
        const ops = randomFrame(rand, width, height);
        const expected = draw(new InkOutput({ width, height }), ops);
        const actual = draw(new Output({ width, height }), ops);
        expect(actual, `frame ${frame} (${width}×${height}): ${JSON.stringify(ops)}`).toEqual(expected);
      }
    });
  }

  it('the same text drawn twice gives the same frame (what the caches keep is not changed by drawing)', () => {
    const ops: Op[] = [
      { kind: 'write', x: 0, y: 0, text: '\u001B[7m漢字 db1\u001B[27m ★', transform: 0 },
      { kind: 'write', x: 1, y: 0, text: 'ab', transform: 0 },
      { kind: 'clip', clip: { x1: 1, x2: 4 } },
      { kind: 'write', x: 0, y: 1, text: '漢字漢字', transform: 0 },
    ];
    const first = draw(new Output({ width: 10, height: 2 }), ops);
    expect(draw(new Output({ width: 10, height: 2 }), ops)).toEqual(first);
    expect(first).toEqual(draw(new InkOutput({ width: 10, height: 2 }), ops));
  });

  it('its caches stay bounded however many different strings go through', () => {
    for (let i = 0; i < 12_000; i++) {
      const output = new Output({ width: 20, height: 1 });
      output.write(0, 0, `age ${i}s`, { transformers: [] });
      output.get();
    }
    const sizes = outputCacheSizes();
    expect(sizes.cells).toBeLessThanOrEqual(5000);
    expect(sizes.lines).toBeLessThanOrEqual(5000);
    expect(sizes.widths).toBeLessThanOrEqual(5000);
  });
});
