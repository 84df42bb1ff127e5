import type { ClusterConfig } from '../config/schema.js';
import type { ClusterSnapshot } from '../model/snapshot.js';
import type { SourceSelection } from '../model/source-selection.js';
import type { OpsContext } from './context.js';

/**
 * The vocabulary of the operations layer: the events an operation streams while it runs, the reasons it
 * gives when it cannot run, the requests a dry run lists, and the definition every operation provides.
 * Times are epoch milliseconds.
 */

export type OperationName = 'switchover' | 'failover' | 'reinit' | 'restart' | 'reload' | 'pause' | 'resume' | 'drill' | 'backup' | 'pitr' | 'rewind';

export type StepStatus = 'started' | 'done' | 'failed' | 'skipped';

/** One step of an operation, reported when it starts and again when it ends (same id). */
export interface StepEvent {
  type: 'step';
  id: string;
  title: string;
  status: StepStatus;
  startedAt: number;
  /** Set when the step ends (done, failed, skipped). */
  durationMs?: number;
  /** What was verified, or why it failed or was skipped. */
  detail?: string;
}

/** Progress of a long step: a fraction, bytes (base backup of a reinit), or both. */
export interface ProgressEvent {
  type: 'progress';
  stepId: string;
  fraction?: number;
  bytes?: number;
  totalBytes?: number;
  message?: string;
}

export interface LogEvent {
  type: 'log';
  message: string;
}

export interface WarningEvent {
  type: 'warning';
  message: string;
}

export type OperationEvent = StepEvent | ProgressEvent | LogEvent | WarningEvent;

/** A reason an operation cannot run (blocker) or should make the operator think twice (warning). */
export interface Reason {
  /** Stable identity for tests and the UI: `candidate-lag`, `no-leader`, `read-only`, … */
  code: string;
  /** One sentence with the figures: "candidate db3 lags 12.0 MB > 1.0 MB (maximum_lag_on_failover)". */
  message: string;
  member?: string;
}

export interface Preconditions {
  blockers: Reason[];
  warnings: Reason[];
}

/** An operation running on the cluster (from this runner or another process), as conflicts report it. */
export interface RunningOperationInfo {
  operation: OperationName;
  startedAt: number;
  pid?: number;
  user?: string;
}

/** What the pure precondition checks know besides the snapshot. */
export interface PreconditionContext {
  cluster: ClusterConfig;
  /** An operation already running on this cluster: a blocker for any other. */
  running?: RunningOperationInfo;
  readOnly?: boolean;
  now: number;
}

/** A request an operation would make (a dry run lists these). Never carries credentials. */
export interface PlannedRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'SQL' | 'SIGNAL' | 'EXEC';
  /** The URL, or for SQL/SIGNAL/EXEC what it targets (`127.0.0.1:5551`, `pid of db1's Patroni`). */
  url: string;
  body?: unknown;
  /** Why the request is made. */
  purpose: string;
}

export interface OperationPlan {
  operation: OperationName;
  /** One line: "switchover db1 → db2 now". */
  summary: string;
  checks: Preconditions;
  /** The state-changing requests, in order. */
  requests: PlannedRequest[];
  /** How completion will be verified. */
  verification: string[];
}

export type OperationOutcome = 'done' | 'scheduled' | 'cancelled';

export interface OperationResult {
  outcome: OperationOutcome;
  /** One line for the operator: "db2 is the leader; writes reach it through 127.0.0.1:5551 (4.2 s)". */
  summary: string;
  /** Operation-specific figures (JSON-safe). */
  details: Record<string, unknown>;
}

/** Thrown by an operation whose preflight finds a blocker that appeared after the runner's check. */
export class PreconditionError extends Error {
  override name = 'PreconditionError';
  constructor(readonly blockers: Reason[]) {
    super(blockers.map((b) => b.message).join('; '));
  }
}

/** Everything the runner needs of one operation kind. */
export interface OperationDefinition<P, R extends OperationResult = OperationResult> {
  name: OperationName;
  /** Confirmation the UI and the CLI ask for: y/N, or the member name (or cluster name) typed. */
  confirmation: 'none' | 'yes-no' | 'type-name';
  /** The name to type for 'type-name' confirmations. */
  confirmName?: (params: P, snapshot: ClusterSnapshot) => string;
  preconditions(snapshot: ClusterSnapshot, params: P, context: PreconditionContext): Preconditions;
  /**
   * The store's sources the preconditions and the run read, when not every source: a one-shot command's store
   * runs these only and the command waits for these only; the preconditions refuse while one is unread
   * (unreadBlockers). Undefined: every source (the command waits for the store's first complete round).
   */
  reads?: SourceSelection;
  plan(snapshot: ClusterSnapshot, params: P, context: PreconditionContext): OperationPlan;
  run(context: OpsContext, params: P, signal: AbortSignal): AsyncGenerator<OperationEvent, R>;
  /** Parameters as written to the audit log and shown in summaries (JSON-safe, no secret). */
  describeParams(params: P): Record<string, unknown>;
}
