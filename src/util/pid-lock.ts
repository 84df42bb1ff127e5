import fs from 'node:fs';

/**
 * An exclusive lock held by a live process: a file created with O_EXCL holding our pid. A lock left by a
 * dead process is taken over. Released by deleting the file; no descriptor stays open, so nothing leaks
 * into the processes we start.
 */
export class LockHeldError extends Error {
  override name = 'LockHeldError';
  constructor(
    readonly file: string,
    readonly holder: { pid?: number; what?: string; since?: string },
  ) {
    super(`${file} is held by pid ${holder.pid ?? '?'} (${holder.what ?? '?'}, since ${holder.since ?? '?'})`);
  }
}

export function acquirePidLock(lockFile: string, what: string): () => void {
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
        /* being written right now, or garbage: held only if its owner lives */
      }
      if (typeof holder.pid === 'number' && pidAlive(holder.pid)) throw new LockHeldError(lockFile, holder);
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new LockHeldError(lockFile, {});
}

/** Is this pid a live process (not a zombie)? */
export function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
