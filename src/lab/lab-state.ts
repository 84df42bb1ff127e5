import fs from 'node:fs';
import { LockHeldError, acquirePidLock } from '../util/pid-lock.js';
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
 * An exclusive lock on the lab directory (see acquirePidLock): a second `up` or `down` on the same lab is
 * refused while the first runs.
 */
export function acquireLabLock(lockFile: string, what: string): () => void {
  try {
    return acquirePidLock(lockFile, what);
  } catch (error) {
    if (error instanceof LockHeldError) {
      throw new LabBusyError(
        `another 'pgcockpit lab ${error.holder.what ?? '?'}' is running on this lab (pid ${error.holder.pid}, since ${error.holder.since ?? '?'}); wait for it to finish`,
      );
    }
    throw error;
  }
}

export class LabBusyError extends Error {
  override name = 'LabBusyError';
}
