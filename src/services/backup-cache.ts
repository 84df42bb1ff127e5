import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BarmanAdapter, BarmanServerPaths, BarmanStateFingerprint } from './barman.js';
import type { BarmanBackup, CallOptions } from './types.js';

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

/** What `list-backups` answered, with the fingerprint of Barman's state taken just before it ran. */
interface CachedBackupList {
  key: string;
  fingerprint: BarmanStateFingerprint;
  readAt: number;
  backups: BarmanBackup[];
}

interface CachedServerPaths extends BarmanServerPaths {
  key: string;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function writeJson(file: string, value: unknown): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(value));
    fs.renameSync(tmp, file);
  } catch {
    // a cache that cannot be written only costs time
  }
}

function readerKey(barman: BarmanAdapter): string {
  return `${barman.transport.description}\u0000${barman.argv('', []).join(' ')}`;
}

/** A backup in any other state (STARTED, WAITING_FOR_WALS…) may move without its backup.info changing yet. */
const FINAL_STATUSES = new Set(['DONE', 'FAILED']);

export interface BarmanListReaderOptions {
  /** When only Barman's WAL changed (xlog.db), the cached list stands this long (its WAL sizes lag by at most this). */
  walRefreshMs?: number;
  now?: () => number;
}

/**
 * `barman list-backups` without a Barman (Python) run when nothing changed: each read first takes the
 * fingerprint of Barman's state (one `stat` through the same transport, a few milliseconds) and answers from
 * the list kept on disk when the backups' part is unchanged — a backup started, ended, failed or deleted
 * always goes to Barman. When only the WAL part moved, or a backup is still running, the kept list stands
 * for `walRefreshMs` (default 60 s: only WAL sizes and a running backup's size can lag that much). Anything unexpected (no fingerprint, a missing directory) falls
 * back to plain `list-backups`. Shared on disk by every pgcockpit process of the account (status, the cockpit).
 */
export class BarmanListReader {
  private readonly walRefreshMs: number;
  private readonly now: () => number;
  private readonly key: string;

  constructor(
    private readonly barman: BarmanAdapter,
    readonly dir: string,
    options: BarmanListReaderOptions = {},
  ) {
    this.walRefreshMs = options.walRefreshMs ?? 60_000;
    this.now = options.now ?? Date.now;
    // A change of transport or Barman config is another state: never answer from the other one's.
    this.key = readerKey(barman);
  }

  /** Under the cluster's cache, one directory per Barman (transport and config): two labs both called "lab" never share one. */
  static forCluster(barman: BarmanAdapter, cluster: string, server: string, env: NodeJS.ProcessEnv = process.env, options: BarmanListReaderOptions = {}): BarmanListReader {
    const where = createHash('sha256').update(readerKey(barman)).digest('hex').slice(0, 16);
    return new BarmanListReader(barman, path.join(BackupDetailsCache.forCluster(cluster, server, env).dir, 'state', where), options);
  }

  private get pathsFile(): string {
    return path.join(this.dir, 'server-paths.json');
  }

  private get listFile(): string {
    return path.join(this.dir, 'list-backups.json');
  }

  /** The server's base backup and WAL directories: `show-servers` once, then from disk (also for readers of Barman's files, e.g. src/services/barman-catalog.ts). */
  async paths(options: CallOptions = {}): Promise<BarmanServerPaths> {
    const cached = readJson<CachedServerPaths>(this.pathsFile);
    if (cached?.key === this.key && cached.basebackupsDirectory && cached.walsDirectory) return cached;
    const paths = await this.barman.serverPaths(options);
    writeJson(this.pathsFile, { key: this.key, ...paths });
    return paths;
  }

  async listBackups(options: CallOptions = {}): Promise<BarmanBackup[]> {
    let fingerprint: BarmanStateFingerprint | undefined;
    try {
      fingerprint = await this.barman.stateFingerprint(await this.paths(options), options);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // The directories moved or the host cannot stat: ask show-servers again next time, and Barman now.
      fs.rmSync(this.pathsFile, { force: true });
    }
    const cached = readJson<CachedBackupList>(this.listFile);
    if (
      fingerprint &&
      cached?.key === this.key &&
      Array.isArray(cached.backups) &&
      cached.fingerprint?.backups === fingerprint.backups &&
      ((cached.fingerprint.wals === fingerprint.wals && cached.backups.every((b) => FINAL_STATUSES.has(b.status))) || this.now() - cached.readAt < this.walRefreshMs)
    ) {
      return cached.backups;
    }
    const readAt = this.now();
    const backups = await this.barman.listBackups(options);
    if (fingerprint) writeJson(this.listFile, { key: this.key, fingerprint, readAt, backups } satisfies CachedBackupList);
    return backups;
  }
}
