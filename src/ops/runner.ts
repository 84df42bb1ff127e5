import crypto from 'node:crypto';
import path from 'node:path';
import type { ClusterEvent } from '../model/snapshot.js';
import { ServiceError } from '../services/types.js';
import type { AuditRecord, AuditSink, OperatorIdentity } from './audit.js';
import { operatorIdentity } from './audit.js';
import { describeRunning } from './checks.js';
import type { OpsContext } from './context.js';
import { acquireOperationLock, lockFilePath, readOperationLock } from './lock.js';
import type { OperationRequest } from './operations.js';
import { definitionOf } from './operations.js';
import type { OperationEvent, OperationName, OperationPlan, OperationResult, PreconditionContext, Preconditions, Reason, RunningOperationInfo, StepEvent } from './types.js';
import { PreconditionError } from './types.js';
import { compactStamp } from '../util/units.js';

/**
 * The one place operations run: it checks their preconditions (and its own: read-only mode, another
 * operation on the same cluster, in this process or another), owns their AbortControllers, streams their
 * events to subscribers and into the store's event log, writes the audit log, and tells when it is idle.
 * The UI and the CLI both drive operations through it; neither can bypass read-only mode.
 */

export type RunStatus = 'running' | 'done' | 'refused' | 'failed' | 'aborted';

/** One operation run, as the UI shows it (a new object on every change: safe for useSyncExternalStore). */
export interface OperationRun {
  id: string;
  operation: OperationName;
  params: Record<string, unknown>;
  status: RunStatus;
  startedAt: number;
  endedAt?: number;
  durationMs?: number;
  /** Every event, oldest first (capped). */
  events: readonly OperationEvent[];
  /** The latest state of each step, in the order they started. */
  steps: readonly StepEvent[];
  warnings: readonly string[];
  /** Why it was refused (blockers), when refused. */
  reasons?: readonly Reason[];
  result?: OperationResult;
  /** What went wrong, when failed or aborted. */
  error?: string;
  /** Whether a state-changing request had been sent when it failed or was aborted. */
  requestSent?: boolean;
}

export interface RunnerState {
  current?: OperationRun;
  last?: OperationRun;
}

export interface RunnerOptions {
  context: OpsContext;
  readOnly: boolean;
  audit: AuditSink;
  /** Where the cross-process lock of the cluster lives (default: beside the audit log, given by the caller). */
  lockDir: string;
  identity?: OperatorIdentity;
  /** Events kept per run. */
  eventCapacity?: number;
}

export interface RunOptions {
  /** Called with every event as it happens (the CLI prints them). */
  onEvent?: (event: OperationEvent, run: OperationRun) => void;
}

const REQUEST_STEP = /^(request|restart:|reload:|kill)/;

export class OperationRunner {
  private state: RunnerState = {};
  private readonly listeners = new Set<() => void>();
  private controller: AbortController | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly identity: OperatorIdentity;

  constructor(private readonly options: RunnerOptions) {
    this.identity = options.identity ?? operatorIdentity();
  }

  get readOnly(): boolean {
    return this.options.readOnly;
  }

  get lockFile(): string {
    return lockFilePath(this.options.lockDir, this.options.context.cluster);
  }

  // ------------------------------------------------------------------ what the UI reads

  getState = (): RunnerState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Resolves when no operation runs (at once when none does). */
  whenIdle(): Promise<void> {
    if (!this.state.current) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The operation running on this cluster now: this runner's, or another process's (from the lock). */
  runningOperation(): RunningOperationInfo | undefined {
    const current = this.state.current;
    if (current) return { operation: current.operation, startedAt: current.startedAt, pid: process.pid, user: this.identity.user };
    return readOperationLock(this.lockFile);
  }

  private preconditionContext(): PreconditionContext {
    const context: PreconditionContext = { cluster: this.options.context.cluster, readOnly: this.options.readOnly, now: this.options.context.now() };
    const running = this.runningOperation();
    if (running) context.running = running;
    return context;
  }

  /** The checks of an operation on the current snapshot, including the runner's own (read-only, running). Pure read. */
  check(request: OperationRequest): Preconditions {
    return definitionOf(request).preconditions(this.options.context.store.getSnapshot(), request.params, this.preconditionContext());
  }

  /** The dry run: checks, the exact requests, and how the result will be verified. */
  plan(request: OperationRequest): OperationPlan {
    return definitionOf(request).plan(this.options.context.store.getSnapshot(), request.params, this.preconditionContext());
  }

  /** Abort the running operation. Before its request nothing changes; after, Patroni may still complete it. */
  abort(reason = 'aborted by the operator'): boolean {
    if (!this.controller) return false;
    this.controller.abort(new Error(reason));
    return true;
  }

  // ------------------------------------------------------------------ running

  /**
   * Run an operation to its end. Never throws for the operation's own failures: the returned run says
   * done, refused (with reasons), failed or aborted.
   */
  async run(request: OperationRequest, options: RunOptions = {}): Promise<OperationRun> {
    const definition = definitionOf(request);
    const { context } = this.options;
    const startedAt = context.now();
    const params = definition.describeParams(request.params);
    const run: OperationRun = { id: newRunId(startedAt), operation: request.operation, params, status: 'running', startedAt, events: [], steps: [], warnings: [] };
    const audit = (event: AuditRecord['event'], extra: Record<string, unknown> = {}) => this.audit(run, event, extra);

    // The runner's own refusals come first: read-only, then a conflicting operation.
    if (this.options.readOnly) {
      return this.refuse(run, [{ code: 'read-only', message: 'read-only mode: operations are disabled (started with --read-only)' }]);
    }
    if (this.state.current) return this.refuse(run, [{ code: 'operation-running', message: describeRunning(this.runningOperation() as RunningOperationInfo) }]);
    const lock = acquireOperationLock(this.lockFile, { operation: request.operation, startedAt, user: this.identity.user });
    if (!lock.acquired) return this.refuse(run, [{ code: 'operation-running', message: describeRunning(lock.holder) }]);

    const controller = new AbortController();
    this.controller = controller;
    this.state = { ...this.state, current: run };
    let current = run;
    try {
      const checks = definition.preconditions(context.store.getSnapshot(), request.params, { cluster: context.cluster, readOnly: false, now: context.now() });
      if (checks.blockers.length) return this.finishRefused(current, checks.blockers);
      audit('start', { warnings: checks.warnings.map((w) => w.message) });
      this.record({ at: startedAt, kind: 'operation', severity: 'info', message: `${request.operation} started by ${this.identity.user}${summarizeParams(params)}` });
      this.update(current);

      const emit = (event: OperationEvent) => {
        current = applyEvent(current, event, this.options.eventCapacity ?? 500);
        this.update(current);
        options.onEvent?.(event, current);
        if (event.type === 'step' && event.status !== 'started') {
          audit('step', { step: { id: event.id, title: event.title, status: event.status, durationMs: event.durationMs, detail: event.detail } });
          this.record({ at: context.now(), kind: 'operation', ...(event.status === 'failed' ? { severity: 'critical' as const } : {}), message: `${request.operation}: ${event.title} ${event.status}${event.durationMs !== undefined ? ` (${event.durationMs} ms)` : ''}` });
        } else if (event.type === 'warning') {
          audit('warning', { message: event.message });
          this.record({ at: context.now(), kind: 'operation', severity: 'warning', message: `${request.operation}: ${event.message}` });
        }
      };

      const generator = definition.run(context, request.params, controller.signal);
      let result: OperationResult | undefined;
      try {
        for (;;) {
          const next = await generator.next();
          if (next.done) {
            result = next.value;
            break;
          }
          emit(next.value);
        }
      } catch (error) {
        return this.finishError(current, error, controller.signal, emit);
      }
      const endedAt = context.now();
      current = { ...current, status: 'done', result, endedAt, durationMs: endedAt - startedAt };
      audit('end', { status: 'done', result, durationMs: current.durationMs });
      this.record({ at: endedAt, kind: 'operation', severity: 'info', message: `${request.operation} done: ${result.summary}` });
      return this.finish(current);
    } finally {
      lock.release();
      if (this.controller === controller) this.controller = undefined;
    }
  }

  private finishError(run: OperationRun, error: unknown, signal: AbortSignal, emit: (event: OperationEvent) => void): OperationRun {
    const message = error instanceof Error ? error.message : String(error);
    const requestSent = run.steps.some((s) => REQUEST_STEP.test(s.id) && (s.status === 'done' || s.status === 'started'));
    // Close the steps left open: the one that failed, and any started beside it.
    for (const step of run.steps.filter((s) => s.status === 'started')) {
      emit({ ...step, status: 'failed', durationMs: this.options.context.now() - step.startedAt, detail: message });
    }
    const current = this.state.current ?? run;
    if (error instanceof PreconditionError) return this.finishRefused(current, error.blockers);
    // A 401/403 means Patroni refused the request: nothing was applied.
    if (error instanceof ServiceError && error.kind === 'auth') {
      return this.finishRefused(current, [{ code: 'rest-auth', message }]);
    }
    const aborted = signal.aborted;
    const endedAt = this.options.context.now();
    const done: OperationRun = {
      ...current,
      status: aborted ? 'aborted' : 'failed',
      error: aborted ? `${message}${requestSent ? ' (the request had been sent: Patroni may still complete it)' : ' (before any request: nothing changed)'}` : message,
      requestSent,
      endedAt,
      durationMs: endedAt - current.startedAt,
    };
    this.audit(done, 'end', { status: done.status, error: done.error, requestSent, durationMs: done.durationMs });
    this.record({ at: endedAt, kind: 'operation', severity: 'critical', message: `${done.operation} ${done.status}: ${done.error ?? ''}` });
    return this.finish(done);
  }

  private finishRefused(run: OperationRun, reasons: Reason[]): OperationRun {
    const endedAt = this.options.context.now();
    const refused: OperationRun = { ...run, status: 'refused', reasons, endedAt, durationMs: endedAt - run.startedAt };
    this.audit(refused, 'refused', { reasons: reasons.map((r) => r.message) });
    this.record({ at: endedAt, kind: 'operation', severity: 'warning', message: `${run.operation} refused: ${reasons.map((r) => r.message).join('; ')}` });
    return this.finish(refused);
  }

  /** A refusal before the run became current (read-only, another operation): nothing of this run's state changes. */
  private refuse(run: OperationRun, reasons: Reason[]): OperationRun {
    const endedAt = this.options.context.now();
    const refused: OperationRun = { ...run, status: 'refused', reasons, endedAt, durationMs: endedAt - run.startedAt };
    this.audit(refused, 'refused', { reasons: reasons.map((r) => r.message) });
    this.record({ at: endedAt, kind: 'operation', severity: 'warning', message: `${run.operation} refused: ${reasons.map((r) => r.message).join('; ')}` });
    return refused;
  }

  private finish(run: OperationRun): OperationRun {
    this.state = { last: run };
    this.notify();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
    return run;
  }

  private update(run: OperationRun): void {
    this.state = { ...this.state, current: run };
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private record(event: ClusterEvent): void {
    try {
      this.options.context.store.recordEvent(event);
    } catch {
      // the event log is a view; never fail an operation for it
    }
  }

  private audit(run: OperationRun, event: AuditRecord['event'], extra: Record<string, unknown>): void {
    const { cluster } = this.options.context;
    const record: AuditRecord = {
      time: new Date(this.options.context.now()).toISOString(),
      event,
      operationId: run.id,
      cluster: cluster.name,
      scope: cluster.scope,
      operation: run.operation,
      params: run.params,
      ...this.identity,
      readOnly: this.options.readOnly,
      ...extra,
    };
    try {
      this.options.audit.write(record);
    } catch (error) {
      // An operation that cannot be audited must not look audited: say so in the event log.
      this.record({ at: this.options.context.now(), kind: 'operation', severity: 'critical', message: `audit log not written: ${(error as Error).message}` });
    }
  }
}

function applyEvent(run: OperationRun, event: OperationEvent, capacity: number): OperationRun {
  const events = run.events.length >= capacity ? [...run.events.slice(run.events.length - capacity + 1), event] : [...run.events, event];
  const next: OperationRun = { ...run, events };
  if (event.type === 'step') {
    const index = run.steps.findIndex((s) => s.id === event.id);
    next.steps = index < 0 ? [...run.steps, event] : run.steps.map((s, i) => (i === index ? event : s));
  } else if (event.type === 'warning') {
    next.warnings = [...run.warnings, event.message];
  }
  return next;
}

function newRunId(at: number): string {
  return `${compactStamp(at)}-${crypto.randomBytes(3).toString('hex')}`;
}

function summarizeParams(params: Record<string, unknown>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k, v]) => (v === true ? k : `${k} ${String(v)}`));
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** The lock directory for an audit log path: beside it. */
export function lockDirFor(auditFile: string): string {
  return path.dirname(auditFile);
}
