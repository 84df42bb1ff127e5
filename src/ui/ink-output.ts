import { styledCharsFromTokens, styledCharsToString, tokenize, type StyledChar } from '@alcalzone/ansi-tokenize';
import { stringWidth } from './string-width.js';

/**
 * The cockpit's frame compositor: a drop-in for Ink's `Output` (ink/build/output.js), which Ink's
 * renderer creates for every frame, writes each text node into, and turns into the frame's string.
 *
 * Ink's own tokenizes every text node into styled cells and measures every character again on every frame,
 * with caches that live for one frame. At 50 members on 160×50 that was about half of a frame's CPU
 * (bench/render). This one keeps what it learns about a string across frames (its styled cells, its lines,
 * its width), in bounded caches, and shares one immutable blank cell instead of allocating a grid of them;
 * what it draws is the same, cell for cell (test/ui/ink-output.test.ts compares the two on random writes:
 * styles across newlines, wide and zero-width characters, nested clips, writes off either edge,
 * transformers).
 *
 * It is loaded in place of Ink's module by the launcher's resolve hook (src/ui/ink-hooks.ts); its interface
 * is the one Ink's renderer and render-node-to-output use: write, clip, unclip, get.
 */

type Cell = StyledChar;
type Transformer = (line: string, index: number) => string;

export interface Clip {
  x1?: number | undefined;
  x2?: number | undefined;
  y1?: number | undefined;
  y2?: number | undefined;
}

type Operation = { type: 'write'; x: number; y: number; text: string; transformers: Transformer[] } | { type: 'clip'; clip: Clip } | { type: 'unclip' };

/** Entries per cache before it starts over (a wallboard runs for days: memory stays flat). */
const CACHE_LIMIT = 5000;

const BLANK: Cell = Object.freeze({ type: 'char', value: ' ', fullWidth: false, styles: Object.freeze([]) as unknown as StyledChar['styles'] }) as Cell;

const IGNORABLE = /^\p{Default_Ignorable_Code_Point}+$/u;

class BoundedCache<V> {
  private readonly map = new Map<string, V>();

  get(key: string, make: (key: string) => V): V {
    let value = this.map.get(key);
    if (value === undefined) {
      value = make(key);
      if (this.map.size >= CACHE_LIMIT) this.map.clear();
      this.map.set(key, value);
    }
    return value;
  }

  get size(): number {
    return this.map.size;
  }
}

/** A string's styled cells (standalone invisible characters dropped: they take no cell). */
const styledCells = new BoundedCache<readonly Cell[]>();
/** A text's lines, each as a string that carries its own styles (styles run across newlines). */
const textLines = new BoundedCache<readonly string[]>();
const widths = new BoundedCache<number>();
const blockWidths = new BoundedCache<number>();

function cellsOf(line: string): readonly Cell[] {
  return styledCells.get(line, (l) => styledCharsFromTokens(tokenize(l)).filter((c) => !IGNORABLE.test(c.value)));
}

function widthOf(text: string): number {
  return widths.get(text, (t) => stringWidth(t));
}

function widestLine(text: string): number {
  return blockWidths.get(text, (t) => {
    let widest = 0;
    for (const line of t.split('\n')) widest = Math.max(widest, widthOf(line));
    return widest;
  });
}

function linesOf(text: string): readonly string[] {
  return textLines.get(text, (t) => {
    const lines: Cell[][] = [[]];
    for (const cell of cellsOf(t)) {
      if (cell.value === '\n') lines.push([]);
      else (lines[lines.length - 1] as Cell[]).push(cell);
    }
    return lines.map((l) => styledCharsToString(l));
  });
}

/** A space that keeps a cell's styles (what is left of a wide character cut in half). */
function blankOf(cell: Cell): Cell {
  return { ...cell, value: ' ', fullWidth: false };
}

function bound(a: number | undefined, b: number | undefined, tighter: (x: number, y: number) => number): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : tighter(a, b);
}

function intersect(outer: Clip | undefined, inner: Clip): Clip {
  if (!outer) return inner;
  return { x1: bound(outer.x1, inner.x1, Math.max), x2: bound(outer.x2, inner.x2, Math.min), y1: bound(outer.y1, inner.y1, Math.max), y2: bound(outer.y2, inner.y2, Math.min) };
}

function isEmpty(clip: Clip): boolean {
  return (clip.x1 !== undefined && clip.x2 !== undefined && clip.x1 >= clip.x2) || (clip.y1 !== undefined && clip.y2 !== undefined && clip.y1 >= clip.y2);
}

/** The columns [from, to) of a line, a wide character cut by either edge kept as a styled space. */
function sliceColumns(line: string, from: number, to: number): string {
  if (from >= to) return '';
  const kept: Cell[] = [];
  let column = 0;
  for (const cell of cellsOf(line)) {
    const width = widthOf(cell.value);
    const start = column;
    column += width;
    if (column <= from) continue;
    if (start >= to) break;
    kept.push(width > 1 && (start < from || column > to) ? blankOf(cell) : cell);
  }
  return styledCharsToString(kept);
}

/** For tests and the render bench: how many strings the caches hold. */
export function outputCacheSizes(): { cells: number; lines: number; widths: number } {
  return { cells: styledCells.size, lines: textLines.size, widths: widths.size };
}

// Ink's renderer imports its Output as the module's default export: this module stands in for it.
// eslint-disable-next-line no-restricted-syntax
export default class Output {
  readonly width: number;
  readonly height: number;
  private readonly operations: Operation[] = [];

  constructor(options: { width: number; height: number }) {
    this.width = options.width;
    this.height = options.height;
  }

  write(x: number, y: number, text: string, options: { transformers: Transformer[] }): void {
    if (text === '') return;
    this.operations.push({ type: 'write', x, y, text, transformers: options.transformers });
  }

  clip(clip: Clip): void {
    this.operations.push({ type: 'clip', clip });
  }

  unclip(): void {
    this.operations.push({ type: 'unclip' });
  }

  get(): { output: string; height: number } {
    const rows: Cell[][] = [];
    for (let y = 0; y < this.height; y++) rows.push(new Array<Cell>(this.width).fill(BLANK));
    const clips: Clip[] = [];
    for (const operation of this.operations) {
      if (operation.type === 'clip') clips.push(intersect(clips[clips.length - 1], operation.clip));
      else if (operation.type === 'unclip') clips.pop();
      else this.apply(rows, operation, clips[clips.length - 1]);
    }
    const output = rows.map((row) => styledCharsToString(row.filter((cell) => cell !== undefined)).trimEnd()).join('\n');
    return { output, height: rows.length };
  }

  private apply(rows: Cell[][], operation: Extract<Operation, { type: 'write' }>, clip: Clip | undefined): void {
    const { text, transformers } = operation;
    let { x, y } = operation;
    let lines = linesOf(text);
    if (clip) {
      if (isEmpty(clip)) return;
      const horizontal = typeof clip.x1 === 'number' && typeof clip.x2 === 'number';
      const vertical = typeof clip.y1 === 'number' && typeof clip.y2 === 'number';
      if (horizontal && (x + widestLine(text) < (clip.x1 as number) || x > (clip.x2 as number))) return;
      if (vertical && (y + lines.length < (clip.y1 as number) || y > (clip.y2 as number))) return;
      if (horizontal) {
        const x1 = clip.x1 as number;
        const x2 = clip.x2 as number;
        lines = lines.map((line) => {
          const width = widthOf(line);
          return sliceColumns(line, x < x1 ? x1 - x : 0, x + width > x2 ? x2 - x : width);
        });
        if (x < x1) x = x1;
      }
      if (vertical) {
        const y1 = clip.y1 as number;
        const y2 = clip.y2 as number;
        lines = lines.slice(y < y1 ? y1 - y : 0, y + lines.length > y2 ? y2 - y : lines.length);
        if (y < y1) y = y1;
      }
    }
    lines.forEach((original, index) => {
      const row = rows[y + index];
      if (!row) return;
      let line = original;
      for (const transform of transformers) line = transform(line, index + y - operation.y);
      const cells = cellsOf(line);
      if (cells.length === 0) return;
      let column = x;
      // A write landing on the second half of a wide character blanks its first half (keeping its styles).
      if (row[column]?.value === '' && column > 0 && widthOf(row[column - 1]?.value ?? '') > 1) row[column - 1] = blankOf(row[column - 1] as Cell);
      for (const cell of cells) {
        if (column >= 0) row[column] = cell;
        const width = Math.max(1, widthOf(cell.value));
        // A wide character's trailing cells: empty placeholders (a space if its leading cell is off the left edge).
        for (let offset = 1; offset < width; offset++) {
          if (column + offset >= 0) row[column + offset] = { type: 'char', value: column < 0 ? ' ' : '', fullWidth: false, styles: cell.styles };
        }
        column += width;
      }
      // ... and a write ending on the first half of one blanks its second half.
      if (row[column]?.value === '') row[column] = blankOf(row[column] as Cell);
    });
  }
}
