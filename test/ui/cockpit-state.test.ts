import { describe, expect, it } from 'vitest';
import { cockpitReducer, INITIAL_UI_STATE } from '../../src/ui/cockpit-state.js';
import { buildCockpitView, filterEvents, filterMembers } from '../../src/ui/cockpit-view.js';
import { memberHealth, staleSources } from '../../src/ui/member-health.js';
import { FAKE_NOW, fakeBrokenReplicaSnapshot, fakeEvents, fakeLaggingSnapshot, fakeLabSnapshot, fakePatroni4Snapshot, fakeStaleSnapshot } from '../support/fake-snapshots.js';

describe('cockpitReducer', () => {
  it('cycles the focus ring both ways', () => {
    let state = INITIAL_UI_STATE;
    const seen: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      state = cockpitReducer(state, { type: 'focus', delta: 1 });
      seen.push(state.focusedPane);
    }
    expect(seen).toEqual(['lag', 'timeline', 'archive', 'backups', 'members']);
    expect(cockpitReducer(INITIAL_UI_STATE, { type: 'focus', delta: -1 }).focusedPane).toBe('backups');
  });

  it('Esc closes the innermost thing first: overlay, detail, filter, message', () => {
    let state = cockpitReducer(INITIAL_UI_STATE, { type: 'openDetail', member: 'db2' });
    state = cockpitReducer(state, { type: 'filterType', text: 'db' });
    state = cockpitReducer(state, { type: 'toggleHelp' });
    state = cockpitReducer(state, { type: 'back' });
    expect(state.overlay).toBeUndefined();
    expect(state.detailMember).toBe('db2');
    state = cockpitReducer(state, { type: 'back' });
    expect(state.detailMember).toBeUndefined();
    expect(state.filter).toBe('db');
    state = cockpitReducer(state, { type: 'back' });
    expect(state.filter).toBe('');
  });

  it('keeps the same object when nothing changes (no needless render)', () => {
    const state = cockpitReducer(INITIAL_UI_STATE, { type: 'select', member: 'db2' });
    expect(cockpitReducer(state, { type: 'select', member: 'db2' })).toBe(state);
    expect(cockpitReducer(state, { type: 'scroll', pane: 'timeline', offset: 0 })).toBe(state);
  });
});

describe('filters and the view', () => {
  it('/ matches members by name, state and tags, and events by message and member', () => {
    const s = fakePatroni4Snapshot();
    expect(filterMembers(s.members, 'nofail').map((m) => m.name)).toEqual(['db3']);
    expect(filterMembers(s.members, 'LEADER').map((m) => m.name)).toEqual(['db1']);
    expect(filterEvents(fakeEvents(), 'db3').length).toBe(1);
  });

  it('selection falls back to the first visible member', () => {
    const view = buildCockpitView({
      snapshot: fakeLabSnapshot(),
      events: [],
      lagHistories: new Map(),
      ui: { ...INITIAL_UI_STATE, selectedMember: 'db2', filter: 'db3' },
      config: { mode: 'cockpit', readOnly: false, operationsAvailable: false },
    });
    expect(view.selectedMember).toBe('db3');
    expect(view.lagSeries.map((s) => s.member)).toEqual(['db3']);
  });

  it('watch mode is read-only whatever the flag says', () => {
    const view = buildCockpitView({ snapshot: fakeLabSnapshot(), events: [], lagHistories: new Map(), ui: INITIAL_UI_STATE, config: { mode: 'watch', readOnly: false, operationsAvailable: true } });
    expect(view.keymapContext.readOnly).toBe(true);
  });
});

describe('memberHealth and staleSources', () => {
  it('leader ★, lagging ▲, broken ✗, healthy ✓', () => {
    const lag = fakeLaggingSnapshot();
    const broken = fakeBrokenReplicaSnapshot();
    const options = { leader: 'db1', thresholdBytes: 1024 * 1024 };
    expect(memberHealth(lag.members[0]!, options).symbol).toBe('★');
    expect(memberHealth(lag.members[1]!, options)).toMatchObject({ symbol: '▲', lagging: true });
    expect(memberHealth(broken.members[2]!, options)).toMatchObject({ symbol: '✗', broken: true, notes: ['stopped'] });
    expect(memberHealth(fakeLabSnapshot().members[2]!, options).symbol).toBe('✓');
  });

  it('failing sources, oldest data first', () => {
    expect(staleSources(fakeStaleSnapshot().sources, FAKE_NOW).map((s) => [s.key, Math.round(s.ageSeconds ?? -1)])).toEqual([
      ['barman', 130],
      ['patroni', 45],
    ]);
    expect(staleSources(fakeLabSnapshot().sources, FAKE_NOW)).toEqual([]);
  });
});
