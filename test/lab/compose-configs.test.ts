import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeConfigDir, composeConfigFiles } from '../../src/lab/compose-configs.js';

/** compose/config/ is rendered from the templates in configs/ (shared with the native lab) and must not drift. */
describe('compose/config/', () => {
  it('equals a fresh render of configs/ (run `node scripts/render-compose-configs.mjs` after editing a template)', () => {
    for (const [relative, content] of Object.entries(composeConfigFiles())) {
      expect(fs.readFileSync(path.join(composeConfigDir(), relative), 'utf8'), relative).toBe(content);
    }
  });

  it('holds no secret: the passwords reach Patroni and Barman from compose/.env at start', () => {
    const env = fs.readFileSync(path.join(composeConfigDir(), '..', '.env'), 'utf8');
    const secrets = [...env.matchAll(/^[A-Z_]*PASSWORD=(.+)$/gm)].map((m) => m[1] as string);
    expect(secrets.length).toBeGreaterThan(0);
    for (const [relative, content] of Object.entries(composeConfigFiles())) {
      for (const secret of secrets) expect(content, relative).not.toContain(secret);
    }
  });
});
