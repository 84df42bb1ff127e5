import type { PaneId } from '../keymap/keymap.js';
import type { Tone } from '../../components/theme.js';
import type { OperationRequest } from '../ops/operations.js';
import type { OperationRun } from '../ops/runner.js';
import type { ModalCommand } from './operations-port.js';
import type { PitrForm } from './pitr-form.js';

/** The focus ring, in Tab order. */
export const PANES: readonly PaneId[] = ['members', 'lag', 'timeline', 'archive', 'backups'];

export type Overlay = 'help' | 'palette';

/**
 * An operation's dialog, stage by stage: pick a candidate (or the restart's targets) → review the checks
 * and the Preview and confirm → running → result (stays until dismissed).
 */
export type OperationModalState =
  | { stage: 'pick'; command: ModalCommand; member?: string }
  | { stage: 'pitr'; command: ModalCommand; form: PitrForm }
  | { stage: 'review'; command: ModalCommand; request: OperationRequest; showPreview: boolean; typed: string; nameError?: string }
  | { stage: 'running'; command: ModalCommand; request: OperationRequest }
  | { stage: 'result'; command: ModalCommand; request: OperationRequest; run: OperationRun };

export interface CockpitMessage {
  text: string;
  tone?: Tone;
}

/** UI state only (what the operator looks at); cluster data lives in the store. */
export interface CockpitUiState {
  focusedPane: PaneId;
  /** By name, not index: the selection stays on db2 when the members re-sort. */
  selectedMember?: string;
  /** Rows scrolled past (newest first) in the panes that scroll. */
  scroll: { timeline: number; backups: number };
  detailMember?: string;
  overlay?: Overlay;
  filter: string;
  filterEditing: boolean;
  paletteQuery: string;
  paletteIndex: number;
  message?: CockpitMessage;
  modal?: OperationModalState;
}

export const INITIAL_UI_STATE: CockpitUiState = {
  focusedPane: 'members',
  scroll: { timeline: 0, backups: 0 },
  filter: '',
  filterEditing: false,
  paletteQuery: '',
  paletteIndex: 0,
};

export type CockpitAction =
  | { type: 'focus'; delta: 1 | -1 }
  | { type: 'select'; member: string | undefined }
  | { type: 'scroll'; pane: 'timeline' | 'backups'; offset: number }
  | { type: 'openDetail'; member: string }
  | { type: 'back' }
  | { type: 'toggleHelp' }
  | { type: 'openFilter' }
  | { type: 'filterType'; text: string }
  | { type: 'filterDelete' }
  | { type: 'filterAccept' }
  | { type: 'filterCancel' }
  | { type: 'openPalette' }
  | { type: 'paletteType'; text: string }
  | { type: 'paletteDelete' }
  | { type: 'paletteMove'; delta: number; count: number }
  | { type: 'closePalette' }
  | { type: 'message'; message: CockpitMessage | undefined }
  | { type: 'modalOpen'; modal: OperationModalState }
  | { type: 'modalReview'; request: OperationRequest }
  | { type: 'modalPitr'; update: (form: PitrForm) => PitrForm }
  | { type: 'modalTogglePreview' }
  | { type: 'modalType'; text: string }
  | { type: 'modalDelete' }
  | { type: 'modalNameError'; text: string }
  | { type: 'modalRunning' }
  | { type: 'modalResult'; run: OperationRun }
  | { type: 'modalClose' };

/** Pure: the whole UI state machine. Keys become actions in the keyboard controller, never here. */
export function cockpitReducer(state: CockpitUiState, action: CockpitAction): CockpitUiState {
  switch (action.type) {
    case 'focus': {
      const index = PANES.indexOf(state.focusedPane);
      const next = PANES[(index + action.delta + PANES.length) % PANES.length] ?? 'members';
      return { ...state, focusedPane: next, message: undefined };
    }
    case 'select':
      return state.selectedMember === action.member ? state : { ...state, selectedMember: action.member };
    case 'scroll': {
      const offset = Math.max(0, action.offset);
      return state.scroll[action.pane] === offset ? state : { ...state, scroll: { ...state.scroll, [action.pane]: offset } };
    }
    case 'openDetail':
      return { ...state, detailMember: action.member, selectedMember: action.member, overlay: undefined, message: undefined };
    case 'back':
      if (state.overlay) return { ...state, overlay: undefined, paletteQuery: '', paletteIndex: 0 };
      if (state.detailMember) return { ...state, detailMember: undefined };
      if (state.filter !== '') return { ...state, filter: '', filterEditing: false };
      return state.message ? { ...state, message: undefined } : state;
    case 'toggleHelp':
      return { ...state, overlay: state.overlay === 'help' ? undefined : 'help', message: undefined };
    case 'openFilter':
      return { ...state, filterEditing: true, overlay: undefined, message: undefined };
    case 'filterType':
      return { ...state, filter: state.filter + action.text, scroll: { ...state.scroll, timeline: 0 } };
    case 'filterDelete':
      return { ...state, filter: Array.from(state.filter).slice(0, -1).join('') };
    case 'filterAccept':
      return { ...state, filterEditing: false };
    case 'filterCancel':
      return { ...state, filter: '', filterEditing: false };
    case 'openPalette':
      return { ...state, overlay: 'palette', paletteQuery: '', paletteIndex: 0, message: undefined };
    case 'paletteType':
      return { ...state, paletteQuery: state.paletteQuery + action.text, paletteIndex: 0 };
    case 'paletteDelete':
      return { ...state, paletteQuery: Array.from(state.paletteQuery).slice(0, -1).join(''), paletteIndex: 0 };
    case 'paletteMove': {
      if (action.count <= 0) return state;
      const index = Math.min(Math.max(0, state.paletteIndex + action.delta), action.count - 1);
      return index === state.paletteIndex ? state : { ...state, paletteIndex: index };
    }
    case 'closePalette':
      return { ...state, overlay: undefined, paletteQuery: '', paletteIndex: 0 };
    case 'message':
      return { ...state, message: action.message };
    default:
      return modalReducer(state, action);
  }
}

/** The operation dialog's transitions; an action that does not fit the current stage changes nothing. */
function modalReducer(state: CockpitUiState, action: CockpitAction): CockpitUiState {
  const modal = state.modal;
  switch (action.type) {
    case 'modalOpen':
      return { ...state, modal: action.modal, overlay: undefined, detailMember: undefined, message: undefined };
    case 'modalPitr':
      // An update of the form as it is now: keys arriving faster than renders each see the previous one's result.
      return modal?.stage === 'pitr' ? { ...state, modal: { ...modal, form: action.update(modal.form) } } : state;
    case 'modalReview':
      if (!modal || (modal.stage !== 'pick' && modal.stage !== 'pitr' && modal.stage !== 'review')) return state;
      return { ...state, modal: { stage: 'review', command: modal.command, request: action.request, showPreview: false, typed: '' } };
    case 'modalTogglePreview':
      return modal?.stage === 'review' ? { ...state, modal: { ...modal, showPreview: !modal.showPreview } } : state;
    case 'modalType':
      if (modal?.stage !== 'review') return state;
      return { ...state, modal: { stage: 'review', command: modal.command, request: modal.request, showPreview: modal.showPreview, typed: modal.typed + action.text } };
    case 'modalDelete':
      return modal?.stage === 'review' ? { ...state, modal: { ...modal, typed: Array.from(modal.typed).slice(0, -1).join('') } } : state;
    case 'modalNameError':
      return modal?.stage === 'review' ? { ...state, modal: { ...modal, typed: '', nameError: action.text } } : state;
    case 'modalRunning':
      return modal?.stage === 'review' ? { ...state, modal: { stage: 'running', command: modal.command, request: modal.request } } : state;
    case 'modalResult':
      // The result stays until dismissed, whatever stage the dialog was in (a refusal comes straight back).
      if (!modal || modal.stage === 'pick' || modal.stage === 'pitr') return state;
      return { ...state, modal: { stage: 'result', command: modal.command, request: modal.request, run: action.run } };
    case 'modalClose':
      return modal ? { ...state, modal: undefined } : state;
    default:
      return state;
  }
}
