import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClusterEvent } from './snapshot.js';
import { LockHeldError, acquirePidLock } from '../util/pid-lock.js';

/**
 * The model's event log on disk: JSON lines, bounded (rotated at `maxBytes`, `keep` old files), so that a
 * cockpit restarted in the middle of an incident loses nothing. One writer per file at a time (a pid lock):
 * a second cockpit on the same cluster reads the log but leaves the writing to the first.
 */
export class EventLogFile {
  private release: (() => void) | undefined;

  constructor(
    readonly file: string,
    readonly maxBytes = 5 * 1024 * 1024,
    readonly keep = 2,
  ) {}

  /** <eventLogDir>/<cluster>.jsonl; by default $XDG_STATE_HOME/pgcockpit/events (/var/lib/pgcockpit/events as root). */
  static pathFor(cluster: string, dir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
    const base =
      dir ??
      path.join(process.getuid?.() === 0 ? '/var/lib/pgcockpit' : path.join(env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'), 'pgcockpit'), 'events');
    return path.join(path.resolve(base), `${cluster}.jsonl`);
  }

  /** Become the writer; false when another live process writes this log. */
  acquire(): boolean {
    if (this.release) return true;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    try {
      this.release = acquirePidLock(`${this.file}.lock`, 'event log');
      return true;
    } catch (error) {
      if (error instanceof LockHeldError) return false;
      throw error;
    }
  }

  get isWriter(): boolean {
    return this.release !== undefined;
  }

  append(events: readonly ClusterEvent[]): void {
    if (!this.release || events.length === 0) return;
    fs.appendFileSync(this.file, events.map((e) => JSON.stringify(e)).join('\n') + '\n', { mode: 0o640 });
    let size: number;
    try {
      size = fs.statSync(this.file).size;
    } catch {
      return;
    }
    if (size > this.maxBytes) this.rotate();
  }

  private rotate(): void {
    for (let i = this.keep; i >= 1; i--) {
      const from = i === 1 ? this.file : `${this.file}.${i - 1}`;
      const to = `${this.file}.${i}`;
      if (fs.existsSync(from)) fs.renameSync(from, to);
    }
  }

  /** Every event kept on disk (oldest first), optionally only those at or after `sinceMs`. Bad lines are skipped. */
  read(sinceMs = 0): ClusterEvent[] {
    const files = [...Array.from({ length: this.keep }, (_, i) => `${this.file}.${this.keep - i}`), this.file];
    const events: ClusterEvent[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          const event = JSON.parse(line) as ClusterEvent;
          if (typeof event.at === 'number' && typeof event.message === 'string' && event.at >= sinceMs) events.push(event);
        } catch {
          // a line cut short by a crash: the rest of the log is still good
        }
      }
    }
    return events.sort((a, b) => a.at - b.at);
  }

  close(): void {
    this.release?.();
    this.release = undefined;
  }
}
