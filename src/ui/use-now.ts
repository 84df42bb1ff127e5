import { useEffect, useState } from 'react';

/**
 * The clock the ages are computed against ("12s ago", "STALE 45s"). Every render reads the clock afresh; the
 * timer, re-armed after every render, forces one only when nothing else rendered for `intervalMs` (0: never,
 * for tests with a fixed clock). So ages move even when the data doesn't, and a store that delivers every
 * couple of seconds costs one render per delivery, with no extra clock frames in between (bench/idle).
 */
export function useNow(clock: () => number, intervalMs: number): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (intervalMs <= 0) return;
    const timer = setTimeout(() => setTick((n) => n + 1), intervalMs);
    return () => clearTimeout(timer);
  });
  return clock();
}
