import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKUP_SPECS } from '../../src/cli/backup-commands.js';
import { main, mainHelp } from '../../src/cli/main.js';
import { packageRoot } from '../../src/util/package-root.js';
import { OPS_SPECS } from '../../src/cli/ops-commands.js';

describe('pgcockpit --help', () => {
  it('lists every operation and backup command (the list is static so --help loads nothing heavy)', () => {
    const help = mainHelp();
    for (const spec of [...Object.values(OPS_SPECS), ...Object.values(BACKUP_SPECS)]) {
      expect(help, spec.name).toMatch(new RegExp(`^  ${spec.name.split(' ')[0]}\\s`, 'm'));
    }
  });
});

describe('pgcockpit --version', () => {
  it("prints package.json's version and the Node it runs on, exit 0", async () => {
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(`ERR ${s}`), isTTY: false, env: {} };
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V', 'version']) {
      out.length = 0;
      expect(await main([flag], io)).toBe(0);
      expect(out).toEqual([`pgcockpit ${pkg.version} (Node ${process.version})`]);
    }
  });
});
