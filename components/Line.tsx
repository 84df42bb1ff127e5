import { memo } from 'react';
import { Transform } from 'ink';
import chalk from 'chalk';
import { stringWidth } from '../src/ui/string-width.js';
import type { Theme, Tone } from './theme.js';
import { useTheme } from './theme.js';

/** A run of text with one style. */
export interface Span {
  text: string;
  tone?: Tone | undefined;
  bold?: boolean | undefined;
  dim?: boolean | undefined;
  inverse?: boolean | undefined;
}

export interface LineProps {
  spans: readonly Span[];
  /** Columns available: the line is cut to this (with …), never wrapped. */
  width: number;
}

/**
 * Columns a character takes. Most of what the cockpit prints is one column a code point (ASCII, ★ ✓ ✗ ▲ · →,
 * box drawing, sparkline blocks); anything string-width would judge otherwise (CJK, emoji, marks) is asked of
 * it once per character and remembered.
 */
const charWidths = new Map<string, number>();
function charWidth(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if (code >= 0x20 && code < 0x7f) return 1;
  let width = charWidths.get(char);
  if (width === undefined) {
    width = stringWidth(char);
    if (charWidths.size < 4096) charWidths.set(char, width);
  }
  return width;
}

/**
 * Does the text hold characters that join their neighbours into one cluster (combining marks, zero-width
 * joiner, variation selectors, skin tones, tag characters)? Such text is measured whole, not per character.
 */
function clusters(text: string): boolean {
  if (/^[\x20-\x7e]*$/.test(text)) return false;
  for (const char of text) {
    const c = char.codePointAt(0) ?? 0;
    if ((c >= 0x300 && c <= 0x36f) || c === 0x200d || (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0x1f3fb && c <= 0x1f3ff) || (c >= 0xe0020 && c <= 0xe007f)) return true;
  }
  return false;
}

function styled(text: string, span: Span, theme: Theme): string {
  let out = text;
  if (span.dim) out = chalk.dim(out);
  const color = theme.tone(span.tone);
  if (color) out = (chalk as unknown as Record<string, (s: string) => string>)[color]?.(out) ?? out;
  if (span.bold) out = chalk.bold(out);
  if (span.inverse) out = chalk.inverse(out);
  return out;
}

/** The spans cut to `width` columns (the last visible column becomes … when something was cut), styled. */
export function layoutLine(spans: readonly Span[], width: number, theme: Theme): { text: string; columns: number } {
  let columns = 0;
  let out = '';
  for (let index = 0; index < spans.length; index += 1) {
    const span = spans[index] as Span;
    if (span.text === '') continue;
    if (clusters(span.text)) {
      const whole = stringWidth(span.text);
      if (columns + whole <= width) {
        out += styled(span.text, span, theme);
        columns += whole;
        continue;
      }
    }
    let taken = '';
    let cut = false;
    for (const char of span.text) {
      const w = charWidth(char);
      if (columns + w > width) {
        cut = true;
        break;
      }
      taken += char;
      columns += w;
    }
    const more = cut || spans.slice(index + 1).some((s) => s.text !== '');
    if (cut && more) {
      // Room for the ellipsis: drop characters from the end until one column is free.
      const chars = Array.from(taken);
      while (chars.length > 0 && columns + 1 > width) columns -= charWidth(chars.pop() as string);
      taken = chars.join('');
      if (columns + 1 <= width) {
        out += styled(`${taken}…`, span, theme);
        columns += 1;
      } else if (taken) out += styled(taken, span, theme);
      return { text: out, columns };
    }
    if (taken) out += styled(taken, span, theme);
  }
  return { text: out, columns };
}

/**
 * One line of styled text, cut to `width`. What it saves: Ink measures every text node with string-width on
 * every frame, and string-width takes a slow path (a grapheme segmenter and emoji regexes, ~3 µs a character)
 * for any line holding one non-ASCII character — a table row with a ✓ or a sparkline costs ~0.3 ms a frame.
 * Here the widths are known: Ink lays out and measures a plain ASCII stand-in of the same width, and the
 * transform puts the styled line in its place when the frame is written. Nested <Text> spans are also one
 * element here instead of one each.
 */
function LineView({ spans, width }: LineProps) {
  const theme = useTheme();
  const { text, columns } = layoutLine(spans, Math.max(0, width), theme);
  if (columns === 0) return <Transform transform={() => ''}>{' '}</Transform>;
  // If Ink ever wraps the stand-in (a narrower box than announced), only its first row shows the line.
  return <Transform transform={(line, index) => (index === 0 && line.length >= columns ? text : '')}>{' '.repeat(columns)}</Transform>;
}

/** Memoized on its spans' identity: build spans in a useMemo (or module constants) to skip unchanged lines. */
export const Line = memo(LineView);
