import { createContext, useContext, useEffect, useState } from 'react';
import type { CommandId } from '../keymap/keymap.js';
import type { ClusterSnapshot } from '../model/snapshot.js';
import type { CandidateOption } from '../ops/checks.js';
import { candidateOptions } from '../ops/checks.js';
import type { OperationRequest } from '../ops/operations.js';
import type { OperationRun, RunnerState } from '../ops/runner.js';
import type { RestoreListing } from '../ops/pitr.js';
import type { OperationPlan, Preconditions } from '../ops/types.js';

/**
 * What the cockpit needs of the operations layer: the OperationRunner's public face (a fake in component
 * tests). The UI does no I/O of its own: checks, plans and runs all go through this port.
 */
export interface OperationsPort {
  readonly readOnly: boolean;
  check(request: OperationRequest): Preconditions;
  plan(request: OperationRequest): OperationPlan;
  run(request: OperationRequest): Promise<OperationRun>;
  abort(reason?: string): boolean;
  getState(): RunnerState;
  subscribe(listener: () => void): () => void;
}

/** What the cockpit gives its keys besides the runner: the I/O actions that are not operations. */
export interface CockpitServices {
  operations?: OperationsPort;
  /** Writes the timeline export and returns its path (throws on a write error). */
  exportTimeline?: () => string;
  /** The side restores and safety copies as of now (the PITR dialog lists them). */
  listRestores?: () => RestoreListing;
}

export const CockpitServicesContext = createContext<CockpitServices>({});

export function useCockpitServices(): CockpitServices {
  return useContext(CockpitServicesContext);
}

const NO_RUN: RunnerState = {};

/**
 * The runner's state, re-rendered at most once per `batchMs` (an operation streaming progress and log
 * lines costs the screen a few renders a second, not one per event — STYLE rule 4).
 */
export function useRunnerState(port: OperationsPort | undefined, batchMs = 100): RunnerState {
  const [state, setState] = useState<RunnerState>(() => port?.getState() ?? NO_RUN);
  useEffect(() => {
    if (!port) return undefined;
    setState(port.getState());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = port.subscribe(() => {
      if (batchMs <= 0) {
        setState(port.getState());
        return;
      }
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        setState(port.getState());
      }, batchMs);
    });
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      unsubscribe();
    };
  }, [port, batchMs]);
  return state;
}

/** The operation keys the cockpit runs through a modal. */
export type ModalCommand = 'op.switchover' | 'op.failover' | 'op.reinit' | 'op.restart' | 'op.reload' | 'op.pause' | 'op.drill' | 'op.backup' | 'op.pitr';

export const MODAL_COMMANDS: readonly ModalCommand[] = ['op.switchover', 'op.failover', 'op.reinit', 'op.restart', 'op.reload', 'op.pause', 'op.drill', 'op.backup', 'op.pitr'];

export function isModalCommand(id: CommandId): id is ModalCommand {
  return (MODAL_COMMANDS as readonly string[]).includes(id);
}

/** Commands that start with a candidate picker. */
export function needsCandidate(command: ModalCommand): boolean {
  return command === 'op.switchover' || command === 'op.failover';
}

/**
 * The request a command makes on the current snapshot: the member the operator selected, the candidate
 * they picked, pause or resume by whether the cluster is paused now.
 */
export function requestFor(command: ModalCommand, snapshot: ClusterSnapshot, choice: { member?: string; candidate?: string }): OperationRequest | undefined {
  switch (command) {
    case 'op.switchover':
      return { operation: 'switchover', params: choice.candidate === undefined ? {} : { candidate: choice.candidate } };
    case 'op.failover': {
      const candidate = choice.candidate ?? candidateOptions(snapshot).find((o) => o.eligible)?.member ?? candidateOptions(snapshot)[0]?.member;
      return candidate === undefined ? undefined : { operation: 'failover', params: { candidate } };
    }
    case 'op.reinit':
      return choice.member === undefined ? undefined : { operation: 'reinit', params: { member: choice.member } };
    case 'op.restart':
      if (choice.member === '*pending') return { operation: 'restart', params: { pending: true } };
      return choice.member === undefined ? undefined : { operation: 'restart', params: { member: choice.member } };
    case 'op.reload':
      return choice.member === undefined ? undefined : { operation: 'reload', params: { member: choice.member } };
    case 'op.pause':
      return snapshot.paused ? { operation: 'resume', params: {} } : { operation: 'pause', params: {} };
    case 'op.drill':
      return { operation: 'drill', params: {} };
    case 'op.backup':
      return { operation: 'backup', params: {} };
    case 'op.pitr':
      // The PITR dialog builds its request from the target the operator types (pitr-form.ts).
      return undefined;
  }
}

/**
 * How the cockpit confirms, in proportion to the danger: y/N for the planned and reversible ones, the
 * member's name typed for failover and reinit, the cluster's name for the drill (it kills the leader).
 */
export type Confirmation = { kind: 'yes-no' } | { kind: 'type-name'; name: string };

export function confirmationFor(request: OperationRequest, snapshot: ClusterSnapshot): Confirmation {
  switch (request.operation) {
    case 'failover':
      return { kind: 'type-name', name: request.params.candidate };
    case 'reinit':
      return { kind: 'type-name', name: request.params.member };
    case 'drill':
    case 'rewind':
      return { kind: 'type-name', name: snapshot.cluster };
    default:
      return { kind: 'yes-no' };
  }
}

/**
 * Why a command cannot run now, in the runner's words (its first blocker), for the keymap's disabled
 * reasons. For the picker operations a blocker about one candidate does not disable the key: the picker
 * says it beside that candidate.
 */
export function commandBlocker(port: OperationsPort, command: ModalCommand, snapshot: ClusterSnapshot, selectedMember: string | undefined): string | undefined {
  if (command === 'op.switchover' || command === 'op.failover') {
    const options = candidateOptions(snapshot);
    if (options.length === 0) return 'no replica to hand the leadership to';
  }
  const request = requestFor(command, snapshot, selectedMember === undefined ? {} : { member: selectedMember });
  if (!request) return undefined;
  let blockers;
  try {
    blockers = port.check(request).blockers;
  } catch (error) {
    return (error as Error).message;
  }
  const relevant = needsCandidate(command) ? blockers.filter((b) => !b.code.startsWith('candidate') && b.code !== 'unknown-member') : blockers;
  return relevant[0]?.message;
}

/** The picker's options: every replica with its lag, eligible or not and why. */
export function pickerOptions(snapshot: ClusterSnapshot): CandidateOption[] {
  return candidateOptions(snapshot);
}

/** Members with a pending restart (the restart dialog offers them all at once). */
export function pendingRestartMembers(snapshot: ClusterSnapshot): string[] {
  return snapshot.members.filter((m) => m.pendingRestart).map((m) => m.name);
}
