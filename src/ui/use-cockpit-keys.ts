import { useInput } from 'ink';
import type { CommandId } from '../keymap/keymap.js';
import { binding, commandForKey, isPrintableKey, keyName, paletteItems } from '../keymap/keymap.js';
import type { CockpitActions } from './cockpit-context.js';
import { useCockpitActions, useCockpitState } from './cockpit-context.js';
import type { CockpitUiState } from './cockpit-state.js';
import type { CockpitView } from './cockpit-view.js';

const PAGE = 10;

/**
 * Runs one command in the current view. Shared by the keys and the palette, so `:` + "switch" + Enter
 * and `s` answer the same way; a disabled command says why on the footer instead of doing nothing.
 */
export function runCommand(id: CommandId, view: CockpitView, ui: CockpitUiState, actions: CockpitActions): void {
  const command = binding(id);
  const reason = command.disabledReason?.(view.keymapContext);
  if (reason !== undefined) {
    actions.say({ text: `${command.description}: ${reason}`, tone: 'warning' });
    return;
  }
  switch (id) {
    case 'cursor.up':
      return move(-1, view, ui, actions);
    case 'cursor.down':
      return move(1, view, ui, actions);
    case 'cursor.pageUp':
      return move(-PAGE, view, ui, actions);
    case 'cursor.pageDown':
      return move(PAGE, view, ui, actions);
    case 'cursor.top':
      return move(-Infinity, view, ui, actions);
    case 'cursor.bottom':
      return move(Infinity, view, ui, actions);
    case 'focus.next':
      return actions.focusNext();
    case 'focus.prev':
      return actions.focusPrev();
    case 'view.detail':
      if (view.selectedMember !== undefined) actions.openDetail(view.selectedMember);
      return;
    case 'view.back':
    case 'input.cancel':
      return actions.back();
    case 'view.help':
      return actions.toggleHelp();
    case 'view.filter':
      return actions.openFilter();
    case 'view.palette':
      return actions.openPalette();
    case 'app.quit':
      return actions.quit();
    case 'input.accept':
    case 'input.deleteChar':
      return;
    default:
      // Operations and exports are refused above until their layer exists; nothing else reaches here.
      actions.say({ text: `${command.description}: not wired in this build`, tone: 'warning' });
  }
}

function move(delta: number, view: CockpitView, ui: CockpitUiState, actions: CockpitActions): void {
  const pane = ui.focusedPane;
  if (pane === 'members' || pane === 'lag') {
    const names = pane === 'members' ? view.members.map((m) => m.name) : view.lagSeries.map((s) => s.member);
    if (names.length === 0) return;
    const current = view.selectedMember === undefined ? -1 : names.indexOf(view.selectedMember);
    const from = current === -1 ? (delta > 0 ? -1 : names.length) : current;
    const index = Math.min(names.length - 1, Math.max(0, from + (Number.isFinite(delta) ? delta : delta > 0 ? names.length : -names.length)));
    actions.select(names[index]);
    return;
  }
  if (pane === 'timeline' || pane === 'backups') {
    const count = pane === 'timeline' ? view.events.length : view.snapshot.backups.backups.length;
    const current = ui.scroll[pane];
    const next = Number.isFinite(delta) ? current + delta : delta > 0 ? count : 0;
    actions.scroll(pane, Math.min(Math.max(0, next), Math.max(0, count - 1)));
  }
}

/** Typing in the filter or the palette: printable keys are text, the rest go through the keymap. */
function handleTextInput(name: string, view: CockpitView, ui: CockpitUiState, actions: CockpitActions): void {
  const inPalette = ui.overlay === 'palette';
  if (isPrintableKey(name)) {
    if (inPalette) actions.paletteType(name);
    else actions.filterType(name);
    return;
  }
  const id = commandForKey(name, ['input', 'global', 'list']);
  if (id === undefined) return;
  if (id === 'input.deleteChar') return inPalette ? actions.paletteDelete() : actions.filterDelete();
  if (id === 'input.cancel') return inPalette ? actions.closePalette() : actions.filterCancel();
  if (id === 'input.accept') {
    if (!inPalette) return actions.filterAccept();
    const item = paletteItems(ui.paletteQuery, view.keymapContext)[ui.paletteIndex];
    actions.closePalette();
    if (item) runCommand(item.id, view, { ...ui, overlay: undefined }, actions);
    return;
  }
  if (inPalette && (id === 'cursor.up' || id === 'cursor.down')) {
    const count = paletteItems(ui.paletteQuery, view.keymapContext).length;
    return actions.paletteMove(id === 'cursor.up' ? -1 : 1, count);
  }
  if (id === 'app.quit') return actions.quit();
}

/**
 * Text that arrives as one chunk: a paste, or fast typing over SSH/tmux where several keys come in one
 * read. Ink hands it over as one `input`; while typing in the filter or the palette it is all text.
 */
export function typedText(input: string, key: { ctrl: boolean; meta: boolean }): string | undefined {
  if (key.ctrl || key.meta) return undefined;
  const chars = Array.from(input);
  if (chars.length < 2 || !chars.every((c) => c >= ' ' && c !== '\u007F')) return undefined;
  return input;
}

/** The one keyboard handler of the app: Ink's input → keymap command → action. */
export function useCockpitKeys(view: CockpitView, options: { isActive?: boolean } = {}): void {
  const ui = useCockpitState();
  const actions = useCockpitActions();
  useInput(
    (input, key) => {
      if (ui.filterEditing || ui.overlay === 'palette') {
        const text = typedText(input, key);
        if (text !== undefined) {
          if (ui.overlay === 'palette') actions.paletteType(text);
          else actions.filterType(text);
          return;
        }
      }
      const name = keyName(input, key);
      if (name === undefined) return;
      if (ui.filterEditing || ui.overlay === 'palette') {
        handleTextInput(name, view, ui, actions);
        return;
      }
      const scopes = ui.overlay === 'help' ? (['global', 'cockpit'] as const) : (['global', 'list', 'cockpit', 'members'] as const);
      const id = commandForKey(name, scopes);
      if (id === undefined) return;
      if (ui.overlay === 'help' && id !== 'view.help' && id !== 'view.back' && id !== 'app.quit') return;
      if (ui.message && id !== 'view.back') actions.say(undefined);
      runCommand(id, view, ui, actions);
    },
    { isActive: options.isActive ?? true },
  );
}
