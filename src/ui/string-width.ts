import { createRequire } from 'node:module';
import stripAnsi from 'strip-ansi';
import { STANDALONE_WIDTH_RUNS } from './string-width-table.js';

/**
 * string-width's answer, for Ink and the cockpit's own measuring, without string-width's start-up cost.
 *
 * string-width builds an Intl.Segmenter and a `\p{RGI_Emoji}` regular expression when it is loaded (about 30 ms,
 * a tenth of the cockpit's start-up), and segments every string that is not plain ASCII. The cockpit's screen is
 * ASCII plus a few dozen symbols (★ ✓ ▲ ✗ · │ ─ ▁…█ → …), each its own grapheme cluster. A string made only of
 * printable ASCII and the characters of the generated table (src/ui/string-width-table.ts: BMP characters
 * string-width measures on their own, with their width) is measured by adding up; anything else — emoji,
 * combining marks, joiners, controls, astral characters, options other than the defaults — is measured by
 * string-width itself, loaded on first need. test/ui/string-width.test.ts checks the table against string-width
 * and both answers on random strings. Ink's modules import this in place of string-width (the bundle's plugin,
 * src/ui/ink-hooks.ts for dist/src/).
 */

export interface StringWidthOptions {
  ambiguousIsNarrow?: boolean;
  countAnsiEscapeCodes?: boolean;
}

type StringWidth = (input: string, options?: StringWidthOptions) => number;

/** The width of each BMP character of the table (0: not in the table). */
const WIDTHS = (() => {
  const widths = new Uint8Array(0x10000);
  for (let i = 0; i < STANDALONE_WIDTH_RUNS.length; i += 3) {
    widths.fill(STANDALONE_WIDTH_RUNS[i + 2] as number, STANDALONE_WIDTH_RUNS[i] as number, (STANDALONE_WIDTH_RUNS[i + 1] as number) + 1);
  }
  for (let code = 0x20; code <= 0x7e; code += 1) widths[code] = 1;
  return widths;
})();

let full: StringWidth | undefined;

/** string-width itself (an ES module, required synchronously on first need). */
export function fullStringWidth(input: string, options?: StringWidthOptions): number {
  full ??= (createRequire(import.meta.url)('string-width') as { default: StringWidth }).default;
  return full(input, options);
}

export function stringWidth(input: string, options: StringWidthOptions = {}): number {
  if (typeof input !== 'string' || input.length === 0) return 0;
  if (options.ambiguousIsNarrow === false || options.countAnsiEscapeCodes === true) return fullStringWidth(input, options);
  const text = input.includes('\u001B') || input.includes('\u009B') ? stripAnsi(input) : input;
  let width = 0;
  for (let i = 0; i < text.length; i += 1) {
    const w = WIDTHS[text.charCodeAt(i)] as number;
    if (w === 0) return fullStringWidth(input, options);
    width += w;
  }
  return width;
}

// Ink and its helpers import string-width's default export; this module stands in for it.
// eslint-disable-next-line no-restricted-syntax
export default stringWidth;
