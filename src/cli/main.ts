import type { Io } from './args.js';
import { UsageError, processIo } from './args.js';
import { extractGlobalOptions } from './global-options.js';
import { traceStartup } from '../util/startup-trace.js';

// Commands are imported when they run: `--help`, `status` or `lab` do not pay for Ink, React or the
// operations layer at start-up.

const COMMANDS: Array<[string, string]> = [
  ['(none)', 'open the cockpit on the configured cluster (the native lab by default)'],
  ['watch', 'the wallboard: large, read-only, for days'],
  ['status', 'the cluster at a glance (--json, --watch)'],
  ['check', 'health checks with Nagios exit codes'],
  ['timeline', 'the incident timeline (--since, --markdown, --json)'],
  ['lab', 'the native lab: up, down, status, destroy, load, install, env'],
  ['keys', "the cockpit's keys as a Markdown table (from the keymap)"],
  ['switchover', 'planned switchover to a chosen or the best replica, now or --at a time (--cancel)'],
  ['failover', 'emergency failover to a named replica (may lose data)'],
  ['reinit', 'rebuild a replica from the leader'],
  ['restart', 'restart a member, or every member with a pending restart'],
  ['reload', 'reload the configuration of a member or of all'],
  ['pause', 'maintenance mode: no automatic failover'],
  ['resume', 'leave maintenance mode'],
  ['drill', 'failover drill on the lab: kill the leader, measure, bring it back'],
  ['backup', 'take a Barman backup, with progress'],
  ['backups', 'list Barman backups and the recovery window'],
  ['pitr', 'point-in-time recovery: a side restore (default) or a guarded cluster rewind'],
  ['restores', 'list or remove side restores'],
];

export function mainHelp(): string {
  return [
    'pgcockpit: a terminal cockpit for PostgreSQL HA clusters (Patroni, etcd, HAProxy, Barman).',
    '',
    'Usage: pgcockpit [command] [options]    (pgcockpit <command> --help)',
    '',
    'Global options: --config FILE, --cluster NAME, --read-only    (--version: the version)',
    '',
    'Commands:',
    ...COMMANDS.map(([name, text]) => `  ${name.padEnd(10)} ${text}`),
  ].join('\n');
}

/** "pgcockpit 0.1.0 (Node v24.9.0)": the package's version, and the Node it runs on. */
export async function versionText(): Promise<string> {
  const [{ default: fs }, { default: path }, { packageRoot }] = await Promise.all([import('node:fs'), import('node:path'), import('../util/package-root.js')]);
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
  return `pgcockpit ${pkg.version ?? 'unknown'} (Node ${process.version})`;
}

/** The CLI entry: dispatches to a command and returns its exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  traceStartup('main');
  try {
    const { globals, rest: args } = extractGlobalOptions(argv);
    const [command, ...rest] = args;
    switch (command) {
      case '-h':
      case '--help':
      case 'help':
        io.out(mainHelp());
        return 0;
      case '-V':
      case '--version':
      case 'version':
        io.out(await versionText());
        return 0;
      case 'lab':
        return await (await import('./lab-command.js')).labCommand(rest, io);
      case 'status':
        return await (await import('./status-command.js')).statusCommand(rest, globals, io);
      case 'check':
        return await (await import('./status-command.js')).checkCommand(rest, globals, io);
      case 'timeline':
        return (await import('./timeline-command.js')).timelineCommand(rest, globals, io);
      case 'keys':
        return (await import('./keys-command.js')).keysCommand(rest, io);
      case 'switchover':
      case 'failover':
      case 'reinit':
      case 'restart':
      case 'reload':
      case 'pause':
      case 'resume':
      case 'drill':
        return await (await import('./ops-commands.js')).opsCommand(command, rest, globals, io);
      case 'backup':
      case 'backups':
      case 'pitr':
      case 'restores':
        return await (await import('./backup-commands.js')).backupCommand(command, rest, globals, io);
      case undefined:
        return await (await import('./cockpit-command.js')).cockpitCommand('cockpit', rest, globals, io);
      case 'watch':
        return await (await import('./cockpit-command.js')).cockpitCommand('watch', rest, globals, io);
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
