import { useEffect, useState } from 'react';

/**
 * The clock the ages are computed against ("12s ago", "STALE 45s"). Ticks every `intervalMs` (0: never,
 * for tests with a fixed clock) so ages move even when the data doesn't.
 */
export function useNow(clock: () => number, intervalMs: number): number {
  const [now, setNow] = useState(clock);
  useEffect(() => {
    if (intervalMs <= 0) return;
    const timer = setInterval(() => setNow(clock()), intervalMs);
    return () => clearInterval(timer);
  }, [clock, intervalMs]);
  return intervalMs <= 0 ? clock() : now;
}
