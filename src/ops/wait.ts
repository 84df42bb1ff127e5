/**
 * Waiting on a condition, never on the clock: a probe is run at once, again whenever a wake source fires
 * (an etcd watch event, a store change), and otherwise at a short interval; it resolves with the first
 * value the probe returns (anything but undefined). Probe errors count as "not yet" and are named in the
 * timeout message. Aborts with the signal's reason.
 */
export interface WaitOptions {
  signal: AbortSignal;
  timeoutMs: number;
  intervalMs?: number;
  /** Subscribe to something that may make the condition true; returns the unsubscribe. */
  wake?: (notify: () => void) => () => void;
  /** What the last probe saw, for the timeout message. */
  describe?: () => string;
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, options: WaitOptions): Promise<T> {
  const { signal } = options;
  signal.throwIfAborted();
  const started = Date.now();
  const interval = options.intervalMs ?? 250;
  let woken: boolean;
  let wakeUp: (() => void) | undefined;
  const notify = () => {
    woken = true;
    wakeUp?.();
  };
  const unsubscribe = options.wake?.(notify);
  let lastError: string | undefined;
  try {
    for (;;) {
      signal.throwIfAborted();
      woken = false;
      try {
        const value = await probe();
        if (value !== undefined) return value;
        lastError = undefined;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        lastError = error instanceof Error ? error.message : String(error);
      }
      const remaining = options.timeoutMs - (Date.now() - started);
      if (remaining <= 0) {
        const seen = options.describe?.() ?? lastError;
        throw new WaitTimeoutError(`timed out after ${formatMs(options.timeoutMs)} waiting for ${what}${seen ? ` (last seen: ${seen})` : ''}`);
      }
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(interval, remaining));
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wakeUp = undefined;
          resolve();
        }
        wakeUp = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    unsubscribe?.();
  }
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
