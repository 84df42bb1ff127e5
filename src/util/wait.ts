/**
 * Wait until a probe returns a value (anything but undefined), polling it at an interval, or fail with a
 * message that says what was awaited and, when given, what the last probe saw. Aborts with the signal.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal; describeFailure?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 200;
  for (;;) {
    options.signal?.throwIfAborted();
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      const detail = options.describeFailure ? `: ${options.describeFailure()}` : '';
      throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
