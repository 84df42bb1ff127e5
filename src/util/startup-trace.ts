import fs from 'node:fs';

/**
 * Start-up phases, for bench/startup: with PGCOCKPIT_TRACE_STARTUP=<file>, each phase appends a line
 * "<ms since the process started> <phase>" to that file (a file, not stderr: the cockpit owns the screen).
 * Without it, nothing is done.
 */
const file = process.env.PGCOCKPIT_TRACE_STARTUP;

export function traceStartup(phase: string): void {
  if (!file) return;
  try {
    fs.appendFileSync(file, `${performance.now().toFixed(1)} ${phase}\n`);
  } catch {
    // a trace is never worth failing for
  }
}
