import type { ClusterSnapshot } from './snapshot.js';

/**
 * Some of the store's sources: what a one-shot command's checks read, declared next to them (an operation's
 * `reads`). The command's store runs only these and it waits for them only; the checks refuse on any of them
 * not read yet, so no check ever passes on a source that was not read.
 */
export interface SourceSelection {
  /** Whole-cluster sources by key: `patroni` (/cluster), `dcs`, `etcd`, `haproxy`, `barman`… */
  keys: readonly string[];
  /** The leader's own sources too: its REST API and its PostgreSQL (`patroni:<leader>`, `postgres:<leader>`). */
  leader?: boolean;
}

/** The sources a selection names once the leader is known (before that, its whole-cluster sources only). */
export function selectedSources(selection: SourceSelection, leader: string | undefined): string[] {
  return [...selection.keys, ...(selection.leader && leader !== undefined ? [`patroni:${leader}`, `postgres:${leader}`] : [])];
}

/** Does the selection take this source? (The store's filter: a member's sources are taken for the leader only.) */
export function selectsSource(selection: SourceSelection, key: string, leader: string | undefined): boolean {
  return selectedSources(selection, leader).includes(key);
}

/** The selected sources the snapshot has not read yet: neither an answer nor a failure from them. */
export function unreadSources(selection: SourceSelection, snapshot: ClusterSnapshot): string[] {
  return selectedSources(selection, snapshot.leader).filter((key) => snapshot.sources[key] === undefined);
}

