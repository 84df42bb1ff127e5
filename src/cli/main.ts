import type { Io } from './args.js';
import { UsageError, processIo } from './args.js';
import { BACKUP_SPECS, backupCommand } from './backup-commands.js';
import { cockpitCommand } from './cockpit-command.js';
import { extractGlobalOptions } from './global-options.js';
import { keysCommand } from './keys-command.js';
import { labCommand } from './lab-command.js';
import { OPS_SPECS, opsCommand } from './ops-commands.js';
import { checkCommand, statusCommand } from './status-command.js';
import { timelineCommand } from './timeline-command.js';

const COMMANDS: Array<[string, string]> = [
  ['(none)', 'open the cockpit on the configured cluster (the native lab by default)'],
  ['watch', 'the wallboard: large, read-only, for days'],
  ['status', 'the cluster at a glance (--json, --watch)'],
  ['check', 'health checks with Nagios exit codes'],
  ['timeline', 'the incident timeline (--since, --markdown, --json)'],
  ['lab', 'the native lab: up, down, status, destroy, load, install, env'],
  ['keys', "the cockpit's keys as a Markdown table (from the keymap)"],
  ...Object.values(OPS_SPECS).map((spec): [string, string] => [spec.name, spec.summary.split(/[.(:]/)[0] as string]),
  ...Object.values(BACKUP_SPECS).map((spec): [string, string] => [spec.name, spec.summary.split(/[.(:]/)[0] as string]),
];

export function mainHelp(): string {
  return [
    'pgcockpit: a terminal cockpit for PostgreSQL HA clusters (Patroni, etcd, HAProxy, Barman).',
    '',
    'Usage: pgcockpit [command] [options]    (pgcockpit <command> --help)',
    '',
    'Global options: --config FILE, --cluster NAME, --read-only',
    '',
    'Commands:',
    ...COMMANDS.map(([name, text]) => `  ${name.padEnd(8)} ${text}`),
  ].join('\n');
}

/** The CLI entry: dispatches to a command and returns its exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  try {
    const { globals, rest: args } = extractGlobalOptions(argv);
    const [command, ...rest] = args;
    switch (command) {
      case '-h':
      case '--help':
      case 'help':
        io.out(mainHelp());
        return 0;
      case 'lab':
        return await labCommand(rest, io);
      case 'status':
        return await statusCommand(rest, globals, io);
      case 'check':
        return await checkCommand(rest, globals, io);
      case 'timeline':
        return timelineCommand(rest, globals, io);
      case 'keys':
        return keysCommand(rest, io);
      case 'switchover':
      case 'failover':
      case 'reinit':
      case 'restart':
      case 'reload':
      case 'pause':
      case 'resume':
      case 'drill':
        return await opsCommand(command, rest, globals, io);
      case 'backup':
      case 'backups':
      case 'pitr':
      case 'restores':
        return await backupCommand(command, rest, globals, io);
      case undefined:
        return await cockpitCommand('cockpit', rest, globals, io);
      case 'watch':
        return await cockpitCommand('watch', rest, globals, io);
      default:
        throw new UsageError(`unknown command "${command}"\n\n${mainHelp()}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(error.message);
      return 64;
    }
    io.err(`pgcockpit: ${(error as Error).stack ?? String(error)}`);
    return 2;
  }
}
