import type { ReactElement } from 'react';
import { render as inkTestingRender } from 'ink-testing-library';

/**
 * A thin harness around ink-testing-library (after Shopify cli-kit's testing/ui.ts): plain-text frames,
 * key presses by name, and waits on frame content — never fixed sleeps.
 *
 * Size: ink-testing-library's Stdout reports `columns` as a getter fixed at 100 and no `rows` (Ink then
 * falls back to 80×24 for rows). renderInk defines own `columns`/`rows` on that stdout instance, emits
 * 'resize' (what a terminal resize does: the app's useTerminalSize re-renders) and renders the tree again
 * (Ink lays out at stdout.columns on every render). Frames drawn before that are not looked at.
 */

export const KEYS = {
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  shiftTab: '\u001B[Z',
  up: '\u001B[A',
  down: '\u001B[B',
  backspace: '\u007F',
  ctrlC: '\u0003',
} as const;

// eslint-disable-next-line no-control-regex
const ANSI = /[\u001B\u009B][[\]()#;?]*(?:(?:(?:[a-zA-Z\d]*(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-ntqry=><~]))/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export interface InkHarness {
  /** The last frame, ANSI stripped ('' before the first). */
  frame(): string;
  /** The last frame as written (with ANSI, for NO_COLOR checks). */
  rawFrame(): string;
  press(key: string): void;
  /** Type text one character at a time (each a keypress, as a terminal sends them). */
  type(text: string): void;
  resize(columns: number, rows: number): void;
  /** Wait until the frame satisfies `predicate` (a string it contains, or a function). */
  waitForFrame(predicate: string | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Press a key, then wait for the frame to contain `text`. */
  pressAndWaitFor(key: string, predicate: string | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  unmount(): void;
  readonly frames: string[];
}

export function renderInk(tree: ReactElement, size: { columns: number; rows: number } = { columns: 120, rows: 40 }): InkHarness {
  const instance = inkTestingRender(tree);
  const stdout = instance.stdout as unknown as NodeJS.EventEmitter & { columns: number; rows?: number };
  const waiters = new Set<() => void>();
  const originalWrite = instance.stdout.write;
  // Wake waiters on every frame instead of polling on a timer.
  (instance.stdout as { write: (frame: string) => void }).write = (frame: string) => {
    originalWrite(frame);
    for (const wake of [...waiters]) wake();
  };

  // Frames drawn before the last resize are at the old size: waits look only at frames after it.
  let sizedFrom = 0;
  const frame = () => (instance.frames.length > sizedFrom ? stripAnsi(instance.lastFrame() ?? '') : '');
  const resize = (columns: number, rows: number) => {
    Object.defineProperty(stdout, 'columns', { configurable: true, get: () => columns });
    Object.defineProperty(stdout, 'rows', { configurable: true, get: () => rows });
    sizedFrom = instance.frames.length;
    stdout.emit('resize');
    // Ink lays out at stdout.columns on every render; a render of the same tree makes sure a frame at the
    // new size comes even when nothing in the tree listens to 'resize' (a bare component under test).
    instance.rerender(tree);
  };
  resize(size.columns, size.rows);

  const waitForFrame = (predicate: string | ((frame: string) => boolean), timeoutMs = 3000): Promise<string> => {
    const test = typeof predicate === 'string' ? (f: string) => f.includes(predicate) : predicate;
    return new Promise((resolve, reject) => {
      const check = () => {
        const current = frame();
        if (test(current)) {
          cleanup();
          resolve(current);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${typeof predicate === 'string' ? JSON.stringify(predicate) : 'a frame condition'}; last frame:\n${frame()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  };

  return {
    frame,
    rawFrame: () => instance.lastFrame() ?? '',
    press: (key) => instance.stdin.write(key),
    type: (text) => {
      for (const char of text) instance.stdin.write(char);
    },
    resize,
    waitForFrame,
    pressAndWaitFor: (key, predicate, timeoutMs) => {
      instance.stdin.write(key);
      return waitForFrame(predicate, timeoutMs);
    },
    unmount: () => {
      instance.unmount();
      instance.cleanup();
    },
    frames: instance.frames,
  };
}
