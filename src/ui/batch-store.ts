import type { ClusterSnapshot } from '../model/snapshot.js';
import type { ClusterStore } from '../model/store.js';

/**
 * What an operator must see at once: who leads, each member's role, state and reachability, the alerts, the
 * incident phase, failing sources, the event count. Lags, LSNs and ages are detail.
 */
function headline(snapshot: ClusterSnapshot, eventCount: number): string {
  return JSON.stringify([
    snapshot.leader,
    snapshot.paused,
    snapshot.members.map((m) => [m.name, m.role, m.state, m.restReachable, m.sqlReachable]),
    snapshot.alerts.map((a) => a.id),
    snapshot.incident?.phase,
    Object.entries(snapshot.sources)
      .filter(([, s]) => s.error !== undefined)
      .map(([key]) => key),
    eventCount,
  ]);
}

/**
 * A view of a store whose change notifications are throttled for the UI. A change of the headline (leader,
 * roles, states, alerts, incident, failing sources, new events) is delivered at once — on the next turn of
 * the event loop, so a synchronous burst is one delivery. Detail alone (lags, LSNs, ages: the pollers finish
 * one after another and each moves some number) is delivered at most once per `intervalMs`. Reads are
 * untouched, so a render always sees the newest snapshot. intervalMs 0 passes notifications through.
 */
export function batchStore(store: ClusterStore, intervalMs: number): ClusterStore {
  if (intervalMs <= 0) return store;
  const listeners = new Set<() => void>();
  let unsubscribeUpstream: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerDue = 0;
  let lastDelivery = Number.NEGATIVE_INFINITY;
  let lastHeadline = '';
  const deliver = () => {
    timer = undefined;
    lastDelivery = performance.now();
    lastHeadline = headline(store.getSnapshot(), store.getEvents().length);
    for (const listener of [...listeners]) listener();
  };
  const onUpstream = () => {
    const urgent = headline(store.getSnapshot(), store.getEvents().length) !== lastHeadline;
    const due = urgent ? performance.now() : Math.max(performance.now(), lastDelivery + intervalMs);
    if (timer !== undefined) {
      if (due >= timerDue) return;
      clearTimeout(timer);
    }
    timerDue = due;
    timer = setTimeout(deliver, Math.max(0, due - performance.now()));
  };
  return {
    getSnapshot: () => store.getSnapshot(),
    getEvents: () => store.getEvents(),
    getLagHistory: (member) => store.getLagHistory(member),
    refresh: () => store.refresh(),
    recordEvent: (event) => store.recordEvent(event),
    ...(store.recordBackup ? { recordBackup: (backup) => store.recordBackup?.(backup) } : {}),
    subscribe(listener) {
      // One upstream subscription and one timer for every reader of this view (the snapshot, the events, the lag
      // histories…): they are told together, so React draws one frame per delivery, not one per reader.
      listeners.add(listener);
      if (listeners.size === 1) {
        lastHeadline = headline(store.getSnapshot(), store.getEvents().length);
        unsubscribeUpstream = store.subscribe(onUpstream);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size > 0) return;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        unsubscribeUpstream?.();
        unsubscribeUpstream = undefined;
      };
    },
  };
}
