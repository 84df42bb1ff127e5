import type { OpsContext } from './context.js';
import type { OperationEvent, StepEvent, WarningEvent } from './types.js';

/** Helpers to write operations as a readable sequence of steps. */

export function stepStarted(context: Pick<OpsContext, 'now'>, id: string, title: string): StepEvent {
  return { type: 'step', id, title, status: 'started', startedAt: context.now() };
}

export function stepEnded(context: Pick<OpsContext, 'now'>, started: StepEvent, status: 'done' | 'failed' | 'skipped', detail?: string): StepEvent {
  return { ...started, status, durationMs: context.now() - started.startedAt, ...(detail ? { detail } : {}) };
}

export function warning(message: string): WarningEvent {
  return { type: 'warning', message };
}

export function log(message: string): OperationEvent {
  return { type: 'log', message };
}

/**
 * A step reported (started and done at once) as soon as the steps it names are verified, while the others
 * still run: a switchover is done when writes reach the new leader, and the old leader's rejoin trails it.
 */
export interface Milestone {
  id: string;
  title: string;
  detail?: string;
  after: string[];
}

/**
 * Run verification steps side by side (each: started now, ended when its check resolves), yielding each
 * end as it happens. When one fails, the others are aborted and the failure is thrown.
 */
export async function* concurrentSteps(
  context: Pick<OpsContext, 'now'>,
  signal: AbortSignal,
  steps: Array<{ id: string; title: string; check: (signal: AbortSignal) => Promise<string | undefined> }>,
  milestone?: Milestone,
): AsyncGenerator<OperationEvent, void> {
  const controller = new AbortController();
  const combined = AbortSignal.any([signal, controller.signal]);
  const started = steps.map((s) => stepStarted(context, s.id, s.title));
  for (const s of started) yield s;
  type Settled = { index: number; ok: true; detail: string | undefined } | { index: number; ok: false; error: unknown };
  const pending = new Map<number, Promise<Settled>>();
  const done = new Set<string>();
  let milestoneReported = false;
  steps.forEach((s, index) => {
    pending.set(
      index,
      s.check(combined).then(
        (detail): Settled => ({ index, ok: true, detail }),
        (error: unknown): Settled => ({ index, ok: false, error }),
      ),
    );
  });
  while (pending.size) {
    const settled = await Promise.race(pending.values());
    pending.delete(settled.index);
    const step = started[settled.index] as StepEvent;
    if (settled.ok) {
      yield stepEnded(context, step, 'done', settled.detail);
      done.add(step.id);
      if (milestone && !milestoneReported && milestone.after.every((id) => done.has(id))) {
        milestoneReported = true;
        const at = stepStarted(context, milestone.id, milestone.title);
        yield at;
        yield stepEnded(context, at, 'done', milestone.detail);
      }
      continue;
    }
    controller.abort(new Error('another verification failed'));
    yield stepEnded(context, step, 'failed', settled.error instanceof Error ? settled.error.message : String(settled.error));
    await Promise.allSettled(pending.values());
    for (const index of pending.keys()) yield stepEnded(context, started[index] as StepEvent, 'skipped', `not verified: ${step.title} failed`);
    throw settled.error;
  }
}
