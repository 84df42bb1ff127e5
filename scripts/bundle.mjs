#!/usr/bin/env node
/* global console, performance */
// Bundles the CLI into a few ESM files under dist/bundle/ (esbuild), which bin/pgcockpit.js loads when they are
// at least as new as tsc's dist/src/: Node then loads ~20 files at start-up instead of ~600 modules (the
// cockpit's start-up was mostly module loading). `npm run build` runs tsc (the type check and dist/ for the tests
// and benches) and then this.
//   - One entry (src/cli/main.ts); each command's dynamic import() becomes a chunk of its own, so `--help` or
//     `status` do not load Ink and React.
//   - Optional heavy packages stay outside and are import()ed from node_modules on first use: etcd3 (gRPC,
//     protobuf) for the cockpit's etcd watch, dockerode for container clusters.
//   - React's and Ink's production builds (the bundle is the production build; bin/pgcockpit.js runs dist/src
//     when NODE_ENV says otherwise).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'bundle');
const staging = `${outdir}.next`;

/**
 * yoga-layout (Ink's layout engine) embeds its WebAssembly as a data: URL and, when a global `fetch` exists,
 * decodes it by fetching that URL: in Node that loads and runs undici's fetch (~45 ms at every start) for a
 * base64 decode. Without `fetch` it decodes the base64 itself; make it take that path.
 */
const yogaWithoutFetch = {
  name: 'yoga-without-fetch',
  setup(b) {
    b.onLoad({ filter: /[\\/]yoga-layout[\\/]dist[\\/]binaries[\\/][^\\/]+\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const patched = source.replaceAll('"function"!=typeof fetch', '!0');
      const warnings = patched === source ? [{ text: 'yoga-layout: no `typeof fetch` test found (its layout changed?): it will decode its WebAssembly through fetch' }] : [];
      return { contents: patched, loader: 'js', warnings };
    });
  },
};

/**
 * undici's entry loads all of undici (fetch, WebSocket, caches, mocks, interceptors: ~60 ms at every start) while
 * the adapters use two things of it, `Agent` and `request` (src/services/http.ts): the bundle gets a module
 * with just those, made as undici's entry makes them. Anything else imported from 'undici' fails the build.
 */
const undiciAgentAndRequest = {
  name: 'undici-agent-and-request',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici', namespace: 'undici-agent-and-request' }));
    b.onLoad({ filter: /.*/, namespace: 'undici-agent-and-request' }, () => ({
      resolveDir: root,
      loader: 'js',
      contents: `
        import Agent from 'undici/lib/dispatcher/agent.js';
        import apiRequest from 'undici/lib/api/api-request.js';
        // undici's request(url, { dispatcher, ...options }): the dispatcher's request with origin and path split.
        export function request(url, opts) {
          const { dispatcher, ...rest } = opts;
          const parsed = new URL(url);
          return apiRequest.call(dispatcher, {
            ...rest,
            origin: parsed.origin,
            path: parsed.search ? parsed.pathname + parsed.search : parsed.pathname,
            method: opts.method || (opts.body ? 'PUT' : 'GET'),
          });
        }
        export { Agent };
      `,
    }));
  },
};

/**
 * Ink composes each frame with the cockpit's compositor (src/ui/ink-output.ts: the same cells as Ink's Output,
 * with caches kept across frames) in place of its own ink/build/output.js, as src/ui/ink-hooks.ts does for
 * dist/src/.
 */
const inkOutput = {
  name: 'ink-output',
  setup(b) {
    b.onResolve({ filter: /^\.\/output\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]ink[\\/]build[\\/]/.test(args.importer) ? { path: path.join(root, 'src', 'ui', 'ink-output.ts') } : undefined,
    );
  },
};

/**
 * Ink and its helpers (wrap-ansi, cli-truncate, widest-line, slice-ansi) measure with src/ui/string-width.ts in
 * place of string-width: the same widths, without building string-width's segmenter and emoji expression at every
 * start (it loads string-width itself when a string needs it), as src/ui/ink-hooks.ts does for dist/src/.
 */
const stringWidthFast = {
  name: 'string-width-fast',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, (args) =>
      /[\\/]node_modules[\\/]/.test(args.importer) ? { path: path.join(root, 'src', 'ui', 'string-width.ts') } : undefined,
    );
  },
};

const started = performance.now();
fs.rmSync(staging, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: staging,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  tsconfig: 'tsconfig.json',
  jsx: 'automatic',
  external: ['etcd3', 'dockerode', 'ssh2', 'cpu-features', 'pg-native', 'react-devtools-core'],
  define: { 'process.env.NODE_ENV': '"production"' },
  // The CommonJS packages inside (pg, undici…) require Node's built-in modules: give the ESM chunks a require.
  banner: { js: "import { createRequire as __pgcockpitCreateRequire } from 'node:module'; const require = __pgcockpitCreateRequire(import.meta.url);" },
  plugins: [yogaWithoutFetch, undiciAgentAndRequest, inkOutput, stringWidthFast],
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
// Swap the new bundle in whole: no mix of old and new chunks.
fs.rmSync(outdir, { recursive: true, force: true });
fs.renameSync(staging, outdir);
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const bytes = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`bundle: ${inputs} modules → ${outputs.length} files in dist/bundle/ (${(bytes / 1024 / 1024).toFixed(1)} MB) in ${(performance.now() - started).toFixed(0)} ms`);
