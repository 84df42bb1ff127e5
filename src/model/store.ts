import type { BarmanBackup } from '../services/types.js';
import type { ClusterEvent, ClusterSnapshot } from './snapshot.js';
import type { SourceSelection } from './source-selection.js';

/**
 * The store every pane reads from (through useSyncExternalStore-style hooks) and the runner writes
 * operation events into. Implementations: the live store fed by the pollers and the etcd watch
 * (src/model/live-store.ts) and, for component tests only, FakeClusterStore (test/support).
 */
export interface ClusterStore {
  /** The current snapshot; the same object until something changes (safe for useSyncExternalStore). */
  getSnapshot(): ClusterSnapshot;
  /** Called after every change of the snapshot, the events or the lag history. Returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /** The event log, oldest first, bounded (a ring buffer). Same array until it changes. */
  getEvents(): readonly ClusterEvent[];
  /** Replay lag samples of a member over the last minutes, oldest first, bounded. */
  getLagHistory(member: string): readonly LagSample[];
  /**
   * Resolves once every source of the selection has been read once (answered or failed) and the snapshot shows
   * it, or once none of them can be read any more (every source the store runs has been read once: one it does
   * not run stays unread, and a check that reads it refuses). Stores whose snapshot is all there is (fakes) may
   * leave it out.
   */
  whenSourcesRead?(selection: SourceSelection): Promise<void>;
  /** Ask for a refresh of every source now (e.g. after an operation step). */
  refresh(): void;
  /** Record an event that did not come from a source (operations, the operator). */
  recordEvent(event: ClusterEvent): void;
  /**
   * A backup an operation has just verified (the backup.info it read): the Backups pane and the PITR dialog
   * show it at once, before Barman is read again. Stores that show no backups may leave it out.
   */
  recordBackup?(backup: BarmanBackup): void;
}

export interface LagSample {
  at: number;
  replayLagBytes?: number;
  replayLagSeconds?: number;
}
