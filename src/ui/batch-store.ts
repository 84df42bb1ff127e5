import type { ClusterStore } from '../model/store.js';

/**
 * A view of a store whose change notifications are coalesced: at most one per `intervalMs` (the first
 * change after a quiet period is delivered after `intervalMs`, later ones ride along). A store that
 * changes 100 times a second then costs the UI at most 1000/intervalMs renders; reads are untouched, so
 * a render always sees the newest snapshot. intervalMs 0 passes notifications through.
 */
export function batchStore(store: ClusterStore, intervalMs: number): ClusterStore {
  if (intervalMs <= 0) return store;
  return {
    getSnapshot: () => store.getSnapshot(),
    getEvents: () => store.getEvents(),
    getLagHistory: (member) => store.getLagHistory(member),
    refresh: () => store.refresh(),
    recordEvent: (event) => store.recordEvent(event),
    subscribe(listener) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const unsubscribe = store.subscribe(() => {
        if (timer !== undefined) return;
        timer = setTimeout(() => {
          timer = undefined;
          listener();
        }, intervalMs);
      });
      return () => {
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        unsubscribe();
      };
    },
  };
}
