import type { CommandSpec, Io } from './args.js';
import { helpText, parseCommand } from './args.js';
import type { GlobalOptions } from './global-options.js';
import { GLOBAL_OPTION_HELP } from './global-options.js';
import path from 'node:path';
import { EventLogFile } from '../model/event-log.js';
import { openCluster } from '../model/open.js';
import type { ClusterStore } from '../model/store.js';
import type { OperationRunner } from '../ops/runner.js';
import { traceStartup } from '../util/startup-trace.js';

export const COCKPIT_SPEC: CommandSpec = {
  name: 'pgcockpit',
  summary: 'The cockpit: the whole cluster live on one screen (? for the keys).',
  usage: 'pgcockpit [--config FILE] [--cluster NAME] [--read-only]',
  options: {},
  optionHelp: [...GLOBAL_OPTION_HELP],
};

export const WATCH_SPEC: CommandSpec = {
  name: 'watch',
  summary: 'The wallboard: a large, read-only view readable from across the room, for days on end.',
  usage: 'pgcockpit watch [--config FILE] [--cluster NAME]',
  options: {},
  optionHelp: [...GLOBAL_OPTION_HELP],
};

/** `pgcockpit` (cockpit) and `pgcockpit watch` (wallboard, always read-only). */
export async function cockpitCommand(mode: 'cockpit' | 'watch', argv: string[], globals: GlobalOptions, io: Io): Promise<number> {
  const spec = mode === 'watch' ? WATCH_SPEC : COCKPIT_SPEC;
  const { values } = parseCommand(spec, argv);
  if (values.help) {
    io.out(helpText(spec));
    return 0;
  }
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    io.err(`pgcockpit: the ${mode === 'watch' ? 'wallboard' : 'cockpit'} needs a terminal; for scripts use \`pgcockpit status --json\` or \`pgcockpit check\``);
    return 2;
  }
  // Start-up: the store asks Patroni first, before the UI and the operations layer are loaded (most of the
  // start-up is loading them), so the members and the leader are usually in for the first frame. The other
  // sources (the members' REST and SQL, the DCS and its watch, HAProxy, Barman…) start once that frame is on the
  // screen, or after patroniFirstMs at the latest.
  let firstFrameDrawn: () => void = () => undefined;
  const firstFrame = new Promise<void>((resolve) => {
    firstFrameDrawn = resolve;
  });
  const opened = openCluster(globals, io, { eventLog: true, patroniFirstMs: 1000, othersAfter: firstFrame });
  if (typeof opened === 'number') return opened;
  const { store, cluster, config } = opened;
  traceStartup('config loaded, store started');
  store.start();
  try {
    const [{ runCockpit }, { writeTimelineExport }, { AuditLog, auditLogPath, clusterSecrets }, { createOpsContext }, { restoreListing }, { OperationRunner }] = await Promise.all([
      import('../ui/run-cockpit.js'),
      import('../model/timeline-export.js'),
      import('../ops/audit.js'),
      import('../ops/context.js'),
      import('../ops/pitr.js'),
      import('../ops/runner.js'),
    ]);
    traceStartup('cockpit loaded');
    const readOnly = globals.readOnly || mode === 'watch';
    const auditFile = auditLogPath(config, io.env);
    // The runner: read-only in watch mode and with --read-only (it refuses every operation; the keys are hidden).
    let operations: OperationRunner | undefined;
    try {
      operations = new OperationRunner({
        context: createOpsContext(cluster, store, { env: io.env }),
        readOnly,
        audit: new AuditLog(auditFile, clusterSecrets(cluster, io.env)),
        lockDir: path.dirname(auditFile),
      });
    } catch (error) {
      io.err(`pgcockpit: operations disabled for cluster ${cluster.name}: ${(error as Error).message}`);
    }
    const eventLogFile = EventLogFile.pathFor(cluster.name, config.eventLogDir, io.env);
    const exportTimeline = () =>
      writeTimelineExport({ cluster: cluster.name, eventLogFile, auditFile, dir: process.cwd(), sinceMs: Date.now() - 24 * 3600_000 });
    const listRestores = () => restoreListing(cluster, io.env);
    // Patroni usually answered while the UI loaded; if not, give it a moment before drawing: a first frame saying
    // "waiting for Patroni" would cost as much as the one with the members right after it.
    await patroniRead(store, FIRST_READ_WAIT_MS);
    traceStartup(store.getSnapshot().sources.patroni === undefined ? 'patroni not read yet' : 'patroni read');
    await runCockpit(store, { mode, readOnly, ...(operations ? { operations } : {}), exportTimeline, listRestores, onFirstFrame: firstFrameDrawn });
    return 0;
  } finally {
    await store.stop();
  }
}

/** How long the cockpit, once loaded, waits for Patroni's first reading before drawing without it. */
const FIRST_READ_WAIT_MS = 300;

/** Resolves once the store's snapshot holds Patroni's first reading (an answer or a failure), or after waitMs. */
function patroniRead(store: ClusterStore, waitMs: number): Promise<void> {
  if (store.getSnapshot().sources.patroni !== undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    const unsubscribe = store.subscribe(() => {
      if (store.getSnapshot().sources.patroni !== undefined) done();
    });
  });
}
