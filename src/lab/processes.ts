import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { waitFor } from '../util/wait.js';

/** A system account the lab runs a daemon as. */
export interface RunAs {
  user: string;
  uid: number;
  gid: number;
  home: string;
  /** Supplementary group ids (e.g. postgres also gets barman's group to write into Barman's incoming dir). */
  groups: number[];
}

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  /** Run as this account (only when we are root); undefined runs as the current user. */
  runAs?: RunAs;
  env?: Record<string, string>;
  cwd?: string;
}

/** PATH for every daemon: Debian's python3 first, never a pyenv shim (patroni and barman need psycopg2). */
export const DAEMON_PATH = '/usr/bin:/bin:/usr/sbin:/sbin';

function readAccountFile(file: string): string[][] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(':'));
}

/** Look an account up in /etc/passwd; undefined when it does not exist. */
export function lookupUser(user: string): RunAs | undefined {
  const row = readAccountFile('/etc/passwd').find((fields) => fields[0] === user);
  if (!row) return undefined;
  return { user, uid: Number(row[2]), gid: Number(row[3]), home: row[5] ?? '/', groups: [Number(row[3])] };
}

export function lookupGroupId(group: string): number | undefined {
  const row = readAccountFile('/etc/group').find((fields) => fields[0] === group);
  return row ? Number(row[2]) : undefined;
}

/**
 * Start a daemon detached (its own session and process group), with stdout and stderr appended to its log.
 * When a RunAs is given, `setpriv` switches the user and then execs the daemon in place, so the pid we
 * record is the daemon's own (runuser and su fork, and would leave us a wrapper's pid).
 * Node opens every descriptor close-on-exec, so nothing of ours (locks included) leaks into the daemon.
 */
export function spawnDaemon(spec: DaemonSpec): number {
  const logFd = fs.openSync(spec.logFile, 'a', 0o640);
  try {
    let command = spec.command;
    let args = spec.args;
    if (spec.runAs) {
      command = 'setpriv';
      args = [
        `--reuid=${spec.runAs.uid}`,
        `--regid=${spec.runAs.gid}`,
        `--groups=${spec.runAs.groups.join(',')}`,
        '--',
        spec.command,
        ...spec.args,
      ];
    }
    const env: Record<string, string> = {
      PATH: DAEMON_PATH,
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      HOME: spec.runAs?.home ?? process.env.HOME ?? '/',
      USER: spec.runAs?.user ?? process.env.USER ?? '',
      ...spec.env,
    };
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env,
      cwd: spec.cwd ?? '/',
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    // Reap it if it exits while we are still running; the daemon must never keep us alive.
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(logFd);
  }
}

export interface ProcessInfo {
  pid: number;
  /** The state letter from /proc/<pid>/stat (R, S, D, Z, …). */
  state: string;
  cmdline: string;
  /** Resident set size in bytes. */
  rssBytes: number;
}

/** What /proc says of a pid, or undefined when there is no such process. */
export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = afterName[0] ?? '?';
    const rssPages = Number(afterName[21] ?? 0);
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, state, cmdline, rssBytes: rssPages * 4096 };
  } catch {
    return undefined;
  }
}

/**
 * Is this pid a running process (not a zombie)? For a process we have just started, where the pid cannot
 * have been reused: its /proc command line is empty or half-replaced while it execs, so the marker check of
 * isOurProcessAlive would call it dead.
 */
export function isJustStartedProcessRunning(pid: number): boolean {
  const info = processInfo(pid);
  return info !== undefined && info.state !== 'Z' && info.state !== 'X';
}

/**
 * Is this pid alive and still the process we started? A zombie (state Z) or a dead one (X) is not alive,
 * and a recycled pid is recognised by its command line not carrying our marker (a path inside the lab).
 */
export function isOurProcessAlive(pid: number, marker: string): boolean {
  const info = processInfo(pid);
  if (!info) return false;
  if (info.state === 'Z' || info.state === 'X') return false;
  return info.cmdline.includes(marker);
}

/**
 * Stop a process we started: SIGTERM to its process group, wait until it is gone (not a zombie),
 * then SIGKILL the group if it is still there after the grace period.
 */
export async function stopProcess(pid: number, marker: string, graceMs: number): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isOurProcessAlive(pid, marker)) return 'not-running';
  signalGroup(pid, 'SIGTERM');
  try {
    await waitFor(`pid ${pid} to exit`, () => (isOurProcessAlive(pid, marker) ? undefined : true), {
      timeoutMs: graceMs,
      intervalMs: 100,
    });
    return 'stopped';
  } catch {
    signalGroup(pid, 'SIGKILL');
    await waitFor(`pid ${pid} to die`, () => (isOurProcessAlive(pid, marker) ? undefined : true), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    return 'killed';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** The last lines of a log file, for error messages. */
export function tailFile(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
