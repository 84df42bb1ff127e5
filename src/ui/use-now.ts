import { useEffect, useRef, useState } from 'react';

/**
 * The clock the ages are computed against ("12s ago", "STALE 45s"). Every render reads the clock afresh;
 * the timer forces a render only when nothing else rendered for `intervalMs` (0: never, for tests with a
 * fixed clock), so ages move even when the data doesn't, and a store that changes every second costs one
 * render a second, not two (bench/idle).
 */
export function useNow(clock: () => number, intervalMs: number): number {
  const [, setTick] = useState(0);
  const renderedAt = useRef(0);
  useEffect(() => {
    if (intervalMs <= 0) return;
    const timer = setInterval(() => {
      if (Date.now() - renderedAt.current >= intervalMs * 0.9) setTick((n) => n + 1);
    }, intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  renderedAt.current = Date.now();
  return clock();
}
