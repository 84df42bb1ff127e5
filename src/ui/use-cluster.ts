import { useCallback, useRef, useSyncExternalStore } from 'react';
import type { ClusterEvent, ClusterSnapshot } from '../model/snapshot.js';
import type { ClusterStore, LagSample } from '../model/store.js';

/** The current snapshot; re-renders only when the store hands out a new snapshot object. */
export function useSnapshot(store: ClusterStore): ClusterSnapshot {
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store]);
  const get = useCallback(() => store.getSnapshot(), [store]);
  return useSyncExternalStore(subscribe, get, get);
}

/** The event log, oldest first; re-renders only when the store hands out a new array. */
export function useEvents(store: ClusterStore): readonly ClusterEvent[] {
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store]);
  const get = useCallback(() => store.getEvents(), [store]);
  return useSyncExternalStore(subscribe, get, get);
}

/**
 * Keep the previous array when a new one holds the same samples. The store contract promises "same array
 * until it changes" for the snapshot and the events; for lag history this guards against a store that
 * copies on every read (which would make useSyncExternalStore loop).
 */
function sameSamples(a: readonly LagSample[], b: readonly LagSample[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  if (a.length === 0) return true;
  return a[0] === b[0] && a[a.length - 1] === b[b.length - 1];
}

/** Replay lag samples of one member, oldest first. */
export function useLagHistory(store: ClusterStore, member: string): readonly LagSample[] {
  const cache = useRef<readonly LagSample[]>([]);
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store]);
  const get = useCallback(() => {
    const next = store.getLagHistory(member);
    if (!sameSamples(cache.current, next)) cache.current = next;
    return cache.current;
  }, [store, member]);
  return useSyncExternalStore(subscribe, get, get);
}

export type LagHistories = ReadonlyMap<string, readonly LagSample[]>;

/** Lag histories of several members at once (the Lag pane), one stable Map until any of them changes. */
export function useLagHistories(store: ClusterStore, members: readonly string[]): LagHistories {
  const cache = useRef<Map<string, readonly LagSample[]>>(new Map());
  const key = members.join('\u0000');
  const subscribe = useCallback((listener: () => void) => store.subscribe(listener), [store]);
  const get = useCallback(() => {
    const names = key === '' ? [] : key.split('\u0000');
    const previous = cache.current;
    let changed = previous.size !== names.length;
    const next = new Map<string, readonly LagSample[]>();
    for (const name of names) {
      const samples = store.getLagHistory(name);
      const old = previous.get(name);
      if (old !== undefined && sameSamples(old, samples)) next.set(name, old);
      else {
        next.set(name, samples);
        changed = true;
      }
    }
    if (changed) cache.current = next;
    return cache.current;
  }, [store, key]);
  return useSyncExternalStore(subscribe, get, get);
}
