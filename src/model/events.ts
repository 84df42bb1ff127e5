import type { ClusterEvent, ClusterSnapshot } from './snapshot.js';

/** What changed between two snapshots, as events an operator reads in the timeline. Pure. */
export function diffEvents(previous: ClusterSnapshot | undefined, next: ClusterSnapshot): ClusterEvent[] {
  const at = next.updatedAt;
  const events: ClusterEvent[] = [];
  if (!previous || previous.members.length === 0) {
    if (next.members.length) {
      events.push({
        at,
        kind: 'member-state',
        message: `watching ${next.cluster} (${next.scope}): leader ${next.leader ?? 'none'}, ${next.members.length} members`,
      });
    }
    for (const a of next.alerts) events.push({ at, kind: 'alert-raised', severity: a.severity, message: a.message, ...(a.member ? { member: a.member } : {}) });
    return events;
  }
  if (previous.leader !== next.leader) {
    events.push({
      at,
      kind: 'leader-changed',
      severity: next.leader ? 'warning' : 'critical',
      message: next.leader ? `leader changed: ${previous.leader ?? 'none'} → ${next.leader}` : `leader lost (was ${previous.leader})`,
      ...(next.leader ? { member: next.leader } : {}),
    });
  }
  const leaderTimeline = (s: ClusterSnapshot) => s.members.find((m) => m.name === s.leader)?.timeline;
  const maxTimeline = (s: ClusterSnapshot) => Math.max(0, ...s.history.map((h) => h.timeline + 1), leaderTimeline(s) ?? 0);
  const before = maxTimeline(previous);
  const after = maxTimeline(next);
  if (after > before && before > 0) {
    const entry = next.history.find((h) => h.timeline + 1 === after);
    events.push({
      at,
      kind: 'timeline-changed',
      severity: 'info',
      message: `timeline ${before} → ${after}${entry ? ` at ${entry.lsnText} (${entry.reason})` : ''}`,
    });
  }
  const old = new Map(previous.members.map((m) => [m.name, m]));
  for (const m of next.members) {
    const was = old.get(m.name);
    if (!was) {
      events.push({ at, kind: 'member-added', message: `${m.name} joined (${m.role}, ${m.state})`, member: m.name });
      continue;
    }
    if (was.role !== m.role) {
      events.push({ at, kind: 'member-role', message: `${m.name}: ${was.role} → ${m.role}`, member: m.name });
    }
    if (was.state !== m.state) {
      const bad = ['unreachable', 'stopped', 'crashed'].includes(m.state);
      events.push({ at, kind: 'member-state', ...(bad ? { severity: 'warning' as const } : {}), message: `${m.name}: ${was.state} → ${m.state}`, member: m.name });
    }
  }
  for (const m of previous.members) {
    if (!next.members.some((n) => n.name === m.name)) events.push({ at, kind: 'member-removed', severity: 'warning', message: `${m.name} left the cluster`, member: m.name });
  }
  if (previous.paused !== next.paused) {
    events.push({ at, kind: next.paused ? 'paused' : 'resumed', severity: 'warning', message: next.paused ? 'cluster paused (maintenance mode)' : 'cluster resumed (automatic failover on)' });
  }
  const oldAlerts = new Map(previous.alerts.map((a) => [a.id, a]));
  const newAlerts = new Map(next.alerts.map((a) => [a.id, a]));
  for (const a of next.alerts) {
    if (!oldAlerts.has(a.id)) events.push({ at, kind: 'alert-raised', severity: a.severity, message: a.message, ...(a.member ? { member: a.member } : {}) });
  }
  for (const a of previous.alerts) {
    if (!newAlerts.has(a.id)) events.push({ at, kind: 'alert-cleared', message: `cleared: ${a.message}`, ...(a.member ? { member: a.member } : {}) });
  }
  return events;
}
