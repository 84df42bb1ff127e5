import { containerLabel, containerNeedsNote } from './container-label.js';
import type { Alert, ClusterSnapshot, MemberView, Severity, SourceFreshness } from '../model/snapshot.js';
import { formatBytes } from './format.js';

/**
 * How a member reads at a glance: a level, a symbol and words. Pure; the table, the wallboard and the
 * detail all use it, so "lagging" means the same thing everywhere. Never color alone: every level has a
 * symbol and every problem a word.
 */

export type HealthLevel = 'leader' | 'ok' | 'info' | 'warning' | 'critical';

export interface MemberHealth {
  level: HealthLevel;
  symbol: string;
  /** Short words in priority order: "lagging > 1.0 MB", "not streaming", "REST down", "pending restart", "nofailover". */
  notes: string[];
  lagging: boolean;
  broken: boolean;
}

export const HEALTH_SYMBOL: Record<HealthLevel, string> = {
  leader: '★',
  ok: '✓',
  info: '·',
  warning: '▲',
  critical: '✗',
};

/** The lag threshold the cockpit shows and judges against: the one the model judged its alerts by
 * (`snapshot.thresholds.lagBytes`: the configured threshold, else the cluster's maximum_lag_on_failover,
 * else Patroni's default 1 MiB), so the table, the Lag pane and the alerts never disagree. */
export function lagThresholdBytes(snapshot: Pick<ClusterSnapshot, 'thresholds'>): number {
  return snapshot.thresholds.lagBytes;
}

/** Where the threshold comes from, in the operator's words (shown beside it). */
export function lagThresholdOrigin(snapshot: Pick<ClusterSnapshot, 'thresholds'>): string {
  switch (snapshot.thresholds.lagBytesOrigin) {
    case 'config':
      return 'configured';
    case 'maximum_lag_on_failover':
      return 'maximum_lag_on_failover';
    case 'default':
      return 'default';
  }
}

const BROKEN_STATES = new Set(['stopped', 'crashed', 'unreachable', 'unknown', 'stopping']);
const TRANSITIONAL_STATES = new Set(['starting', 'restarting', 'creating replica']);

export function isLeaderMember(member: MemberView, leader: string | undefined): boolean {
  return member.role === 'leader' || member.role === 'standby_leader' || member.name === leader;
}

export function memberHealth(
  member: MemberView,
  options: { leader?: string; thresholdBytes: number; alerts?: readonly Alert[] },
): MemberHealth {
  const notes: string[] = [];
  const leader = isLeaderMember(member, options.leader);
  let level: HealthLevel = leader ? 'leader' : 'ok';
  const raise = (to: HealthLevel) => {
    const order: HealthLevel[] = ['ok', 'leader', 'info', 'warning', 'critical'];
    if (order.indexOf(to) > order.indexOf(level)) level = to;
  };

  // Not read yet (start-up) is not down: it says so, without an alarm.
  const restDown = !member.restReachable && member.restPending !== true;
  const sqlDown = !member.sqlReachable && member.sqlPending !== true;
  const broken = BROKEN_STATES.has(member.state) || restDown;
  if (BROKEN_STATES.has(member.state)) {
    notes.push(member.state === 'unreachable' ? 'unreachable' : `${member.state}`);
    raise('critical');
  }
  if (containerNeedsNote(member.container)) {
    notes.push(`container ${containerLabel(member.container)}`);
    raise(member.container.running ? 'warning' : 'critical');
  }
  if (restDown && member.state !== 'unreachable') {
    notes.push('REST down');
    raise('critical');
  }
  if (sqlDown && !BROKEN_STATES.has(member.state)) {
    notes.push('SQL down');
    raise('warning');
  }
  if (member.restPending === true || member.sqlPending === true) notes.push('reading…');
  if (leader && member.sqlSaysPrimary === false) {
    notes.push('in recovery');
    raise('critical');
  }
  if (!leader && member.state === 'archive recovery') {
    notes.push('not streaming');
    raise('warning');
  }
  if (TRANSITIONAL_STATES.has(member.state)) {
    notes.push(member.state);
    raise('warning');
  }

  const lagging = !leader && member.replayLagBytes !== undefined && member.replayLagBytes > options.thresholdBytes;
  if (lagging) {
    notes.push(`lagging > ${formatBytes(options.thresholdBytes)}`);
    raise('warning');
  } else if (!leader && member.lagUnknown && !broken) {
    notes.push('lag unknown');
    raise('warning');
  }
  if (member.replayPaused) {
    notes.push('replay paused');
    raise('warning');
  }

  for (const alert of options.alerts ?? []) {
    if (alert.member !== member.name) continue;
    raise(severityLevel(alert.severity));
  }

  if (member.pendingRestart) {
    notes.push('pending restart');
    raise('info');
  }
  if (member.nofailover) notes.push('nofailover');
  if (member.noloadbalance) notes.push('noloadbalance');
  for (const [tag, value] of Object.entries(member.tags)) {
    if (tag === 'nofailover' || tag === 'noloadbalance') continue;
    if (value === false || value === null || value === undefined) continue;
    notes.push(value === true ? tag : `${tag}=${String(value)}`);
  }

  return { level, symbol: HEALTH_SYMBOL[level], notes, lagging, broken };
}

function severityLevel(severity: Severity): HealthLevel {
  return severity === 'critical' ? 'critical' : severity === 'warning' ? 'warning' : 'info';
}

export interface StaleSource {
  key: string;
  source: string;
  /** Seconds since the last good read (or since failing, if it never succeeded). */
  ageSeconds?: number;
  error?: string;
}

/** Sources that are failing now, oldest data first: what the header marks STALE. */
export function staleSources(sources: Record<string, SourceFreshness>, now: number): StaleSource[] {
  const stale: StaleSource[] = [];
  for (const [key, freshness] of Object.entries(sources)) {
    if (freshness.failingSince === undefined && freshness.error === undefined) continue;
    const since = freshness.asOf ?? freshness.failingSince;
    stale.push({
      key,
      source: freshness.source,
      ...(since === undefined ? {} : { ageSeconds: Math.max(0, (now - since) / 1000) }),
      ...(freshness.error === undefined ? {} : { error: freshness.error }),
    });
  }
  return stale.sort((a, b) => (b.ageSeconds ?? Number.MAX_VALUE) - (a.ageSeconds ?? Number.MAX_VALUE));
}

export function alertCounts(alerts: readonly Alert[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { critical: 0, warning: 0, info: 0 };
  for (const alert of alerts) counts[alert.severity] += 1;
  return counts;
}
