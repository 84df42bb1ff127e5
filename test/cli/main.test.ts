import { describe, expect, it } from 'vitest';
import { BACKUP_SPECS } from '../../src/cli/backup-commands.js';
import { mainHelp } from '../../src/cli/main.js';
import { OPS_SPECS } from '../../src/cli/ops-commands.js';

describe('pgcockpit --help', () => {
  it('lists every operation and backup command (the list is static so --help loads nothing heavy)', () => {
    const help = mainHelp();
    for (const spec of [...Object.values(OPS_SPECS), ...Object.values(BACKUP_SPECS)]) {
      expect(help, spec.name).toMatch(new RegExp(`^  ${spec.name.split(' ')[0]}\\s`, 'm'));
    }
  });
});
