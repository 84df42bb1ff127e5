import path from 'node:path';
import readline from 'node:readline/promises';
import { openCluster } from '../model/open.js';
import { AuditLog, auditLogPath, clusterSecrets } from '../ops/audit.js';
import { createOpsContext } from '../ops/context.js';
import type { OperationRequest } from '../ops/operations.js';
import { definitionOf } from '../ops/operations.js';
import type { OperationRun } from '../ops/runner.js';
import { OperationRunner } from '../ops/runner.js';
import { loadPg } from '../services/postgres.js';
import type { OperationEvent, OperationPlan, Preconditions } from '../ops/types.js';
import type { Io, ParsedCommand } from './args.js';
import type { GlobalOptions } from './global-options.js';
import { GLOBAL_OPTION_HELP } from './global-options.js';
import { traceStartup } from '../util/startup-trace.js';

/**
 * The one flow of an operation from the command line, shared by the cluster operations (ops-commands.ts)
 * and backup / PITR (backup-commands.ts): open the cluster, check through the runner (read-only mode,
 * one operation at a time, audit log), the dry run on --dry-run, the confirmation in proportion to the
 * danger (y/N, or a name typed) refused instead of hanging when there is no terminal to ask on, the
 * steps streamed to stderr, the result on stdout (--json: one document), SIGINT or SIGTERM aborts.
 * Exit codes: 0 done, 1 refused (a precondition, read-only, not confirmed), 2 failed or aborted, 64 usage.
 */

export const OPS_EXIT = { done: 0, refused: 1, failed: 2, usage: 64 } as const;

/** The options every operation command takes. */
export const OPERATION_OPTIONS = {
  'dry-run': { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'boolean' },
} as const;

export const OPERATION_OPTION_HELP: Array<[string, string]> = [
  ['--dry-run', 'show the checks and the exact requests, change nothing'],
  ['-y, --yes', 'do not ask for confirmation (needed without a terminal)'],
  ['--json', 'the result as a JSON document (schema pgcockpit.operation/v1)'],
  ...GLOBAL_OPTION_HELP,
];

export interface RunOperationDeps {
  /** Ask a question on the terminal; the answer without its newline. */
  prompt?: (question: string) => Promise<string>;
}

export interface RunOperationOptions extends RunOperationDeps {
  /** Options of the live store (backup and PITR need no DCS watch; they read Barman themselves). */
  open?: { watchDcs?: boolean; barman?: boolean; leaderProbe?: boolean };
  /** Text lines printed on stdout after the "<operation> done" line (e.g. a side restore's URI). */
  doneLines?: (run: OperationRun) => string[];
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

export function formatDuration(ms: number | undefined): string {
  return ms === undefined ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** One stderr line per event, as it happens. */
export function formatEvent(event: OperationEvent, now: number): string | undefined {
  switch (event.type) {
    case 'step': {
      const mark = { started: '…', done: '✓', failed: '✗', skipped: '-' }[event.status];
      const when = event.status === 'started' ? event.startedAt : now;
      const timing = event.status === 'started' ? '' : ` (${formatDuration(event.durationMs)})`;
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

/** `pgcockpit <operation> …` once its arguments are a request: the whole flow, returning the exit code. */
export async function runOperationCommand(request: OperationRequest, parsed: ParsedCommand, globals: GlobalOptions, io: Io, options: RunOperationOptions = {}): Promise<number> {
  const json = parsed.values.json === true;
  const name = request.operation;
  const definition = definitionOf(request);
  // No leader probe (incident mode's 2-per-second REST and SQL pings): a one-shot command has no incident to
  // follow. An operation that declares what it reads of the store gets a store of those sources only.
  const reads = definition.reads;
  const opened = openCluster(globals, io, { leaderProbe: false, ...options.open, ...(reads ? { only: reads } : {}) });
  if (typeof opened === 'number') return OPS_EXIT.failed;
  const { store, cluster, config } = opened;
  let context: ReturnType<typeof createOpsContext> | undefined;
  let runner: OperationRunner | undefined;
  const onSignal = (signal: NodeJS.Signals) => runner?.abort(`interrupted (${signal})`);
  let stopping: Promise<void> | undefined;
  const stopStore = () => (stopping ??= store.stop().catch(() => undefined));
  try {
    store.start();
    // The store asks Patroni first and connects to the leader's PostgreSQL once Patroni names it: node-postgres
    // (loaded on first use) is loaded meanwhile, while the process waits for those answers, not after them.
    if (!reads || reads.leader) void loadPg().catch(() => undefined);
    traceStartup('store started');
    await (reads ? store.whenSourcesRead(reads) : store.whenFirstComplete());
    traceStartup('sources read');
    try {
      context = createOpsContext(cluster, store, { env: io.env });
    } catch (error) {
      io.err(`pgcockpit: cluster ${cluster.name}: ${(error as Error).message}`);
      return OPS_EXIT.failed;
    } finally {
      // A one-shot command reads the store's first snapshot only: the checks, the plan and the operation's
      // preflight read that snapshot, and the operation makes its own targeted reads (REST, etcd, SQL,
      // Barman) from then on. The store's polls would only compete for the CPU with the work (a backup's
      // copy, a restore's replay): they stop here.
      void stopStore();
    }
    const auditFile = auditLogPath(config, io.env);
    runner = new OperationRunner({ context, readOnly: globals.readOnly, audit: new AuditLog(auditFile, clusterSecrets(cluster, io.env)), lockDir: path.dirname(auditFile) });

    if (parsed.values['dry-run']) {
      const plan = runner.plan(request);
      if (json) io.out(JSON.stringify({ schema: 'pgcockpit.plan/v1', cluster: cluster.name, ...plan }, null, 2));
      else io.out(formatPlan(plan));
      return plan.checks.blockers.length ? OPS_EXIT.refused : OPS_EXIT.done;
    }

    const checks = runner.check(request);
    traceStartup('checked');
    if (checks.blockers.length === 0) {
      io.err(`${name}: ${runner.plan(request).summary}`);
      for (const line of formatChecks(checks)) io.err(line);
      if (definition.confirmation !== 'none' && parsed.values.yes !== true) {
        if (!io.isTTY) {
          const message = `${name} changes the cluster and needs confirmation: there is no terminal to ask on, so it is refused (pass --yes to confirm)`;
          if (json) io.out(JSON.stringify({ schema: 'pgcockpit.operation/v1', cluster: cluster.name, operation: name, status: 'refused', exitCode: OPS_EXIT.refused, reasons: [{ code: 'not-confirmed', message }] }, null, 2));
          else io.err(message);
          return OPS_EXIT.refused;
        }
        const prompt = options.prompt ?? terminalPrompt;
        let confirmed: boolean;
        if (definition.confirmation === 'type-name') {
          const expected = definition.confirmName?.(request.params, store.getSnapshot()) ?? cluster.name;
          confirmed = (await prompt(`This is destructive. Type ${expected} to confirm: `)).trim() === expected;
        } else {
          confirmed = /^y(es)?$/i.test((await prompt('Proceed? [y/N] ')).trim());
        }
        if (!confirmed) {
          io.err(`${name}: not confirmed; nothing was done`);
          return OPS_EXIT.refused;
        }
      }
    }
    // Ctrl-C, or a supervisor's SIGTERM: the operation stops at its next safe point and the audit says so.
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const run = await runner.run(request, {
      onEvent: (event) => {
        if (event.type === 'step') traceStartup(`step ${event.id} ${event.status}`);
        const line = formatEvent(event, Date.now());
        if (line) io.err(line);
      },
    });
    traceStartup('run ended');
    if (json) {
      io.out(JSON.stringify(runDocument(cluster.name, run), null, 2));
    } else if (run.status === 'done') {
      io.out(`${name} ${run.result?.outcome ?? 'done'} in ${formatDuration(run.durationMs)}: ${run.result?.summary ?? ''}`);
      for (const line of options.doneLines?.(run) ?? []) io.out(line);
    } else if (run.status === 'refused') {
      io.err(`${name} refused:`);
      for (const r of run.reasons ?? []) io.err(`  ✗ ${r.message}`);
    } else {
      io.err(`${name} ${run.status}: ${run.error ?? ''}`);
    }
    return exitCodeOf(run);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await context?.close().catch(() => undefined);
    await stopStore();
    traceStartup('closed');
  }
}
