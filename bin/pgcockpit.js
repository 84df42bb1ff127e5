#!/usr/bin/env node
// pgcockpit's executable: the compiled CLI (npm run build writes dist/).
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
const { enableCompileCache, registerHooks } = await import('node:module');
const { existsSync } = await import('node:fs');
try {
  enableCompileCache?.();
} catch {
  // no cache: only slower
}
// Ink imports its one helper (throttle) from `es-toolkit/compat`, whose entry loads ~415 modules: a fifth of
// the cockpit's start-up. Give Ink the same function from its own file instead.
registerHooks?.({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'es-toolkit/compat' && context.parentURL?.includes('/node_modules/ink/build/')) {
      try {
        const entry = nextResolve('es-toolkit/compat/throttle', context);
        const url = new URL('../dist/compat/function/throttle.mjs', entry.url);
        if (existsSync(url)) return { url: url.href, shortCircuit: true };
      } catch {
        // another es-toolkit layout: load its entry as Ink asks
      }
    }
    return nextResolve(specifier, context);
  },
});
process.env.NODE_ENV ??= 'production';
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
