import type { CommandSpec, Io } from './args.js';
import { helpText, parseCommand } from './args.js';
import type { GlobalOptions } from './global-options.js';
import { GLOBAL_OPTION_HELP } from './global-options.js';
import path from 'node:path';
import { EventLogFile } from '../model/event-log.js';
import { openCluster } from '../model/open.js';
import { writeTimelineExport } from '../model/timeline-export.js';
import { AuditLog, auditLogPath, clusterSecrets } from '../ops/audit.js';
import { createOpsContext } from '../ops/context.js';
import { restoreListing } from '../ops/pitr.js';
import { OperationRunner } from '../ops/runner.js';
import { runCockpit } from '../ui/run-cockpit.js';

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
  const opened = openCluster(globals, io, { eventLog: true, patroniFirstMs: 300 });
  if (typeof opened === 'number') return opened;
  const { store, cluster, config } = opened;
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
  store.start();
  try {
    await runCockpit(store, { mode, readOnly, ...(operations ? { operations } : {}), exportTimeline, listRestores });
    return 0;
  } finally {
    await store.stop();
  }
}
