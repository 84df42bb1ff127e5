import type { Dispatch } from 'react';
import { createContext, useContext } from 'react';
import type { CockpitAction, CockpitMessage, CockpitUiState } from './cockpit-state.js';
import { INITIAL_UI_STATE } from './cockpit-state.js';

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
