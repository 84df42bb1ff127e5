import fs from 'node:fs';
import path from 'node:path';

/**
 * Records kept in one JSON file of the state directory (`{ "version": 1, "<key>": [ … ] }`), by id: the side
 * restores' registry and the container safety copies' registry. A missing or unreadable file reads as no
 * record; every write replaces the file whole (written beside it, then renamed: a reader never sees half).
 */
export class JsonRegistry<T extends { id: string }> {
  readonly file: string;

  constructor(
    readonly dir: string,
    fileName: string,
    private readonly key: string,
  ) {
    this.file = path.join(dir, fileName);
  }

  list(): T[] {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, unknown>;
      const records = parsed[this.key];
      return Array.isArray(records) ? (records as T[]) : [];
    } catch {
      return [];
    }
  }

  get(id: string): T | undefined {
    return this.list().find((r) => r.id === id);
  }

  put(record: T): void {
    this.write([...this.list().filter((r) => r.id !== record.id), record]);
  }

  remove(id: string): void {
    this.write(this.list().filter((r) => r.id !== id));
  }

  private write(records: T[]): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ version: 1, [this.key]: records }, null, 2)}\n`, { mode: 0o644 });
    fs.renameSync(tmp, this.file);
  }
}
