import { render } from 'ink';
import { themeFromEnv } from '../../components/theme.js';
import type { ClusterStore } from '../model/store.js';
import { App } from './App.js';
import type { CockpitServices, OperationsPort } from './operations-port.js';
import type { CockpitMode } from './cockpit-view.js';

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
}

/**
 * Full screen until the operator quits: the alternate screen (the shell's scrollback comes back intact),
 * raw keys, at most maxFps frames. Resolves when the app exits by q, Ctrl-C, SIGTERM or SIGHUP (the
 * SSH session went away); Ink restores the screen, the cursor and the terminal mode on every path.
 */
export async function runCockpit(store: ClusterStore, options: RunCockpitOptions): Promise<void> {
  const env = options.env ?? process.env;
  const instance = render(
    <App
      store={store}
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
