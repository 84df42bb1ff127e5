import path from 'node:path';
import readline from 'node:readline/promises';
import { openCluster } from '../model/open.js';
import { AuditLog, auditLogPath, clusterSecrets } from '../ops/audit.js';
import { createOpsContext } from '../ops/context.js';
import type { OperationRequest } from '../ops/operations.js';
import { definitionOf } from '../ops/operations.js';
import type { OperationRun } from '../ops/runner.js';
import { OperationRunner } from '../ops/runner.js';
import type { OperationEvent, OperationName, OperationPlan, Preconditions } from '../ops/types.js';
import type { CommandSpec, Io, ParsedCommand } from './args.js';
import { UsageError, helpText, parseCommand } from './args.js';
import type { GlobalOptions } from './global-options.js';
import { GLOBAL_OPTION_HELP } from './global-options.js';

/**
 * The operation commands: switchover, failover, reinit, restart, reload, pause, resume, drill. Each checks
 * its preconditions through the runner (which enforces read-only mode and one operation at a time),
 * shows a dry run on --dry-run, asks for confirmation in proportion to the danger (y/N, or the member
 * name typed) and refuses instead of hanging when there is no terminal to ask on, streams its steps to
 * stderr and prints its result to stdout (--json: one document).
 * Exit codes: 0 done, 1 refused (a precondition, read-only, not confirmed), 2 failed or aborted, 64 usage.
 */

export const OPS_EXIT = { done: 0, refused: 1, failed: 2, usage: 64 } as const;

const COMMON_OPTIONS = {
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'boolean' },
} as const;

const COMMON_HELP: Array<[string, string]> = [
  ['--dry-run', 'show the checks and the exact requests, change nothing'],
  ['-y, --yes', 'do not ask for confirmation (needed without a terminal)'],
  ['--json', 'the result as a JSON document (schema pgcockpit.operation/v1)'],
  ...GLOBAL_OPTION_HELP,
];

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
    summary: "Failover drill on the native lab: crash the leader, measure the time to a new leader and to writes, bring it back as a replica.",
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

export interface OpsCommandDeps {
  /** Ask a question on the terminal; the answer without its newline. */
  prompt?: (question: string) => Promise<string>;
}

async function terminalPrompt(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

function clock(at: number): string {
  const d = new Date(at);
  return `${[d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** One stderr line per event, as it happens. */
export function formatEvent(event: OperationEvent, now: number): string | undefined {
  switch (event.type) {
    case 'step': {
      const mark = { started: '…', done: '✓', failed: '✗', skipped: '-' }[event.status];
      const when = event.status === 'started' ? event.startedAt : now;
      const timing = event.status === 'started' ? '' : ` (${seconds(event.durationMs)})`;
      return `${clock(when)} ${mark} ${event.title}${timing}${event.detail && event.status !== 'started' ? `: ${event.detail}` : ''}`;
    }
    case 'progress':
      return event.message ? `${clock(now)}   ${event.message}${event.fraction !== undefined ? ` (${Math.round(event.fraction * 100)}%)` : ''}` : undefined;
    case 'log':
      return `${clock(now)}   ${event.message}`;
    case 'warning':
      return `${clock(now)} ! ${event.message}`;
  }
}

export function formatChecks(checks: Preconditions): string[] {
  return [...checks.blockers.map((b) => `  ✗ ${b.message}`), ...checks.warnings.map((w) => `  ! ${w.message}`)];
}

export function formatPlan(plan: OperationPlan): string {
  const lines = [`Dry run: ${plan.summary}`, ''];
  lines.push(plan.checks.blockers.length ? 'Refused:' : 'Checks: all preconditions hold');
  lines.push(...formatChecks(plan.checks));
  lines.push('', 'Requests it would make:');
  for (const r of plan.requests) lines.push(`  ${r.method} ${r.url}${r.body !== undefined ? ` ${JSON.stringify(r.body)}` : ''}   (${r.purpose})`);
  lines.push('', 'Verification:');
  for (const v of plan.verification) lines.push(`  - ${v}`);
  return lines.join('\n');
}

export function exitCodeOf(run: OperationRun): number {
  return run.status === 'done' ? OPS_EXIT.done : run.status === 'refused' ? OPS_EXIT.refused : OPS_EXIT.failed;
}

export function runDocument(cluster: string, run: OperationRun): Record<string, unknown> {
  return {
    schema: 'pgcockpit.operation/v1',
    cluster,
    operation: run.operation,
    params: run.params,
    status: run.status,
    exitCode: exitCodeOf(run),
    startedAt: new Date(run.startedAt).toISOString(),
    durationMs: run.durationMs,
    ...(run.reasons ? { reasons: run.reasons } : {}),
    warnings: run.warnings,
    steps: run.steps.map((s) => ({ id: s.id, title: s.title, status: s.status, startedAt: new Date(s.startedAt).toISOString(), durationMs: s.durationMs, detail: s.detail })),
    ...(run.result ? { result: run.result } : {}),
    ...(run.error ? { error: run.error, requestSent: run.requestSent } : {}),
  };
}

/** `pgcockpit <operation> …`: the whole flow of one operation from the command line. */
export async function opsCommand(name: ClusterOperationName, argv: string[], globals: GlobalOptions, io: Io, deps: OpsCommandDeps = {}): Promise<number> {
  const spec = OPS_SPECS[name];
  const parsed = parseCommand(spec, argv);
  if (parsed.values.help) {
    io.out(helpText(spec));
    return 0;
  }
  const request = opsRequest(name, parsed);
  const json = parsed.values.json === true;
  const opened = await openCluster(globals, io);
  if (typeof opened === 'number') return OPS_EXIT.failed;
  const { store, cluster, config } = opened;
  let context: ReturnType<typeof createOpsContext> | undefined;
  const onSignal = () => runner?.abort('interrupted (SIGINT)');
  let runner: OperationRunner | undefined;
  try {
    store.start();
    await store.whenFirstComplete();
    try {
      context = createOpsContext(cluster, store, { env: io.env });
    } catch (error) {
      io.err(`pgcockpit: cluster ${cluster.name}: ${(error as Error).message}`);
      return OPS_EXIT.failed;
    }
    const auditFile = auditLogPath(config, io.env);
    runner = new OperationRunner({
      context,
      readOnly: globals.readOnly,
      audit: new AuditLog(auditFile, clusterSecrets(cluster, io.env)),
      lockDir: path.dirname(auditFile),
    });

    if (parsed.values['dry-run']) {
      const plan = runner.plan(request);
      if (json) io.out(JSON.stringify({ schema: 'pgcockpit.plan/v1', cluster: cluster.name, ...plan }, null, 2));
      else io.out(formatPlan(plan));
      return plan.checks.blockers.length ? OPS_EXIT.refused : OPS_EXIT.done;
    }

    const definition = definitionOf(request);
    const checks = runner.check(request);
    if (checks.blockers.length === 0) {
      const plan = runner.plan(request);
      io.err(`${name}: ${plan.summary}`);
      for (const line of formatChecks(checks)) io.err(line);
      if (definition.confirmation !== 'none' && parsed.values.yes !== true) {
        if (!io.isTTY) {
          const message = `${name} changes the cluster and needs confirmation: there is no terminal to ask on, so it is refused (pass --yes to confirm)`;
          if (json) io.out(JSON.stringify({ schema: 'pgcockpit.operation/v1', cluster: cluster.name, operation: name, status: 'refused', exitCode: OPS_EXIT.refused, reasons: [{ code: 'not-confirmed', message }] }, null, 2));
          else io.err(message);
          return OPS_EXIT.refused;
        }
        const prompt = deps.prompt ?? terminalPrompt;
        const confirmed =
          definition.confirmation === 'type-name'
            ? await (async () => {
                const expected = definition.confirmName?.(request.params, store.getSnapshot()) ?? cluster.name;
                return (await prompt(`Type ${expected} to confirm: `)).trim() === expected;
              })()
            : /^y(es)?$/i.test((await prompt(`Proceed? [y/N] `)).trim());
        if (!confirmed) {
          io.err(`${name}: not confirmed; nothing was done`);
          return OPS_EXIT.refused;
        }
      }
    }
    process.once('SIGINT', onSignal);
    const run = await runner.run(request, {
      onEvent: (event) => {
        const line = formatEvent(event, Date.now());
        if (line) io.err(line);
      },
    });
    if (json) {
      io.out(JSON.stringify(runDocument(cluster.name, run), null, 2));
    } else if (run.status === 'done') {
      io.out(`${name} ${run.result?.outcome ?? 'done'} in ${seconds(run.durationMs)}: ${run.result?.summary ?? ''}`);
    } else if (run.status === 'refused') {
      io.err(`${name} refused:`);
      for (const r of run.reasons ?? []) io.err(`  ✗ ${r.message}`);
    } else {
      io.err(`${name} ${run.status}: ${run.error ?? ''}`);
    }
    return exitCodeOf(run);
  } finally {
    process.removeListener('SIGINT', onSignal);
    await context?.close().catch(() => undefined);
    await store.stop();
  }
}
