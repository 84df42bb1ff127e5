import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * zod/mini's settings for the whole process, made once: every module that declares schemas imports this file
 * (for this effect), so that they hold wherever a schema is parsed (tests that load one adapter alone included).
 *   - English messages: zod/mini loads no locale (its issues would all read "Invalid input"), while the config
 *     errors and the adapters' "unexpected shape" errors show zod's messages. The locale alone: `z.locales`
 *     would bundle every language (~370 KB).
 *   - No `jitless`: zod/mini's objects parse without classic zod's JIT (no `new Function` parsers), so there is
 *     nothing to turn off.
 */
z.config(en());
