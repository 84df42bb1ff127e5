import fs from 'node:fs';
import type { LabOptions } from './topology.js';

/** One daemon the lab started, as recorded in lab.json. */
export interface LabProcessRecord {
  name: string;
  kind: 'etcd' | 'patroni' | 'haproxy' | 'barman-cron';
  pid: number;
  /** A string the daemon's command line must contain for the pid to still be ours. */
  marker: string;
  startedAt: string;
}

export interface LabState {
  version: 1;
  options: LabOptions;
  processes: Record<string, LabProcessRecord>;
  createdAt: string;
  readyAt?: string;
}

export function readLabState(file: string): LabState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as LabState;
    if (parsed.version !== 1 || typeof parsed.processes !== 'object') {
      throw new Error('unexpected content');
    }
    return parsed;
  } catch (error) {
    throw new Error(
      `the lab state file ${file} is damaged (${(error as Error).message}); stop stray processes by hand or run 'pgcockpit lab destroy'`,
      { cause: error },
    );
  }
}

export function writeLabState(file: string, state: LabState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/**
 * An exclusive lock on the lab directory, taken with O_EXCL on a file holding our pid.
 * A lock left by a dead process is taken over. Released by deleting the file; no descriptor stays open,
 * so nothing can leak into the daemons we start.
 */
export function acquireLabLock(lockFile: string, what: string): () => void {
  const payload = JSON.stringify({ pid: process.pid, what, since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, payload, { flag: 'wx', mode: 0o644 });
      return () => {
        try {
          const current = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as { pid?: number };
          if (current.pid === process.pid) fs.unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: { pid?: number; what?: string; since?: string } = {};
      try {
        holder = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as typeof holder;
      } catch {
        /* a lock being written right now, or garbage: treat as held unless its owner is dead */
      }
      const alive = typeof holder.pid === 'number' && pidExists(holder.pid);
      if (alive) {
        throw new LabBusyError(
          `another 'pgcockpit lab ${holder.what ?? '?'}' is running on this lab (pid ${holder.pid}, since ${holder.since ?? '?'}); wait for it to finish`,
        );
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new LabBusyError(`could not take the lab lock ${lockFile}`);
}

export class LabBusyError extends Error {
  override name = 'LabBusyError';
}

function pidExists(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
