import fs from 'node:fs';
import type { CommandSpec, Io } from './args.js';
import { UsageError, helpText, parseCommand } from './args.js';
import type { GlobalOptions } from './global-options.js';
import { GLOBAL_OPTION_HELP } from './global-options.js';
import { ConfigError, loadConfig, resolveConfigPath } from '../config/load.js';
import { EventLogFile } from '../model/event-log.js';
import { selectCluster } from '../model/open.js';
import type { ClusterEvent } from '../model/snapshot.js';
import { auditLogPath } from '../ops/audit.js';

export const TIMELINE_SPEC: CommandSpec = {
  name: 'timeline',
  summary: 'The incident timeline: what the cockpit saw (leader changes, timelines, states, alerts) and the operations run, in order.',
  usage: 'pgcockpit timeline [--since T] [--json|--markdown]',
  options: { since: { type: 'string' }, json: { type: 'boolean' }, markdown: { type: 'boolean' } },
  optionHelp: [
    ['--since T', 'from this time: ISO 8601 (2026-11-21T10:00Z) or an age (90s, 30m, 2h, 1d); default 24h'],
    ['--json', 'one JSON document'],
    ['--markdown', 'a Markdown table, ready to paste into a postmortem'],
    ...GLOBAL_OPTION_HELP,
  ],
};

/** `--since`: an ISO time or an age (90s, 30m, 2h, 1d). */
export function parseSince(text: string, now = Date.now()): number {
  const age = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (age?.[1] && age[2]) return now - Number(age[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[age[2] as 's' | 'm' | 'h' | 'd'];
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/\d{4}-\d\d-\d\d/.test(text)) {
    throw new UsageError(`timeline: --since must be an ISO 8601 time (2026-11-21T10:00Z) or an age (90s, 30m, 2h, 1d), got "${text}"`);
  }
  return at;
}

export interface TimelineEntry {
  at: number;
  source: 'model' | 'audit';
  kind: string;
  severity?: string;
  member?: string;
  message: string;
}

interface AuditLine {
  time?: string;
  cluster?: string;
  operation?: string;
  event?: string;
  phase?: string;
  type?: string;
  result?: string | { status?: string; message?: string };
  user?: string | { user?: string };
  params?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
  step?: { title?: string; status?: string; durationMs?: number };
  message?: string;
}

/** Operation lines of the audit log for a cluster, as timeline entries (tolerant of unknown fields). */
export function auditEntries(text: string, cluster: string, sinceMs: number): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let a: AuditLine;
    try {
      a = JSON.parse(line) as AuditLine;
    } catch {
      continue;
    }
    const at = Date.parse(a.time ?? '');
    if (Number.isNaN(at) || at < sinceMs || (a.cluster !== undefined && a.cluster !== cluster)) continue;
    const kind = a.event ?? a.phase ?? a.type ?? 'operation';
    const who = typeof a.user === 'string' ? a.user : a.user?.user;
    const params = a.params ?? a.parameters;
    const result = typeof a.result === 'string' ? a.result : a.result?.status;
    const parts = [
      a.operation ?? 'operation',
      kind,
      a.step?.title ? `step "${a.step.title}" ${a.step.status ?? ''}`.trim() : '',
      params && Object.keys(params).length ? JSON.stringify(params) : '',
      result ? `→ ${result}` : '',
      typeof a.result === 'object' && a.result?.message ? `(${a.result.message})` : a.message ? `(${a.message})` : '',
      who ? `by ${who}` : '',
    ].filter(Boolean);
    entries.push({ at, source: 'audit', kind: `operation:${kind}`, message: parts.join(' ') });
  }
  return entries;
}

export function modelEntries(events: ClusterEvent[]): TimelineEntry[] {
  // Operations come from the audit log (it has who and the parameters); the model's copies are skipped.
  return events
    .filter((e) => e.kind !== 'operation')
    .map((e) => ({ at: e.at, source: 'model' as const, kind: e.kind, ...(e.severity ? { severity: e.severity } : {}), ...(e.member ? { member: e.member } : {}), message: e.message }));
}

export function formatTimelineMarkdown(cluster: string, entries: TimelineEntry[], sinceMs: number): string {
  const lines = [
    `## Timeline of ${cluster} since ${new Date(sinceMs).toISOString()}`,
    '',
    '| time (UTC) | source | what |',
    '|---|---|---|',
    ...entries.map((e) => `| ${new Date(e.at).toISOString().replace('T', ' ').replace('Z', '')} | ${e.source === 'audit' ? 'operation' : e.kind} | ${e.severity === 'critical' ? '**' + e.message.replace(/\|/g, '\\|') + '**' : e.message.replace(/\|/g, '\\|')} |`),
  ];
  return lines.join('\n');
}

export function timelineCommand(argv: string[], globals: GlobalOptions, io: Io): number {
  const { values } = parseCommand(TIMELINE_SPEC, argv);
  if (values.help) {
    io.out(helpText(TIMELINE_SPEC));
    return 0;
  }
  const sinceMs = parseSince(typeof values.since === 'string' ? values.since : '24h');
  const { path: configPath } = resolveConfigPath(globals.config, io.env);
  let entries: TimelineEntry[];
  let clusterName: string;
  try {
    const config = loadConfig(configPath);
    const cluster = selectCluster(config, globals.cluster, configPath);
    clusterName = cluster.name;
    const log = new EventLogFile(EventLogFile.pathFor(cluster.name, config.eventLogDir, io.env));
    entries = modelEntries(log.read(sinceMs));
    const auditFile = auditLogPath(config, io.env);
    if (fs.existsSync(auditFile)) entries.push(...auditEntries(fs.readFileSync(auditFile, 'utf8'), cluster.name, sinceMs));
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`pgcockpit: config ${error.message}`);
      return 2;
    }
    throw error;
  }
  entries.sort((a, b) => a.at - b.at);
  if (values.json) io.out(JSON.stringify({ cluster: clusterName, since: new Date(sinceMs).toISOString(), entries }, null, 2));
  else if (values.markdown) io.out(formatTimelineMarkdown(clusterName, entries, sinceMs));
  else {
    if (entries.length === 0) io.out(`no events for ${clusterName} since ${new Date(sinceMs).toISOString()}`);
    for (const e of entries) io.out(`${new Date(e.at).toISOString()}  ${(e.source === 'audit' ? 'operation' : e.kind).padEnd(16)} ${e.message}`);
  }
  return 0;
}
