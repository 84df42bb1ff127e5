import type { LagSeries } from '../../components/LagPane.js';
import type { CommandId, KeymapContext } from '../keymap/keymap.js';
import type { ClusterEvent, ClusterSnapshot, MemberView } from '../model/snapshot.js';
import type { LagSample } from '../model/store.js';
import type { CockpitUiState } from './cockpit-state.js';
import type { MemberHealth } from './member-health.js';
import { isLeaderMember, lagThresholdBytes, memberHealth } from './member-health.js';

export type CockpitMode = 'cockpit' | 'watch';

export interface CockpitConfig {
  mode: CockpitMode;
  /** Watch mode is always read-only; the cockpit can be asked to be. */
  readOnly: boolean;
  /** False until the operations layer exists: every operation key then says so. */
  operationsAvailable: boolean;
  /** The cockpit can write a timeline export (T). */
  timelineExportAvailable?: boolean;
}

/** Everything the screens render, derived from the store's data and the UI state. Pure. */
export interface CockpitView {
  snapshot: ClusterSnapshot;
  config: CockpitConfig;
  ui: CockpitUiState;
  /** Members after the filter, in the snapshot's order. */
  members: readonly MemberView[];
  totalMembers: number;
  /** Replicas after the filter, for the Lag pane. */
  lagSeries: readonly LagSeries[];
  /** Events after the filter, oldest first. */
  events: readonly ClusterEvent[];
  totalEvents: number;
  thresholdBytes: number;
  /** The selection the operator sees: the chosen member if still visible, else the first visible. */
  selectedMember?: string;
  detail?: { member: MemberView; health: MemberHealth };
  keymapContext: KeymapContext;
}

function includesFolded(haystack: string | undefined, needle: string): boolean {
  return haystack !== undefined && haystack.toLowerCase().includes(needle);
}

/** `/` on members: name, role, state, host, tags (so "nofailover" or "db2" both work). */
export function filterMembers(members: readonly MemberView[], filter: string): readonly MemberView[] {
  const needle = filter.trim().toLowerCase();
  if (needle === '') return members;
  return members.filter(
    (m) =>
      includesFolded(m.name, needle) ||
      includesFolded(m.role, needle) ||
      includesFolded(m.state, needle) ||
      includesFolded(m.host, needle) ||
      Object.entries(m.tags).some(([k, v]) => includesFolded(k, needle) || includesFolded(String(v), needle)),
  );
}

/** `/` on events: the message, the member, the kind. */
export function filterEvents(events: readonly ClusterEvent[], filter: string): readonly ClusterEvent[] {
  const needle = filter.trim().toLowerCase();
  if (needle === '') return events;
  return events.filter(
    (e) => includesFolded(e.message, needle) || includesFolded(e.member, needle) || includesFolded(e.kind, needle),
  );
}

export function buildCockpitView(input: {
  snapshot: ClusterSnapshot;
  events: readonly ClusterEvent[];
  lagHistories: ReadonlyMap<string, readonly LagSample[]>;
  ui: CockpitUiState;
  config: CockpitConfig;
  /** The runner's first blocker for a command now (undefined: it can run). */
  precondition?: (command: CommandId, selectedMember: string | undefined) => string | undefined;
}): CockpitView {
  const { snapshot, ui, config } = input;
  const members = filterMembers(snapshot.members, ui.filter);
  const events = filterEvents(input.events, ui.filter);
  const thresholdBytes = lagThresholdBytes(snapshot);
  const replicas = members.filter((m) => !isLeaderMember(m, snapshot.leader));
  const lagSeries: LagSeries[] = replicas.map((m) => ({
    member: m.name,
    samples: input.lagHistories.get(m.name) ?? [],
    ...(m.replayLagBytes === undefined ? {} : { currentBytes: m.replayLagBytes }),
    ...(m.replayLagSeconds === undefined ? {} : { currentSeconds: m.replayLagSeconds }),
    lagUnknown: m.lagUnknown,
  }));
  const selectedMember =
    ui.selectedMember !== undefined && members.some((m) => m.name === ui.selectedMember)
      ? ui.selectedMember
      : members[0]?.name;
  const detailMember = ui.detailMember === undefined ? undefined : snapshot.members.find((m) => m.name === ui.detailMember);
  const keymapContext: KeymapContext = {
    readOnly: config.readOnly || config.mode === 'watch',
    operationsAvailable: config.operationsAvailable,
    focusedPane: ui.focusedPane,
    ...(selectedMember === undefined ? {} : { selectedMember }),
    ...(config.timelineExportAvailable ? { timelineExportAvailable: true } : {}),
  };
  const { precondition } = input;
  if (precondition) keymapContext.precondition = (command) => precondition(command, selectedMember);
  return {
    snapshot,
    config,
    ui,
    members,
    totalMembers: snapshot.members.length,
    lagSeries,
    events,
    totalEvents: input.events.length,
    thresholdBytes,
    ...(selectedMember === undefined ? {} : { selectedMember }),
    ...(detailMember === undefined
      ? {}
      : {
          detail: {
            member: detailMember,
            health: memberHealth(detailMember, {
              thresholdBytes,
              alerts: snapshot.alerts,
              ...(snapshot.leader === undefined ? {} : { leader: snapshot.leader }),
            }),
          },
        }),
    keymapContext,
  };
}
