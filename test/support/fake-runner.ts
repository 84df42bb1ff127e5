import type { OperationRequest } from '../../src/ops/operations.js';
import type { OperationRun, RunnerState } from '../../src/ops/runner.js';
import type { OperationPlan, Preconditions } from '../../src/ops/types.js';
import type { OperationsPort } from '../../src/ui/operations-port.js';
import { FAKE_NOW } from './fake-snapshots.js';

/**
 * A FAKE operations runner for component tests (no timers, no I/O): records every run, shows it running,
 * and finishes it only when the test says so. Its state notifies like the OperationRunner's. Subclasses
 * answer `check` and `plan`.
 */
export abstract class FakeOperationsRunner implements OperationsPort {
  readonly readOnly: boolean = false;
  readonly runs: OperationRequest[] = [];
  aborted = false;
  private state: RunnerState = {};
  private readonly listeners = new Set<() => void>();
  private finishRun: ((run: OperationRun) => void) | undefined;

  abstract check(request: OperationRequest): Preconditions;
  abstract plan(request: OperationRequest): OperationPlan;

  run = (request: OperationRequest): Promise<OperationRun> => {
    this.runs.push(request);
    this.set({ current: fakeRun({ operation: request.operation, status: 'running' }) });
    return new Promise((resolve) => {
      this.finishRun = resolve;
    });
  };

  abort = (): boolean => {
    this.aborted = true;
    return true;
  };

  getState = (): RunnerState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The run in progress moves on (steps, progress). */
  progress(run: OperationRun): void {
    this.set({ current: run });
  }

  finish(run: OperationRun): void {
    this.set({ last: run });
    this.finishRun?.(run);
  }

  private set(state: RunnerState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}

/** A FAKE run: a switchover started 3 s before FAKE_NOW, still running, unless overridden. */
export function fakeRun(overrides: Partial<OperationRun> = {}): OperationRun {
  return { id: 'fake-run', operation: 'switchover', params: {}, status: 'running', startedAt: FAKE_NOW - 3000, events: [], steps: [], warnings: [], ...overrides };
}
