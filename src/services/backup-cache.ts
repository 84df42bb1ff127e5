import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BarmanBackup } from './types.js';

/**
 * A completed Barman backup never changes, and `show-backup` costs a Barman (Python) run: keep each DONE
 * backup's details on disk, so a one-shot `pgcockpit status` does not pay for them every time.
 * $XDG_CACHE_HOME/pgcockpit/backups/<cluster>/<server>/<id>.json (/var/cache/pgcockpit as root).
 */
export class BackupDetailsCache {
  constructor(readonly dir: string) {}

  static forCluster(cluster: string, server: string, env: NodeJS.ProcessEnv = process.env): BackupDetailsCache {
    const base = process.getuid?.() === 0 ? '/var/cache/pgcockpit' : path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'pgcockpit');
    return new BackupDetailsCache(path.join(base, 'backups', cluster, server));
  }

  private file(id: string): string | undefined {
    return /^[A-Za-z0-9T_.-]+$/.test(id) ? path.join(this.dir, `${id}.json`) : undefined;
  }

  get(id: string): BarmanBackup | undefined {
    const file = this.file(id);
    if (!file) return undefined;
    try {
      const backup = JSON.parse(fs.readFileSync(file, 'utf8')) as BarmanBackup;
      return backup.id === id && backup.status === 'DONE' ? backup : undefined;
    } catch {
      return undefined;
    }
  }

  put(backup: BarmanBackup): void {
    const file = this.file(backup.id);
    if (!file || backup.status !== 'DONE') return;
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(backup));
      fs.renameSync(tmp, file);
    } catch {
      // a cache that cannot be written only costs time
    }
  }
}
