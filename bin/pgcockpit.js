#!/usr/bin/env -S node --max-semi-space-size=2 --max-opt=2
// --max-semi-space-size=2: V8 grows its young generation to 3 × 16 MB under the cockpit's steady allocation
// (frames, polls); capped at 2 MB a semi-space the cockpit holds ~50 MB less RSS (bench/idle, measured against
// 8 MB and the default: no more CPU — what it allocates between two scavenges dies young).
// --max-opt=2: V8's optimizing tiers stop at Maglev (no TurboFan). The cockpit's code runs a few times a second,
// so TurboFan kept recompiling it on a worker thread for minutes after start-up (about a quarter of the idle
// cockpit's CPU, profiled with perf); Maglev's code is fast enough for a frame or a poll and much cheaper to make,
// and the optimized code and its metadata held ~5-8 MB of RSS (bench/idle side by side under the same load:
// ~25% less CPU with the poll changes of the same round, max RSS 117-123 MB instead of 124-132 MB).
// It must be given on Node's command line (V8 sizes the heap before any script runs): the shebang, and the
// npm scripts that start the cockpit, say it.
// pgcockpit's executable: the bundled CLI (dist/bundle/, written by `npm run build`) when it is current, else
// tsc's output (dist/src/).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `pgcockpit: needs Node.js 22 or newer (this is ${process.version}, at ${process.execPath}).\n` +
      `  The project installs Node 24 as a devDependency: run it through npm (npm start, npm run cockpit)\n` +
      `  or npx pgcockpit, or call node_modules/.bin/node bin/pgcockpit.js.\n`,
  );
  process.exit(3);
}
// Start-up: keep V8's compiled code on disk between runs (a one-shot `status` is mostly module loading), and
// run React's production build unless told otherwise (the development build checks and records every element:
// about twice the cost of a frame).
const { enableCompileCache } = await import('node:module');
const { statSync } = await import('node:fs');
try {
  enableCompileCache?.();
} catch {
  // no cache: only slower
}
process.env.NODE_ENV ??= 'production';

const bundle = new URL('../dist/bundle/main.js', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
const mtime = (url) => {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
};
/**
 * The bundle must not be older than tsc's output: after a bare `tsc` (source edited, bundle not rebuilt) dist/src/
 * is the current code. It is React's production build: NODE_ENV=development runs dist/src/ (React's development
 * build), and so does PGCOCKPIT_NO_BUNDLE=1. (Tests run it under NODE_ENV=test: what ships.)
 */
function bundleIsCurrent() {
  if (process.env.NODE_ENV === 'development' || process.env.PGCOCKPIT_NO_BUNDLE === '1') return false;
  const built = mtime(bundle);
  if (built === undefined) return false;
  const emitted = mtime(compiled);
  return emitted === undefined || built >= emitted;
}

let entry = bundle;
if (!bundleIsCurrent()) {
  entry = compiled;
  // Ink with the cockpit's frame compositor, and its one helper (throttle) without the ~415 modules of
  // es-toolkit/compat's entry: resolve hooks (src/ui/ink-hooks.ts; the bundle has both built in).
  try {
    (await import('../dist/src/ui/ink-hooks.js')).installInkHooks();
  } catch {
    // no hooks: Ink as it ships (slower frames, slower start)
  }
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
