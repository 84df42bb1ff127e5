import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import type { KeymapContext } from '../../src/keymap/keymap.js';
import {
  disabledReason,
  footerHints,
  fuzzyScore,
  helpEntries,
  KEYMAP,
  matchKey,
  OPERATIONS_NOT_AVAILABLE_REASON,
  paletteItems,
  READ_ONLY_REASON,
} from '../../src/keymap/keymap.js';

function key(overrides: Partial<Key> = {}): Key {
  return {
    upArrow: false,
    downArrow: false,
    leftArrow: false,
    rightArrow: false,
    pageDown: false,
    pageUp: false,
    home: false,
    end: false,
    return: false,
    escape: false,
    ctrl: false,
    shift: false,
    tab: false,
    backspace: false,
    delete: false,
    meta: false,
    super: false,
    hyper: false,
    capsLock: false,
    numLock: false,
    ...overrides,
  };
}

const cockpit: KeymapContext = { readOnly: false, operationsAvailable: false, focusedPane: 'members', selectedMember: 'db2' };
const watch: KeymapContext = { ...cockpit, readOnly: true };

describe('KEYMAP', () => {
  it('declares every command once, with a description, a category and at least one key', () => {
    const ids = KEYMAP.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const command of KEYMAP) {
      expect(command.description.length, command.id).toBeGreaterThan(3);
      expect(command.keys.length, command.id).toBeGreaterThan(0);
    }
  });

  it('binds no key twice within a scope', () => {
    const seen = new Map<string, string>();
    for (const command of KEYMAP) {
      for (const k of command.keys) {
        const slot = `${command.scope}:${k}`;
        expect(seen.get(slot), `${slot} bound to ${seen.get(slot)} and ${command.id}`).toBeUndefined();
        seen.set(slot, command.id);
      }
    }
  });

  it('binds the operation keys of the brief', () => {
    const keys = Object.fromEntries(KEYMAP.map((c) => [c.id, c.keys]));
    expect(keys['op.switchover']).toEqual(['s']);
    expect(keys['op.failover']).toEqual(['f']);
    expect(keys['op.reinit']).toEqual(['i']);
    expect(keys['op.restart']).toEqual(['r']);
    expect(keys['op.reload']).toEqual(['R']);
    expect(keys['op.pause']).toEqual(['p']);
    expect(keys['op.backup']).toEqual(['b']);
    expect(keys['op.pitr']).toEqual(['t']);
    expect(keys['op.drill']).toEqual(['x']);
    expect(keys['export.timeline']).toEqual(['T']);
  });
});

describe('matchKey', () => {
  it("maps Ink's input to command ids", () => {
    expect(matchKey('j', key())).toBe('cursor.down');
    expect(matchKey('', key({ downArrow: true }))).toBe('cursor.down');
    expect(matchKey('k', key())).toBe('cursor.up');
    expect(matchKey('', key({ tab: true }))).toBe('focus.next');
    expect(matchKey('', key({ tab: true, shift: true }))).toBe('focus.prev');
    expect(matchKey('', key({ return: true }), ['members'])).toBe('view.detail');
    expect(matchKey('', key({ escape: true }), ['cockpit'])).toBe('view.back');
    expect(matchKey('?', key())).toBe('view.help');
    expect(matchKey('/', key())).toBe('view.filter');
    expect(matchKey(':', key())).toBe('view.palette');
    expect(matchKey('q', key())).toBe('app.quit');
    expect(matchKey('c', key({ ctrl: true }))).toBe('app.quit');
  });

  it('tells r (restart) from R (reload)', () => {
    expect(matchKey('r', key())).toBe('op.restart');
    expect(matchKey('R', key({ shift: true }))).toBe('op.reload');
    expect(matchKey('T', key({ shift: true }))).toBe('export.timeline');
  });

  it('respects scopes: Enter accepts while typing', () => {
    expect(matchKey('', key({ return: true }), ['input'])).toBe('input.accept');
    expect(matchKey('', key({ escape: true }), ['input'])).toBe('input.cancel');
    expect(matchKey('z', key())).toBeUndefined();
  });
});

describe('disabled reasons', () => {
  it('operations say they come with the operations layer', () => {
    for (const command of KEYMAP.filter((c) => c.category === 'Operations')) {
      expect(disabledReason(command.id, cockpit)).toBe(OPERATIONS_NOT_AVAILABLE_REASON);
    }
  });

  it('read-only (watch mode) comes first, also once operations exist', () => {
    for (const command of KEYMAP.filter((c) => c.dangerous)) {
      expect(disabledReason(command.id, { ...watch, operationsAvailable: true })).toBe(READ_ONLY_REASON);
    }
  });

  it('member operations need a selected member, then ask the precondition', () => {
    const ready: KeymapContext = { readOnly: false, operationsAvailable: true, focusedPane: 'members', precondition: (id) => (id === 'op.switchover' ? 'switchover running' : undefined) };
    expect(disabledReason('op.restart', ready)).toMatch(/select a member/);
    expect(disabledReason('op.switchover', ready)).toBe('switchover running');
    expect(disabledReason('op.restart', { ...ready, selectedMember: 'db2' })).toBeUndefined();
  });

  it('navigation is never disabled', () => {
    expect(disabledReason('cursor.down', watch)).toBeUndefined();
    expect(disabledReason('app.quit', watch)).toBeUndefined();
  });
});

describe('generated help, footer and palette', () => {
  it('help lists every binding, with reasons for the disabled ones', () => {
    const entries = helpEntries(cockpit);
    expect(entries.map((e) => e.id).sort()).toEqual(KEYMAP.map((c) => c.id).sort());
    expect(entries.find((e) => e.id === 'op.switchover')?.disabledReason).toBe(OPERATIONS_NOT_AVAILABLE_REASON);
  });

  it('the footer shows no operation key in read-only mode', () => {
    const ids = footerHints(watch).map((h) => h.id);
    expect(ids).toContain('view.help');
    expect(ids).toContain('app.quit');
    expect(ids.some((id) => id.startsWith('op.'))).toBe(false);
  });

  it('the palette finds commands fuzzily and carries the reason', () => {
    const items = paletteItems('swtch', cockpit);
    expect(items[0]?.id).toBe('op.switchover');
    expect(items[0]?.disabledReason).toBe(OPERATIONS_NOT_AVAILABLE_REASON);
    expect(paletteItems('', cockpit).length).toBe(KEYMAP.filter((c) => c.scope !== 'input' && c.scope !== 'modal' && c.id !== 'view.palette').length);
    expect(fuzzyScore('xyz', 'Help')).toBeUndefined();
  });
});
