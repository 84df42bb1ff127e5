import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';

/**
 * Where the cockpit loads its own module in place of one of Ink's (resolve hooks, registered before Ink is
 * first imported: the launcher, the render bench):
 *  - ink/build/output.js → src/ui/ink-output.ts, the frame compositor that keeps what it learnt about a
 *    string across frames (the same cells, about half a frame's CPU at 50 members);
 *  - string-width, imported by Ink and its helpers → src/ui/string-width.ts (the same widths without building
 *    string-width's segmenter and emoji expression at start-up);
 *  - `es-toolkit/compat` (Ink's one helper, throttle, whose entry loads ~415 modules: a fifth of the
 *    cockpit's start-up) → es-toolkit's own throttle module.
 * Either falls back to what Ink asks for when the file is not where it is expected.
 */

const OUTPUT_URL = new URL('./ink-output.js', import.meta.url);
const STRING_WIDTH_URL = new URL('./string-width.js', import.meta.url);

type NextResolve = (specifier: string, context: { parentURL?: string | undefined }) => { url: string };

/** The URL to load instead of `specifier` imported from `parentURL`, or undefined for Ink's own. */
export function inkReplacement(specifier: string, parentURL: string | undefined, nextResolve: NextResolve): string | undefined {
  if (specifier === 'string-width' && parentURL?.includes('/node_modules/') && existsSync(STRING_WIDTH_URL)) return STRING_WIDTH_URL.href;
  if (!parentURL?.includes('/node_modules/ink/build/')) return undefined;
  if (specifier === './output.js' && existsSync(OUTPUT_URL)) return OUTPUT_URL.href;
  if (specifier === 'es-toolkit/compat') {
    try {
      const entry = nextResolve('es-toolkit/compat/throttle', { parentURL });
      const url = new URL('../dist/compat/function/throttle.mjs', entry.url);
      if (existsSync(url)) return url.href;
    } catch {
      // another es-toolkit layout: its entry, as Ink asks
    }
  }
  return undefined;
}

let installed = false;

/** Register the resolve hook (once; before Ink is imported). */
export function installInkHooks(): void {
  if (installed) return;
  installed = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const url = inkReplacement(specifier, context.parentURL, (s, c) => nextResolve(s, { ...context, ...c }));
      return url ? { url, shortCircuit: true } : nextResolve(specifier, context);
    },
  });
}
