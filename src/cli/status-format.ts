import { containerLabel, containerNeedsNote } from '../ui/container-label.js';
import type { Alert, ClusterSnapshot, MemberView, Severity } from '../model/snapshot.js';
import { formatBytes, formatSeconds } from '../util/units.js';

/**
 * `pgcockpit status --json`: a stable, documented projection of the snapshot (see README, "status --json").
 * Additive changes only within a schema version; a breaking change bumps `schema`.
 */
export const STATUS_SCHEMA = 'pgcockpit.status/v1';

export interface StatusMemberJson {
  name: string;
  role: string;
  state: string;
  host: string | null;
  port: number | null;
  timeline: number | null;
  lsn: string | null;
  receiveLagBytes: number | null;
  replayLagBytes: number | null;
  receiveLagSeconds: number | null;
  replayLagSeconds: number | null;
  lagUnknown: boolean;
  replayPaused: boolean | null;
  pendingRestart: boolean;
  pendingRestartReason: Record<string, { oldValue: string; newValue: string }> | null;
  tags: Record<string, unknown>;
  restReachable: boolean;
  sqlReachable: boolean;
  patroniVersion: string | null;
  /** The member's container, when the config names one (Docker Engine API). */
  container: { name: string; status: string | null; running: boolean; exitCode: number | null; health: string | null; error: string | null } | null;
}

export interface StatusJson {
  schema: typeof STATUS_SCHEMA;
  cluster: string;
  scope: string;
  asOf: string;
  leader: string | null;
  paused: boolean;
  scheduledSwitchover: { at: string; from?: string; to?: string } | null;
  maximumLagOnFailover: number | null;
  members: StatusMemberJson[];
  history: Array<{ timeline: number; lsn: string; reason: string; at: string | null; newLeader: string | null }>;
  etcd: { quorum: string; members: Array<{ name: string; endpoint: string; healthy: boolean; error: string | null }> } | null;
  haproxy: { write: string[]; read: string[] } | null;
  archiving: {
    member: string | null;
    lastArchivedWal: string | null;
    lastArchivedAt: string | null;
    failedCount: number | null;
    lastFailedWal: string | null;
    lastFailedAt: string | null;
    failing: boolean;
    readyBacklog: number | null;
  };
  backups: {
    count: number;
    done: number;
    newestId: string | null;
    newestAgeSeconds: number | null;
    running: string | null;
    recoveryWindow: { from: string; to: string } | null;
  };
  alerts: Array<{ id: string; severity: Severity; message: string; member: string | null; since: string }>;
  sources: Record<string, { asOf: string | null; error: string | null; failingSince: string | null }>;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function memberJson(m: MemberView): StatusMemberJson {
  return {
    name: m.name,
    role: m.role,
    state: m.state,
    host: m.host ?? null,
    port: m.port ?? null,
    timeline: m.timeline ?? null,
    lsn: m.lsn ?? null,
    receiveLagBytes: m.receiveLagBytes ?? null,
    replayLagBytes: m.replayLagBytes ?? null,
    receiveLagSeconds: m.receiveLagSeconds ?? null,
    replayLagSeconds: m.replayLagSeconds ?? null,
    lagUnknown: m.lagUnknown,
    replayPaused: m.replayPaused ?? null,
    pendingRestart: m.pendingRestart,
    pendingRestartReason: m.pendingRestartReason ?? null,
    tags: m.tags,
    restReachable: m.restReachable,
    sqlReachable: m.sqlReachable,
    patroniVersion: m.patroniVersion ?? null,
    container: m.container
      ? { name: m.container.name, status: m.container.status ?? null, running: m.container.running, exitCode: m.container.exitCode ?? null, health: m.container.health ?? null, error: m.container.error ?? null }
      : null,
  };
}

export function statusJson(s: ClusterSnapshot): StatusJson {
  const archiver = s.archiving.status;
  const done = s.backups.backups.filter((b) => b.status === 'DONE');
  return {
    schema: STATUS_SCHEMA,
    cluster: s.cluster,
    scope: s.scope,
    asOf: new Date(s.updatedAt).toISOString(),
    leader: s.leader ?? null,
    paused: s.paused,
    scheduledSwitchover: s.scheduledSwitchover ?? null,
    maximumLagOnFailover: s.dcs.maximumLagOnFailover ?? null,
    members: s.members.map(memberJson),
    history: s.history.map((h) => ({ timeline: h.timeline, lsn: h.lsnText, reason: h.reason, at: h.at ?? null, newLeader: h.newLeader ?? null })),
    etcd: s.etcd
      ? { quorum: s.etcd.quorum, members: s.etcd.members.map((m) => ({ name: m.name, endpoint: m.endpoint, healthy: m.healthy, error: m.error ?? null })) }
      : null,
    haproxy: s.haproxy ? { write: s.haproxy.writeTargets, read: s.haproxy.readTargets } : null,
    archiving: {
      member: s.archiving.member ?? null,
      lastArchivedWal: archiver?.lastArchivedWal ?? null,
      lastArchivedAt: archiver?.lastArchivedAt ?? null,
      failedCount: archiver?.failedCount ?? null,
      lastFailedWal: archiver?.lastFailedWal ?? null,
      lastFailedAt: archiver?.lastFailedAt ?? null,
      failing: archiver?.failing ?? false,
      readyBacklog: archiver?.readyBacklog ?? null,
    },
    backups: {
      count: s.backups.backups.length,
      done: done.length,
      newestId: done[0]?.id ?? null,
      newestAgeSeconds: s.backups.newestDoneAgeSeconds ?? null,
      running: s.backups.running?.id ?? null,
      recoveryWindow: s.backups.recoveryWindow ? { from: s.backups.recoveryWindow.from, to: s.backups.recoveryWindow.to } : null,
    },
    alerts: s.alerts.map((a) => ({ id: a.id, severity: a.severity, message: a.message, member: a.member ?? null, since: new Date(a.since).toISOString() })),
    sources: Object.fromEntries(
      Object.entries(s.sources).map(([key, f]) => [key, { asOf: iso(f.asOf), error: f.error ?? null, failingSince: iso(f.failingSince) }]),
    ),
  };
}

function lagText(m: MemberView, leader: string | undefined): string {
  if (m.name === leader) return '';
  if (m.lagUnknown) return 'unknown';
  const bytes = m.replayLagBytes === undefined ? '?' : formatBytes(m.replayLagBytes);
  const seconds = m.replayLagSeconds === undefined ? '' : ` / ${formatSeconds(m.replayLagSeconds)}`;
  return `${bytes}${seconds}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

const SEVERITY_MARK: Record<Severity, string> = { critical: '✖ CRIT', warning: '▲ WARN', info: '• INFO' };

/** `pgcockpit status`: what `patronictl list` shows, plus archiving, backups, etcd quorum, routing and alerts. */
export function formatStatus(s: ClusterSnapshot, now = Date.now()): string {
  const leaderMember = s.members.find((m) => m.name === s.leader);
  const etcd = s.etcd ? `etcd ${s.etcd.members.filter((m) => m.healthy).length}/${s.etcd.members.length} ${s.etcd.quorum}` : 'etcd ?';
  const routing = s.haproxy ? `write → ${s.haproxy.writeTargets.join(', ') || 'none'} · read → ${s.haproxy.readTargets.join(', ') || 'none'}` : '';
  const lines = [
    `Cluster ${s.cluster} (${s.scope}) · leader ${s.leader ?? 'NONE'}${leaderMember?.timeline ? ` · TL ${leaderMember.timeline}` : ''} · ${etcd}${routing ? ` · ${routing}` : ''}${s.paused ? ' · PAUSED (maintenance mode)' : ''}`,
  ];
  if (s.scheduledSwitchover) {
    lines.push(`Scheduled switchover at ${s.scheduledSwitchover.at}${s.scheduledSwitchover.to ? ` to ${s.scheduledSwitchover.to}` : ''}`);
  }
  const rows = [['MEMBER', 'HOST', 'ROLE', 'STATE', 'TL', 'LSN', 'LAG (replay)', 'RECEIVE LAG', 'REST', 'SQL', 'FLAGS']];
  for (const m of s.members) {
    const flags = [
      m.pendingRestart ? 'pending restart' : '',
      m.nofailover ? 'nofailover' : '',
      m.noloadbalance ? 'noloadbalance' : '',
      m.replayPaused ? 'replay paused' : '',
      containerNeedsNote(m.container) ? `container ${containerLabel(m.container)}` : '',
    ].filter(Boolean);
    rows.push([
      m.name,
      m.host && m.port ? `${m.host}:${m.port}` : '?',
      m.role === 'leader' ? 'Leader' : m.role === 'standby_leader' ? 'Standby Leader' : m.role === 'sync_standby' ? 'Sync Standby' : 'Replica',
      m.state,
      m.timeline === undefined ? '?' : String(m.timeline),
      m.lsn ?? '?',
      lagText(m, s.leader),
      m.name === s.leader || m.receiveLagBytes === undefined ? '' : formatBytes(m.receiveLagBytes),
      m.restReachable ? 'ok' : 'DOWN',
      m.sqlReachable ? 'ok' : 'DOWN',
      flags.join(', '),
    ]);
  }
  lines.push(...table(rows));
  const a = s.archiving.status;
  if (a) {
    const age = a.lastArchivedAt ? ` (${formatSeconds((now - Date.parse(a.lastArchivedAt)) / 1000)} ago)` : '';
    lines.push(
      `Archiving on ${s.archiving.member ?? '?'}: ${a.failing ? 'FAILING' : 'ok'} · last ${a.lastArchivedWal ?? 'none'}${age} · ${a.failedCount} failures${a.lastFailedWal ? ` (last ${a.lastFailedWal} at ${a.lastFailedAt ?? '?'})` : ''} · backlog ${a.readyBacklog ?? '?'}`,
    );
  }
  const b = s.backups;
  if (s.sources.barman || b.backups.length) {
    const done = b.backups.filter((x) => x.status === 'DONE').length;
    const newest = b.newestDoneAgeSeconds === undefined ? 'none' : `${formatSeconds(b.newestDoneAgeSeconds)} ago`;
    const window = b.recoveryWindow ? ` · recovery window ${b.recoveryWindow.from} → ${b.recoveryWindow.to}` : '';
    lines.push(`Backups: ${done} done, newest ${newest}${b.running ? ` · RUNNING ${b.running.id}` : ''}${window}`);
  }
  const stale = Object.values(s.sources).filter((f) => f.error !== undefined);
  for (const f of stale) {
    lines.push(`STALE ${f.key}${f.failingSince !== undefined ? ` for ${formatSeconds((now - f.failingSince) / 1000)}` : ''}: ${f.error}`);
  }
  if (s.alerts.length) {
    lines.push(`Alerts (${s.alerts.length}):`);
    for (const alert of s.alerts) lines.push(`  ${SEVERITY_MARK[alert.severity]}  ${alert.message}`);
  } else {
    lines.push('No alerts.');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------- check

export interface CheckLine {
  name: string;
  status: 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';
  message: string;
}

/** Which alerts belong to which check; a check without alerts is OK with a positive sentence. */
const CHECKS: Array<{ name: string; matches: (a: Alert) => boolean; ok: (s: ClusterSnapshot) => string }> = [
  { name: 'leader', matches: (a) => a.id === 'no-leader' || a.id === 'split-brain', ok: (s) => `leader ${s.leader}, one primary` },
  {
    name: 'replication',
    matches: (a) => /^(not-streaming|unreachable|replay-paused):/.test(a.id),
    ok: (s) => `${s.members.filter((m) => m.state === 'streaming').length} replicas streaming`,
  },
  { name: 'lag', matches: (a) => a.id.startsWith('lag:'), ok: () => 'every replica within its lag thresholds' },
  { name: 'patroni', matches: (a) => /^(rest-unreachable|sql-unreachable):/.test(a.id) || a.id === 'stale:patroni' || a.id === 'paused', ok: () => 'every member answers REST and SQL; automatic failover on' },
  {
    name: 'etcd',
    matches: (a) => a.id === 'etcd-quorum' || a.id === 'stale:etcd' || a.id === 'stale:dcs',
    ok: (s) => `quorum healthy (${s.etcd?.members.filter((m) => m.healthy).length ?? '?'}/${s.etcd?.members.length ?? '?'})`,
  },
  { name: 'haproxy', matches: (a) => a.id === 'haproxy-write' || a.id === 'stale:haproxy', ok: (s) => (s.haproxy ? `write port → ${s.leader}` : 'not configured') },
  { name: 'archiving', matches: (a) => a.id === 'archiving-failing' || a.id === 'archive-backlog', ok: (s) => `last archived ${s.archiving.status?.lastArchivedWal ?? '?'}` },
  {
    name: 'backups',
    matches: (a) => a.id === 'no-backup' || a.id === 'backup-old' || a.id === 'stale:barman',
    ok: (s) => (s.sources.barman ? `newest backup ${formatSeconds(s.backups.newestDoneAgeSeconds ?? 0)} old` : 'not configured'),
  },
];

export function checkLines(s: ClusterSnapshot): CheckLine[] {
  const lines: CheckLine[] = [];
  if (s.members.length === 0) {
    const why = Object.values(s.sources).map((f) => f.error).filter(Boolean).join('; ');
    return [{ name: 'cluster', status: 'UNKNOWN', message: `no member could be read${why ? `: ${why}` : ''}` }];
  }
  for (const check of CHECKS) {
    const alerts = s.alerts.filter((a) => check.matches(a) && a.severity !== 'info');
    if (alerts.length === 0) lines.push({ name: check.name, status: 'OK', message: check.ok(s) });
    else {
      const worst = alerts.some((a) => a.severity === 'critical') ? 'CRITICAL' : 'WARNING';
      lines.push({ name: check.name, status: worst, message: alerts.map((a) => a.message).join(' ') });
    }
  }
  const claimed = new Set(s.alerts.filter((a) => CHECKS.some((c) => c.matches(a))).map((a) => a.id));
  for (const a of s.alerts.filter((x) => !claimed.has(x.id) && x.severity !== 'info')) {
    lines.push({ name: a.id.split(':')[0] ?? a.id, status: a.severity === 'critical' ? 'CRITICAL' : 'WARNING', message: a.message });
  }
  return lines;
}

export const CHECK_EXIT: Record<CheckLine['status'], number> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

export function checkExitCode(lines: CheckLine[]): number {
  if (lines.some((l) => l.status === 'CRITICAL')) return 2;
  if (lines.some((l) => l.status === 'UNKNOWN')) return 3;
  if (lines.some((l) => l.status === 'WARNING')) return 1;
  return 0;
}
