import { render } from 'ink';
import { themeFromEnv } from '../../components/theme.js';
import type { ClusterStore } from '../model/store.js';
import { App } from './App.js';
import type { CockpitServices, OperationsPort } from './operations-port.js';
import type { CockpitMode } from './cockpit-view.js';
import { traceStartup } from '../util/startup-trace.js';

export interface RunCockpitOptions {
  mode: CockpitMode;
  /** Refuse operations; watch mode is read-only whatever this says. */
  readOnly: boolean;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  /** Defaults to process.env (NO_COLOR). */
  env?: Record<string, string | undefined>;
  /** The operations runner (read-only in watch mode and with --read-only). */
  operations?: OperationsPort;
  /** The T key's export (writes a file, returns its path). */
  exportTimeline?: () => string;
  /** The side restores and safety copies (the PITR dialog lists them). */
  listRestores?: CockpitServices['listRestores'];
  /** Frames per second at most (default 20: enough for a cockpit, cheap over SSH). */
  maxFps?: number;
  /**
   * Called once, after Ink has drawn the first frame rendered from a snapshot holding Patroni's first reading
   * (members and leader, or its failure): the cockpit then lets the other sources start.
   */
  onFirstFrame?: () => void;
}

/**
 * The store as the UI reads it, noting whether a render has read a snapshot with Patroni's first reading; the
 * frame Ink draws after that render shows it.
 */
function watchFirstReading(store: ClusterStore, onFirstFrame: (() => void) | undefined): { store: ClusterStore; onRender?: () => void } {
  if (!onFirstFrame) return { store };
  let read = false;
  let done = false;
  const getSnapshot = () => {
    const snapshot = store.getSnapshot();
    if (!read && snapshot.sources.patroni !== undefined) read = true;
    return snapshot;
  };
  return {
    // Everything else is the store's own (calls go to the store itself).
    store: new Proxy(store, { get: (target, key) => (key === 'getSnapshot' ? getSnapshot : Reflect.get(target, key, target)) }),
    onRender: () => {
      if (!read || done) return;
      done = true;
      traceStartup('first frame with patroni');
      onFirstFrame();
    },
  };
}

/**
 * Full screen until the operator quits: the alternate screen (the shell's scrollback comes back intact),
 * raw keys, at most maxFps frames. Resolves when the app exits by q, Ctrl-C, SIGTERM or SIGHUP (the
 * SSH session went away); Ink restores the screen, the cursor and the terminal mode on every path.
 */
export async function runCockpit(store: ClusterStore, options: RunCockpitOptions): Promise<void> {
  const env = options.env ?? process.env;
  const first = watchFirstReading(store, options.onFirstFrame);
  traceStartup('render');
  const instance = render(
    <App
      store={first.store}
      mode={options.mode}
      readOnly={options.readOnly || options.mode === 'watch'}
      theme={themeFromEnv(env)}
      {...(options.operations ? { operations: options.operations } : {})}
      {...(options.exportTimeline ? { exportTimeline: options.exportTimeline } : {})}
      {...(options.listRestores ? { listRestores: options.listRestores } : {})}
    />,
    {
      stdout: options.stdout ?? process.stdout,
      stdin: options.stdin ?? process.stdin,
      alternateScreen: true,
      // The cockpit only runs on a terminal (the command checks): interactive whatever the environment
      // says — Ink would otherwise go non-interactive when CI is set, and draw nothing until exit.
      interactive: Boolean((options.stdout ?? process.stdout).isTTY),
      exitOnCtrlC: false,
      patchConsole: true,
      maxFps: options.maxFps ?? 20,
      incrementalRendering: true,
      ...(first.onRender ? { onRender: first.onRender } : {}),
    },
  );
  const stop = () => instance.unmount();
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
  for (const signal of signals) process.on(signal, stop);
  try {
    await instance.waitUntilExit();
  } finally {
    for (const signal of signals) process.off(signal, stop);
  }
}
