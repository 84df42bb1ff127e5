import type { Dispatch } from 'react';
import { createContext, useContext } from 'react';
import type { OperationRequest } from '../ops/operations.js';
import type { OperationRun } from '../ops/runner.js';
import type { CockpitAction, CockpitMessage, CockpitUiState, OperationModalState } from './cockpit-state.js';
import { INITIAL_UI_STATE } from './cockpit-state.js';
import type { PitrForm } from './pitr-form.js';

/**
 * State and actions in two contexts (STYLE rule 8): a component that only acts never re-renders on a
 * state change, and the actions object is stable for the app's life.
 */
export const CockpitStateContext = createContext<CockpitUiState>(INITIAL_UI_STATE);

export interface CockpitActions {
  focusNext(): void;
  focusPrev(): void;
  select(member: string | undefined): void;
  scroll(pane: 'timeline' | 'backups', offset: number): void;
  openDetail(member: string): void;
  back(): void;
  toggleHelp(): void;
  openFilter(): void;
  filterType(text: string): void;
  filterDelete(): void;
  filterAccept(): void;
  filterCancel(): void;
  openPalette(): void;
  paletteType(text: string): void;
  paletteDelete(): void;
  paletteMove(delta: number, count: number): void;
  closePalette(): void;
  say(message: CockpitMessage | undefined): void;
  modalOpen(modal: OperationModalState): void;
  modalReview(request: OperationRequest): void;
  modalPitr(update: (form: PitrForm) => PitrForm): void;
  modalTogglePreview(): void;
  modalType(text: string): void;
  modalDelete(): void;
  modalNameError(text: string): void;
  modalRunning(): void;
  modalResult(run: OperationRun): void;
  modalClose(): void;
  quit(): void;
}

export function createCockpitActions(dispatch: Dispatch<CockpitAction>, quit: () => void): CockpitActions {
  return {
    focusNext: () => dispatch({ type: 'focus', delta: 1 }),
    focusPrev: () => dispatch({ type: 'focus', delta: -1 }),
    select: (member) => dispatch({ type: 'select', member }),
    scroll: (pane, offset) => dispatch({ type: 'scroll', pane, offset }),
    openDetail: (member) => dispatch({ type: 'openDetail', member }),
    back: () => dispatch({ type: 'back' }),
    toggleHelp: () => dispatch({ type: 'toggleHelp' }),
    openFilter: () => dispatch({ type: 'openFilter' }),
    filterType: (text) => dispatch({ type: 'filterType', text }),
    filterDelete: () => dispatch({ type: 'filterDelete' }),
    filterAccept: () => dispatch({ type: 'filterAccept' }),
    filterCancel: () => dispatch({ type: 'filterCancel' }),
    openPalette: () => dispatch({ type: 'openPalette' }),
    paletteType: (text) => dispatch({ type: 'paletteType', text }),
    paletteDelete: () => dispatch({ type: 'paletteDelete' }),
    paletteMove: (delta, count) => dispatch({ type: 'paletteMove', delta, count }),
    closePalette: () => dispatch({ type: 'closePalette' }),
    say: (message) => dispatch({ type: 'message', message }),
    modalOpen: (modal) => dispatch({ type: 'modalOpen', modal }),
    modalReview: (request) => dispatch({ type: 'modalReview', request }),
    modalPitr: (update) => dispatch({ type: 'modalPitr', update }),
    modalTogglePreview: () => dispatch({ type: 'modalTogglePreview' }),
    modalType: (text) => dispatch({ type: 'modalType', text }),
    modalDelete: () => dispatch({ type: 'modalDelete' }),
    modalNameError: (text) => dispatch({ type: 'modalNameError', text }),
    modalRunning: () => dispatch({ type: 'modalRunning' }),
    modalResult: (run) => dispatch({ type: 'modalResult', run }),
    modalClose: () => dispatch({ type: 'modalClose' }),
    quit,
  };
}

const missingActions = new Proxy({} as CockpitActions, {
  get() {
    throw new Error('CockpitActionsContext is not provided (render inside <App>)');
  },
});

export const CockpitActionsContext = createContext<CockpitActions>(missingActions);

export function useCockpitState(): CockpitUiState {
  return useContext(CockpitStateContext);
}

export function useCockpitActions(): CockpitActions {
  return useContext(CockpitActionsContext);
}
