import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterConfig } from '../config/schema.js';
import type { OperationName, RunningOperationInfo } from './types.js';

/**
 * One operation at a time per cluster, across processes (two operators, a CLI beside the cockpit): a lock
 * file created exclusively, holding who runs what since when. A lock whose process is gone is stale and
 * taken over. The cluster is identified by its DCS (etcd endpoints, namespace, scope), not by its name,
 * so two configs naming the same cluster differently still conflict.
 */

export function clusterIdentity(cluster: ClusterConfig): string {
  const key = [...cluster.etcd.endpoints].sort().join(',') + `|${cluster.namespace}|${cluster.scope}`;
  return `${cluster.name}-${crypto.createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

export function lockFilePath(dir: string, cluster: ClusterConfig): string {
  return path.join(dir, `${clusterIdentity(cluster)}.op.lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readOperationLock(file: string): RunningOperationInfo | undefined {
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<RunningOperationInfo>;
    if (typeof data.operation !== 'string' || typeof data.startedAt !== 'number') return undefined;
    if (typeof data.pid === 'number' && !alive(data.pid)) return undefined;
    return data as RunningOperationInfo;
  } catch {
    return undefined;
  }
}

/** Take the lock, or return who holds it. */
export function acquireOperationLock(
  file: string,
  info: { operation: OperationName; startedAt: number; user?: string },
): { acquired: true; release: () => void } | { acquired: false; holder: RunningOperationInfo } {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
  const content = JSON.stringify({ ...info, pid: process.pid });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o640);
      fs.writeSync(fd, content);
      fs.closeSync(fd);
      return {
        acquired: true,
        release: () => {
          // Only remove our own lock.
          try {
            const now = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: number; startedAt?: number };
            if (now.pid === process.pid && now.startedAt === info.startedAt) fs.unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readOperationLock(file);
      if (holder) return { acquired: false, holder };
      // Stale: its process is gone. Take it over (once).
      try {
        fs.unlinkSync(file);
      } catch {
        // raced with its owner's release
      }
    }
  }
  const holder = readOperationLock(file);
  return { acquired: false, holder: holder ?? { operation: info.operation, startedAt: Date.now() } };
}
