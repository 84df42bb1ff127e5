import type { OperationRequest } from '../ops/operations.js';
import type { OperationName } from '../ops/types.js';
import type { CommandSpec, Io, ParsedCommand } from './args.js';
import { UsageError, helpText, parseCommand } from './args.js';
import type { GlobalOptions } from './global-options.js';
import type { RunOperationDeps } from './run-operation.js';
import { OPERATION_OPTIONS, OPERATION_OPTION_HELP, runOperationCommand } from './run-operation.js';

export { OPS_EXIT, exitCodeOf, formatChecks, formatEvent, formatPlan, runDocument } from './run-operation.js';

/**
 * The operation commands: switchover, failover, reinit, restart, reload, pause, resume, drill. Each checks
 * its preconditions through the runner (which enforces read-only mode and one operation at a time),
 * shows a dry run on --dry-run, asks for confirmation in proportion to the danger (y/N, or the member
 * name typed) and refuses instead of hanging when there is no terminal to ask on, streams its steps to
 * stderr and prints its result to stdout (--json: one document).
 * Exit codes: 0 done, 1 refused (a precondition, read-only, not confirmed), 2 failed or aborted, 64 usage.
 */

const COMMON_OPTIONS = OPERATION_OPTIONS;
const COMMON_HELP = OPERATION_OPTION_HELP;

/** The operations of this module (backup, pitr and rewind have their own commands: backup-commands.ts). */
export type ClusterOperationName = Exclude<OperationName, 'backup' | 'pitr' | 'rewind'>;

export const OPS_SPECS: Record<ClusterOperationName, CommandSpec> = {
  switchover: {
    name: 'switchover',
    summary: 'Planned switchover to a chosen or the best replica, now or at a time; or cancel a scheduled one. Done when verified through the HAProxy write port.',
    usage: 'pgcockpit switchover [--to MEMBER] [--at TIME] [--cancel] [--dry-run] [--yes] [--json]',
    options: { to: { type: 'string' }, at: { type: 'string' }, cancel: { type: 'boolean' }, ...COMMON_OPTIONS },
    optionHelp: [
      ['--to MEMBER', 'the candidate (default: the eligible replica with the least lag)'],
      ['--at TIME', 'schedule it: an ISO 8601 time with a zone, e.g. 2026-11-21T22:00:00+01:00'],
      ['--cancel', 'cancel the scheduled switchover'],
      ...COMMON_HELP,
    ],
  },
  failover: {
    name: 'failover',
    summary: 'Emergency failover to a replica (no healthy leader needed; commits the candidate has not received are lost).',
    usage: 'pgcockpit failover --to MEMBER [--dry-run] [--yes] [--json]',
    options: { to: { type: 'string' }, ...COMMON_OPTIONS },
    optionHelp: [['--to MEMBER', 'the candidate (required)'], ...COMMON_HELP],
  },
  reinit: {
    name: 'reinit',
    summary: 'Rebuild a replica from the leader (its data directory is wiped); done when it streams again.',
    usage: 'pgcockpit reinit MEMBER [--dry-run] [--yes] [--json]',
    options: { ...COMMON_OPTIONS },
    optionHelp: COMMON_HELP,
    allowPositionals: true,
  },
  restart: {
    name: 'restart',
    summary: "Restart PostgreSQL on a member, or on every member with a pending restart (replicas first, the leader last).",
    usage: 'pgcockpit restart [MEMBER | --pending] [--dry-run] [--yes] [--json]',
    options: { pending: { type: 'boolean' }, ...COMMON_OPTIONS },
    optionHelp: [['--pending', 'every member with a pending restart'], ...COMMON_HELP],
    allowPositionals: true,
  },
  reload: {
    name: 'reload',
    summary: "Make Patroni re-read its configuration file on a member, or on every member.",
    usage: 'pgcockpit reload [MEMBER] [--dry-run] [--json]',
    options: { ...COMMON_OPTIONS },
    optionHelp: COMMON_HELP,
    allowPositionals: true,
  },
  pause: {
    name: 'pause',
    summary: 'Pause the cluster (maintenance mode: Patroni does not fail over automatically).',
    usage: 'pgcockpit pause [--dry-run] [--json]',
    options: { ...COMMON_OPTIONS },
    optionHelp: COMMON_HELP,
  },
  resume: {
    name: 'resume',
    summary: 'Resume the cluster (leave maintenance mode).',
    usage: 'pgcockpit resume [--dry-run] [--json]',
    options: { ...COMMON_OPTIONS },
    optionHelp: COMMON_HELP,
  },
  drill: {
    name: 'drill',
    summary: "Failover drill on the native lab or on members in containers (the config names them): crash the leader, measure the time to a new leader and to writes, bring it back as a replica.",
    usage: 'pgcockpit drill [--dry-run] [--yes] [--json]',
    options: { ...COMMON_OPTIONS },
    optionHelp: COMMON_HELP,
  },
};

/** Turn a command's arguments into a runner request (usage errors as UsageError). Pure. */
export function opsRequest(name: ClusterOperationName, parsed: ParsedCommand): OperationRequest {
  const { values, positionals } = parsed;
  const spec = OPS_SPECS[name];
  const usage = (message: string) => new UsageError(`${name}: ${message}\n\n${helpText(spec)}`);
  const str = (key: string) => (typeof values[key] === 'string' ? (values[key] as string) : undefined);
  const onePositional = (required: boolean): string | undefined => {
    if (positionals.length > 1) throw usage(`one member at most (got ${positionals.join(' ')})`);
    if (required && positionals.length === 0) throw usage('name the member');
    return positionals[0];
  };
  switch (name) {
    case 'switchover': {
      const to = str('to');
      const at = str('at');
      if (values.cancel && (to || at)) throw usage('--cancel takes neither --to nor --at');
      return { operation: 'switchover', params: { ...(to ? { candidate: to } : {}), ...(at ? { at } : {}), ...(values.cancel ? { cancel: true } : {}) } };
    }
    case 'failover': {
      const to = str('to');
      if (!to) throw usage('--to MEMBER is required (a failover goes to a named candidate)');
      return { operation: 'failover', params: { candidate: to } };
    }
    case 'reinit':
      return { operation: 'reinit', params: { member: onePositional(true) as string } };
    case 'restart': {
      const member = onePositional(false);
      if (member && values.pending) throw usage('either a member or --pending, not both');
      if (!member && !values.pending) throw usage('name a member, or give --pending');
      return { operation: 'restart', params: member ? { member } : { pending: true } };
    }
    case 'reload': {
      const member = onePositional(false);
      return { operation: 'reload', params: member ? { member } : {} };
    }
    case 'pause':
    case 'resume':
    case 'drill':
      if (positionals.length) throw usage(`takes no arguments (got ${positionals.join(' ')})`);
      return { operation: name, params: {} } as OperationRequest;
  }
}

export type OpsCommandDeps = RunOperationDeps;

/** `pgcockpit <operation> …`: its arguments → a request, then the shared flow (run-operation.ts). */
export async function opsCommand(name: ClusterOperationName, argv: string[], globals: GlobalOptions, io: Io, deps: OpsCommandDeps = {}): Promise<number> {
  const spec = OPS_SPECS[name];
  const parsed = parseCommand(spec, argv);
  if (parsed.values.help) {
    io.out(helpText(spec));
    return 0;
  }
  return runOperationCommand(opsRequest(name, parsed), parsed, globals, io, deps);
}
