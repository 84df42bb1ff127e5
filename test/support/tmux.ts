import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A real terminal for end-to-end tests and benchmarks: a tmux session on a tmux server of its own (a
 * socket per process, so nothing here can touch an operator's sessions), a shell in it, keys sent with
 * send-keys, the screen read with capture-pane. Waits poll the screen for a condition, never a fixed sleep.
 * Every session is killed by `kill()` or, at the latest, by `killAllTmux()` (call it in afterAll/afterEach,
 * it also runs on process exit), so a failing test leaves no terminal behind.
 */

const run = promisify(execFile);

/** One tmux server per process: its socket name. */
const SOCKET = `pgc-test-${process.pid}`;
let counter = 0;
const live = new Set<TmuxSession>();

export interface TmuxOptions {
  columns?: number;
  rows?: number;
  /** Environment of the shell (merged over process.env). */
  env?: Record<string, string | undefined>;
  /** Working directory of the shell. */
  cwd?: string;
  /**
   * Run this argv as the pane's program instead of a shell (its pid is then #{pane_pid}); the session is
   * ready as soon as tmux started it. Default: an interactive bash showing PROMPT.
   */
  command?: readonly string[];
}

export interface WaitOptions {
  timeoutMs?: number;
  /** How often the screen is read (default 100 ms). */
  intervalMs?: number;
}

async function tmux(args: string[]): Promise<string> {
  const { stdout } = await run('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  return stdout;
}

/** A shell prompt that cannot be mistaken for program output. */
export const PROMPT = 'pgc-e2e$ ';

/** bash ignores PS1 from the environment: an rc file of our own sets it (and nothing else). */
function rcFile(): string {
  const file = path.join(os.tmpdir(), `pgc-test-bashrc-${process.pid}`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, `PS1=${shellQuote(PROMPT)}\nunset PROMPT_COMMAND\n`);
  return file;
}

export class TmuxSession {
  private constructor(
    readonly name: string,
    readonly target: string,
  ) {}

  /** Start a session running a plain bash (no rc files) with PROMPT as its prompt; resolves once the prompt shows. */
  static async start(options: TmuxOptions = {}): Promise<TmuxSession> {
    counter += 1;
    const name = `pgc-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
    const env = { ...process.env, ...options.env, HISTFILE: '/dev/null' };
    const envArgs = Object.entries(env).flatMap(([k, v]) => (v === undefined || k === 'TMUX' ? [] : ['-e', `${k}=${v}`]));
    const session = new TmuxSession(name, `${name}:0.0`);
    live.add(session);
    await tmux([
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      String(options.columns ?? 120),
      '-y',
      String(options.rows ?? 40),
      ...(options.cwd ? ['-c', options.cwd] : []),
      ...envArgs,
      ...(options.command ? [options.command.map(shellQuote).join(' ')] : [`bash --noprofile --rcfile ${shellQuote(rcFile())} -i`]),
    ]);
    // The window follows the size we ask for, not the (absent) clients'.
    await tmux(['set-option', '-t', name, 'window-size', 'manual']).catch(() => undefined);
    if (!options.command) await session.waitFor((screen) => screen.includes(PROMPT.trim()), { timeoutMs: 10_000 });
    return session;
  }

  /** The visible screen as text (no colors), trailing blank lines dropped. */
  async screen(): Promise<string> {
    const text = await tmux(['capture-pane', '-p', '-t', this.target]);
    return text.replace(/\s+$/, '');
  }

  /** The screen plus the scrollback (what the operator gets back after quitting a full-screen program). */
  async history(): Promise<string> {
    return (await tmux(['capture-pane', '-p', '-S', '-', '-t', this.target])).replace(/\s+$/, '');
  }

  /** A tmux format of the pane, e.g. '#{alternate_on}', '#{pane_width}x#{pane_height}'. */
  async display(format: string): Promise<string> {
    return (await tmux(['display-message', '-p', '-t', this.target, format])).trim();
  }

  /** Key names as tmux knows them: 'q', 'Enter', 'Tab', 'Escape', 'C-c'. */
  async keys(...keys: string[]): Promise<void> {
    await tmux(['send-keys', '-t', this.target, ...keys]);
  }

  /** Type text literally (no key-name lookup). */
  async type(text: string): Promise<void> {
    await tmux(['send-keys', '-t', this.target, '-l', text]);
  }

  /** Type a command line and press Enter. */
  async runLine(line: string): Promise<void> {
    await this.type(line);
    await this.keys('Enter');
  }

  async resize(columns: number, rows: number): Promise<void> {
    await tmux(['resize-window', '-t', this.name, '-x', String(columns), '-y', String(rows)]);
  }

  /**
   * Poll the screen until `predicate` holds (a string it contains, a RegExp it matches, or a function);
   * resolves with that screen. On timeout the error carries the last screen.
   */
  async waitFor(predicate: string | RegExp | ((screen: string) => boolean), options: WaitOptions = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? 20_000;
    const intervalMs = options.intervalMs ?? 100;
    const test =
      typeof predicate === 'string' ? (s: string) => s.includes(predicate) : predicate instanceof RegExp ? (s: string) => predicate.test(s) : predicate;
    const deadline = Date.now() + timeoutMs;
    let last: string;
    for (;;) {
      last = await this.screen();
      if (test(last)) return last;
      if (Date.now() > deadline) {
        const what = typeof predicate === 'function' ? 'a screen condition' : String(predicate);
        throw new Error(`tmux ${this.name}: timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${last}`);
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /** The pid of the pane's program (the shell, or `command`). */
  async panePid(): Promise<number> {
    return Number(await this.display('#{pane_pid}'));
  }

  async kill(): Promise<void> {
    live.delete(this);
    await tmux(['kill-session', '-t', this.name]).catch(() => undefined);
  }
}

/** Kill every session this process started (and its tmux server). Safe to call more than once. */
export async function killAllTmux(): Promise<void> {
  for (const session of [...live]) await session.kill();
  await tmux(['kill-server']).catch(() => undefined);
}

process.once('exit', () => {
  fs.rmSync(path.join(os.tmpdir(), `pgc-test-bashrc-${process.pid}`), { force: true });
  if (live.size === 0) return;
  try {
    execFileSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* no server */
  }
});

/** Quote a word for the shell line typed into the session. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
