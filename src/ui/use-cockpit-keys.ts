import { useRef } from 'react';
import { useInput } from 'ink';
import type { CommandId } from '../keymap/keymap.js';
import { binding, commandForKey, isPrintableKey, keyName, paletteItems } from '../keymap/keymap.js';
import type { CockpitActions } from './cockpit-context.js';
import { useCockpitActions, useCockpitState } from './cockpit-context.js';
import type { CockpitUiState, OperationModalState } from './cockpit-state.js';
import type { CockpitView } from './cockpit-view.js';
import type { CockpitServices, OperationsPort } from './operations-port.js';
import { INITIAL_PITR_FORM, handlePitrKey, typeTarget } from './pitr-form.js';
import { confirmationFor, isModalCommand, needsCandidate, pendingRestartMembers, requestFor, useCockpitServices } from './operations-port.js';

const PAGE = 10;

/**
 * Runs one command in the current view. Shared by the keys and the palette, so `:` + "switch" + Enter
 * and `s` answer the same way; a disabled command says why on the footer instead of doing nothing.
 */
export function runCommand(id: CommandId, view: CockpitView, ui: CockpitUiState, actions: CockpitActions, services: CockpitServices = {}): void {
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
    case 'export.timeline':
      return exportTimeline(services, actions);
    default:
      if (isModalCommand(id) && services.operations) return openOperation(id, view, actions);
      // Operations and exports are refused above until their layer exists; nothing else reaches here.
      actions.say({ text: `${command.description}: not wired in this build`, tone: 'warning' });
  }
}

function exportTimeline(services: CockpitServices, actions: CockpitActions): void {
  if (!services.exportTimeline) return;
  try {
    const file = services.exportTimeline();
    actions.say({ text: `timeline written to ${file}`, tone: 'ok' });
  } catch (error) {
    actions.say({ text: `timeline export failed: ${(error as Error).message}`, tone: 'critical' });
  }
}

/** Opens the operation's dialog: the picker first when it needs a choice, else the review. */
function openOperation(id: Parameters<typeof requestFor>[0], view: CockpitView, actions: CockpitActions): void {
  const { snapshot, selectedMember } = view;
  if (needsCandidate(id)) return actions.modalOpen({ stage: 'pick', command: id });
  if (id === 'op.pitr') return actions.modalOpen({ stage: 'pitr', command: id, form: INITIAL_PITR_FORM });
  if (id === 'op.restart') {
    const pending = pendingRestartMembers(snapshot);
    const onlySelected = pending.length === 0 || (pending.length === 1 && pending[0] === selectedMember);
    if (!onlySelected) return actions.modalOpen({ stage: 'pick', command: id, ...(selectedMember === undefined ? {} : { member: selectedMember }) });
  }
  const request = requestFor(id, snapshot, selectedMember === undefined ? {} : { member: selectedMember });
  if (!request) return actions.say({ text: `${binding(id).description}: select a member first`, tone: 'warning' });
  actions.modalOpen({ stage: 'review', command: id, request, showPreview: false, typed: '' });
}

/** Runs the confirmed request through the runner; its result stays in the dialog until dismissed. */
function startRun(modal: Extract<OperationModalState, { stage: 'review' }>, operations: OperationsPort, actions: CockpitActions): void {
  actions.modalRunning();
  void operations.run(modal.request).then((run) => actions.modalResult(run));
}

/**
 * Keys while an operation's dialog is open. The picker's ↑/↓/j/k/Enter belong to ink-select-input; here:
 * cancel, the Preview, the confirmation (y, or the typed name), abort, dismiss.
 */
function handleModalKey(name: string, modal: OperationModalState, view: CockpitView, actions: CockpitActions, services: CockpitServices): void {
  const operations = services.operations;
  const global = commandForKey(name, ['global']);
  if (global === 'app.quit' && !isPrintableKey(name)) return actions.quit();
  if (!operations) return actions.modalClose();
  if (modal.stage === 'pitr') return handlePitrKey(name, modal.form, actions, operations);
  if (modal.stage === 'review') {
    const blocked = operations.check(modal.request).blockers.length > 0;
    const confirmation = confirmationFor(modal.request, view.snapshot);
    if (confirmation.kind === 'type-name' && !blocked) {
      if (isPrintableKey(name)) return actions.modalType(name);
      const id = commandForKey(name, ['modal']);
      if (id === 'modal.cancel') return actions.modalClose();
      if (id === 'modal.preview') return actions.modalTogglePreview();
      if (name === 'backspace') return actions.modalDelete();
      if (id === 'modal.accept') {
        if (modal.typed === confirmation.name) return startRun(modal, operations, actions);
        return actions.modalNameError(`"${modal.typed}" is not ${confirmation.name}: refused, nothing was done. Type the name exactly.`);
      }
      return;
    }
    const id = commandForKey(name, ['modal']);
    if (id === 'modal.cancel' || id === 'modal.decline') return actions.modalClose();
    if (id === 'modal.preview') return actions.modalTogglePreview();
    if (id === 'modal.confirm') {
      if (blocked) return actions.say({ text: 'cannot run: a precondition fails (✗); nothing was changed', tone: 'warning' });
      return startRun(modal, operations, actions);
    }
    if (id === 'modal.accept') return actions.say({ text: 'y runs it, n or Esc cancels', tone: 'info' });
    return;
  }
  const id = commandForKey(name, ['modal']);
  switch (modal.stage) {
    case 'pick':
      if (id === 'modal.cancel' || id === 'modal.decline') actions.modalClose();
      return;
    case 'running':
      if (id === 'modal.abort') {
        const aborted = operations.abort('aborted by the operator (a)');
        actions.say({ text: aborted ? 'abort requested' : 'nothing to abort', tone: 'warning' });
      } else if (id === 'modal.cancel') {
        actions.say({ text: 'the operation is running: a aborts it; its result stays here', tone: 'info' });
      }
      return;
    case 'result':
      if (id === 'modal.cancel' || id === 'modal.accept') {
        actions.modalClose();
        actions.say(undefined);
      }
      return;
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
function handleTextInput(name: string, view: CockpitView, ui: CockpitUiState, actions: CockpitActions, services: CockpitServices): void {
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
    if (item) runCommand(item.id, view, { ...ui, overlay: undefined }, actions, services);
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
  const latestUi = useCockpitState();
  const actions = useCockpitActions();
  const services = useCockpitServices();
  // Ink re-subscribes the handler in a passive effect, after the frame is drawn: keys typed right after a
  // frame (a paste, a fast typist over tmux) would reach the previous render's handler. The handler reads
  // the state of the last render through refs instead.
  const latest = useRef({ ui: latestUi, view });
  latest.current = { ui: latestUi, view };
  useInput(
    (input, key) => {
      const { ui, view } = latest.current;
      if (ui.modal) {
        if (ui.modal.stage === 'review') {
          const text = typedText(input, key);
          if (text !== undefined) {
            // A paste of the name: typed as a whole (only where a name is typed).
            const confirmation = confirmationFor(ui.modal.request, view.snapshot);
            if (confirmation.kind === 'type-name') return actions.modalType(text);
          }
        }
        if (ui.modal.stage === 'pitr' && ui.modal.form.step === 'value') {
          // A target pasted (or typed fast over tmux) arrives as one chunk: all of it is the target.
          const text = typedText(input, key);
          if (text !== undefined) return actions.modalPitr((form) => typeTarget(form, text));
        }
        const name = keyName(input, key);
        if (name === undefined) return;
        handleModalKey(name, ui.modal, view, actions, services);
        return;
      }
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
        handleTextInput(name, view, ui, actions, services);
        return;
      }
      const scopes = ui.overlay === 'help' ? (['global', 'cockpit'] as const) : (['global', 'list', 'cockpit', 'members'] as const);
      const id = commandForKey(name, scopes);
      if (id === undefined) return;
      if (ui.overlay === 'help' && id !== 'view.help' && id !== 'view.back' && id !== 'app.quit') return;
      if (ui.message && id !== 'view.back') actions.say(undefined);
      runCommand(id, view, ui, actions, services);
    },
    { isActive: options.isActive ?? true },
  );
}
