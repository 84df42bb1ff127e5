/**
 * A bounded buffer that keeps the newest `capacity` items: memory stays flat however long the cockpit runs
 * (wallboards run for days). `toArray()` returns the same array until the buffer changes.
 */
export class RingBuffer<T> {
  private items: T[] = [];
  private start = 0;
  private view: readonly T[] | undefined = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new Error(`ring buffer capacity must be a positive integer, got ${capacity}`);
  }

  push(...values: T[]): void {
    for (const value of values) {
      if (this.items.length < this.capacity) {
        this.items.push(value);
      } else {
        this.items[this.start] = value;
        this.start = (this.start + 1) % this.capacity;
      }
    }
    if (values.length) this.view = undefined;
  }

  get size(): number {
    return this.items.length;
  }

  toArray(): readonly T[] {
    this.view ??= [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
    return this.view;
  }

  clear(): void {
    this.items = [];
    this.start = 0;
    this.view = [];
  }
}
