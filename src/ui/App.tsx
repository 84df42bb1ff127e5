import { useCallback, useMemo, useReducer } from 'react';
import { useApp } from 'ink';
import { TooSmall } from '../../components/TooSmall.js';
import type { Theme } from '../../components/theme.js';
import { COLOR_THEME, ThemeContext } from '../../components/theme.js';
import type { CommandId } from '../keymap/keymap.js';
import type { ClusterStore } from '../model/store.js';
import { batchStore } from './batch-store.js';
import { CockpitActionsContext, CockpitStateContext, createCockpitActions, useCockpitState } from './cockpit-context.js';
import { cockpitReducer, INITIAL_UI_STATE } from './cockpit-state.js';
import type { CockpitConfig, CockpitMode } from './cockpit-view.js';
import { buildCockpitView } from './cockpit-view.js';
import { CockpitScreen } from './CockpitScreen.js';
import type { CockpitServices, OperationsPort } from './operations-port.js';
import { CockpitServicesContext, commandBlocker, isModalCommand, useRunnerState } from './operations-port.js';
import { useCockpitKeys } from './use-cockpit-keys.js';
import { useEvents, useLagHistories, useSnapshot } from './use-cluster.js';
import { useNow } from './use-now.js';
import type { TerminalSize } from './use-terminal-size.js';
import { MIN_TERMINAL_SIZE, useTerminalSize } from './use-terminal-size.js';
import { WatchScreen } from './WatchScreen.js';

export interface AppProps {
  store: ClusterStore;
  mode: CockpitMode;
  /** Refuse every operation (watch mode always is). */
  readOnly: boolean;
  /** Detail-only store changes (lags, LSNs) are drawn at most once per this many ms (default 2000, the poll
   * interval: each poller's reading moves some number); a change of leader, role, state, alert or a new event
   * is drawn at once (see batchStore; 0 in tests). */
  batchMs?: number;
  /** The clock for ages (default Date.now). */
  clock?: () => number;
  /**
   * Ages are re-rendered when nothing else drew for this long (default 2500 ms: a little over the poll interval,
   * so while the data moves its own frames carry the ages and no clock frame falls between them; 0 never).
   */
  tickMs?: number;
  theme?: Theme;
  /** The operations runner (OperationRunner, or a fake in tests): when given, the operation keys open their dialogs. */
  operations?: OperationsPort;
  /** Writes the timeline export and returns its path (the T key); absent: T says why. */
  exportTimeline?: () => string;
  /** The side restores and safety copies (listed in the PITR dialog). */
  listRestores?: CockpitServices['listRestores'];
  /** How often the runner's state re-renders the dialog at most (default 100 ms; 0 in tests). */
  runnerBatchMs?: number;
  minSize?: TerminalSize;
  /** Called on q / Ctrl-C before Ink exits (run-cockpit restores the terminal). */
  onQuit?: () => void;
}

const defaultClock = () => Date.now();

/** Reads the store and the UI state, derives the view, and hands it to the screen for the mode. */
function ConnectedCockpit({ store, config, clock, tickMs, minSize, operations, runnerBatchMs }: { store: ClusterStore; config: CockpitConfig; clock: () => number; tickMs: number; minSize: TerminalSize; operations: OperationsPort | undefined; runnerBatchMs: number }) {
  const ui = useCockpitState();
  const runnerState = useRunnerState(operations, runnerBatchMs);
  const size = useTerminalSize();
  const now = useNow(clock, tickMs);
  const snapshot = useSnapshot(store);
  const events = useEvents(store);
  const replicaNames = useMemo(() => snapshot.members.filter((m) => m.name !== snapshot.leader && m.role !== 'leader').map((m) => m.name), [snapshot.members, snapshot.leader]);
  const lagHistories = useLagHistories(store, replicaNames);
  // The runner's blockers, asked once per snapshot / run / selection (the footer and the help ask often).
  const precondition = useMemo(() => {
    if (!operations) return undefined;
    const cache = new Map<string, string | undefined>();
    return (command: CommandId, selectedMember: string | undefined) => {
      if (!isModalCommand(command)) return undefined;
      const key = `${command}\u0000${selectedMember ?? ''}`;
      if (!cache.has(key)) cache.set(key, commandBlocker(operations, command, snapshot, selectedMember));
      return cache.get(key);
    };
    // runnerState: another operation starting or ending changes every answer.
  }, [operations, snapshot, runnerState]);
  const view = useMemo(
    () => buildCockpitView({ snapshot, events, lagHistories, ui, config, ...(precondition ? { precondition } : {}) }),
    [snapshot, events, lagHistories, ui, config, precondition],
  );
  useCockpitKeys(view);
  if (size.columns < minSize.columns || size.rows < minSize.rows) {
    return <TooSmall columns={size.columns} rows={size.rows} minColumns={minSize.columns} minRows={minSize.rows} />;
  }
  return config.mode === 'watch' ? (
    <WatchScreen view={view} size={size} now={now} />
  ) : (
    <CockpitScreen view={view} size={size} now={now} {...(operations ? { operations } : {})} {...(runnerState.current ? { currentRun: runnerState.current } : {})} />
  );
}

/**
 * The cockpit app: providers (theme, UI state, actions) around one connected screen. Thin on purpose:
 * state lives in a pure reducer, derivation in buildCockpitView, keys in useCockpitKeys, drawing in the
 * screens and components.
 */
export function App({
  store,
  mode,
  readOnly,
  batchMs = 2000,
  clock = defaultClock,
  tickMs = 2500,
  theme = COLOR_THEME,
  operations,
  exportTimeline,
  listRestores,
  runnerBatchMs = 100,
  minSize = MIN_TERMINAL_SIZE,
  onQuit,
}: AppProps) {
  const { exit } = useApp();
  const [ui, dispatch] = useReducer(cockpitReducer, INITIAL_UI_STATE);
  const quit = useCallback(() => {
    onQuit?.();
    exit();
  }, [exit, onQuit]);
  const actions = useMemo(() => createCockpitActions(dispatch, quit), [quit]);
  const batched = useMemo(() => batchStore(store, batchMs), [store, batchMs]);
  const config = useMemo<CockpitConfig>(
    () => ({
      mode,
      readOnly: readOnly || mode === 'watch' || operations?.readOnly === true,
      operationsAvailable: operations !== undefined,
      timelineExportAvailable: exportTimeline !== undefined,
    }),
    [mode, readOnly, operations, exportTimeline],
  );
  const services = useMemo<CockpitServices>(
    () => ({ ...(operations ? { operations } : {}), ...(exportTimeline ? { exportTimeline } : {}), ...(listRestores ? { listRestores } : {}) }),
    [operations, exportTimeline, listRestores],
  );
  return (
    <ThemeContext.Provider value={theme}>
      <CockpitServicesContext.Provider value={services}>
        <CockpitActionsContext.Provider value={actions}>
          <CockpitStateContext.Provider value={ui}>
            <ConnectedCockpit store={batched} config={config} clock={clock} tickMs={tickMs} minSize={minSize} operations={operations} runnerBatchMs={runnerBatchMs} />
          </CockpitStateContext.Provider>
        </CockpitActionsContext.Provider>
      </CockpitServicesContext.Provider>
    </ThemeContext.Provider>
  );
}
