import type { CommandSpec, Io } from './args.js';
import { helpText, parseCommand } from './args.js';
import type { GlobalOptions } from './global-options.js';
import { GLOBAL_OPTION_HELP } from './global-options.js';
import { checkExitCode, checkLines, formatStatus, statusJson } from './status-format.js';
import { openCluster } from '../model/open.js';
import { preloadEtcd3 } from '../services/etcd.js';

export const STATUS_SPEC: CommandSpec = {
  name: 'status',
  summary: "The cluster at a glance: what `patronictl list` shows, plus archiving, backups, etcd quorum, HAProxy routing and alerts.",
  usage: 'pgcockpit status [--json] [--watch] [--config FILE] [--cluster NAME]',
  options: { json: { type: 'boolean' }, watch: { type: 'boolean' } },
  optionHelp: [
    ['--json', `a stable JSON document (schema pgcockpit.status/v1, see README)`],
    ['--watch', 'redraw on every change until Ctrl-C (with --json: one document per line)'],
    ...GLOBAL_OPTION_HELP,
  ],
};

export const CHECK_SPEC: CommandSpec = {
  name: 'check',
  summary: 'Health checks, one line each, with Nagios exit codes: 0 OK, 1 warning, 2 critical, 3 unknown.',
  usage: 'pgcockpit check [--json] [--config FILE] [--cluster NAME]',
  options: { json: { type: 'boolean' } },
  optionHelp: [['--json', 'the check lines as JSON'], ...GLOBAL_OPTION_HELP],
};

/** `pgcockpit status`: reads every source once (each with its timeout), prints, exits. */
export async function statusCommand(argv: string[], globals: GlobalOptions, io: Io): Promise<number> {
  const { values } = parseCommand(STATUS_SPEC, argv);
  if (values.help) {
    io.out(helpText(STATUS_SPEC));
    return 0;
  }
  const opened = openCluster(globals, io, { watchDcs: values.watch === true, leaderProbe: values.watch === true });
  if (typeof opened === 'number') return opened;
  const { store } = opened;
  try {
    // etcd3 only for a watch or an etcd with a user (else the JSON gateway): loaded before any read starts.
    if (values.watch === true || opened.cluster.etcd.username) await preloadEtcd3();
    store.start();
    await store.whenFirstComplete();
    const print = () => {
      const snapshot = store.getSnapshot();
      if (values.json) io.out(JSON.stringify(statusJson(snapshot), null, values.watch ? undefined : 2));
      else io.out(`${values.watch ? '\x1b[H\x1b[2J' : ''}${formatStatus(snapshot)}`);
    };
    print();
    if (!values.watch) return store.getSnapshot().members.length ? 0 : 3;
    await new Promise<void>((resolve) => {
      let last = 0;
      let timer: NodeJS.Timeout | undefined;
      const unsubscribe = store.subscribe(() => {
        // At most one redraw a second: a terminal, not a log.
        if (timer) return;
        const wait = Math.max(0, 1000 - (Date.now() - last));
        timer = setTimeout(() => {
          timer = undefined;
          last = Date.now();
          print();
        }, wait);
      });
      const stop = () => {
        unsubscribe();
        if (timer) clearTimeout(timer);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  } finally {
    await store.stop();
  }
}

/** `pgcockpit check`: what check_stack.sh and monitor-cluster.sh --health-check cover, Nagios-style. */
export async function checkCommand(argv: string[], globals: GlobalOptions, io: Io): Promise<number> {
  const { values } = parseCommand(CHECK_SPEC, argv);
  if (values.help) {
    io.out(helpText(CHECK_SPEC));
    return 0;
  }
  const opened = openCluster(globals, io, { watchDcs: false, leaderProbe: false });
  if (typeof opened === 'number') return opened === 2 ? 3 : opened;
  const { store } = opened;
  try {
    if (opened.cluster.etcd.username) await preloadEtcd3();
    store.start();
    await store.whenFirstComplete();
    const lines = checkLines(store.getSnapshot());
    const code = checkExitCode(lines);
    if (values.json) {
      io.out(JSON.stringify({ status: ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'][code], exitCode: code, checks: lines }, null, 2));
    } else {
      for (const line of lines) io.out(`${line.status.padEnd(8)} ${line.name.padEnd(12)} ${line.message}`);
    }
    return code;
  } finally {
    await store.stop();
  }
}
