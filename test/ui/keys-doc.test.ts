import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatKey, KEYMAP } from '../../src/keymap/keymap.js';
import { KEYS_DOC_BEGIN, KEYS_DOC_END, keysMarkdown, readmeKeysDoc, withKeysDoc } from '../../src/keymap/keys-doc.js';
import { main } from '../../src/cli/main.js';
import { packageRoot } from '../../src/util/package-root.js';

const readme = fs.readFileSync(path.join(packageRoot(), 'README.md'), 'utf8');

describe('the key list in the README', () => {
  it('is exactly the table generated from the keymap (update it with `pgcockpit keys --update-readme README.md`)', () => {
    expect(readmeKeysDoc(readme)).toBe(keysMarkdown());
  });

  it('has one row per binding with every key of it, and marks every dangerous command', () => {
    const rows = keysMarkdown().split('\n').slice(2);
    expect(rows).toHaveLength(KEYMAP.length);
    for (const binding of KEYMAP) {
      const row = rows.find((r) => r.includes(`: ${binding.description} |`));
      expect(row, binding.id).toBeDefined();
      for (const key of binding.keys) expect(row, binding.id).toContain(`\`${formatKey(key)}\``);
      expect(row?.includes('changes the cluster'), binding.id).toBe(binding.dangerous);
    }
  });

  it('withKeysDoc replaces only what is between the markers', () => {
    const doc = `# x\n\n${KEYS_DOC_BEGIN}\nold table\n${KEYS_DOC_END}\n\nafter\n`;
    const updated = withKeysDoc(doc);
    expect(updated).toBe(`# x\n\n${KEYS_DOC_BEGIN}\n${keysMarkdown()}\n${KEYS_DOC_END}\n\nafter\n`);
    expect(withKeysDoc(updated)).toBe(updated);
    expect(() => withKeysDoc('# no markers')).toThrow(/markers/);
  });

  it('`pgcockpit keys` prints the same table', async () => {
    let out = '';
    const code = await main(['keys'], { out: (t) => (out += t), err: () => undefined, isTTY: false, env: {} });
    expect(code).toBe(0);
    expect(out.trim()).toBe(keysMarkdown());
  });
});
