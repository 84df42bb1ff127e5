import type { ClusterEvent, ClusterSnapshot } from '../../src/model/snapshot.js';
import type { ClusterStore, LagSample } from '../../src/model/store.js';

/**
 * A FAKE ClusterStore for component tests: holds what the test puts in and notifies like the live store
 * (same objects until they change). No pollers, no timers, no I/O.
 */
export class FakeClusterStore implements ClusterStore {
  private snapshot: ClusterSnapshot;
  private events: readonly ClusterEvent[];
  private readonly lag = new Map<string, readonly LagSample[]>();
  private readonly listeners = new Set<() => void>();
  /** How many times refresh() was asked for. */
  refreshCount = 0;

  constructor(snapshot: ClusterSnapshot, options: { events?: readonly ClusterEvent[]; lag?: ReadonlyMap<string, readonly LagSample[]> } = {}) {
    this.snapshot = snapshot;
    this.events = options.events ?? [];
    for (const [member, samples] of options.lag ?? []) this.lag.set(member, samples);
  }

  getSnapshot = (): ClusterSnapshot => this.snapshot;
  getEvents = (): readonly ClusterEvent[] => this.events;
  getLagHistory = (member: string): readonly LagSample[] => this.lag.get(member) ?? EMPTY_SAMPLES;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  refresh = (): void => {
    this.refreshCount += 1;
  };

  recordEvent = (event: ClusterEvent): void => {
    this.events = [...this.events, event];
    this.notify();
  };

  /** Replace the snapshot (a new object, as the reducer would produce) and notify. */
  setSnapshot(snapshot: ClusterSnapshot): void {
    this.snapshot = snapshot;
    this.notify();
  }

  setLagHistory(member: string, samples: readonly LagSample[]): void {
    this.lag.set(member, samples);
    this.notify();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

const EMPTY_SAMPLES: readonly LagSample[] = Object.freeze([]);
