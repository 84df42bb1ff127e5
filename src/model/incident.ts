import type { ClusterSnapshot, IncidentCandidate, IncidentView, IncidentWitness, MemberView } from './snapshot.js';
import { formatBytes } from '../util/units.js';
import { parseLsn } from '../util/units.js';

/**
 * Incident mode: the first seconds of a leader loss, which no other tool shows. Patroni replaces a dead
 * leader only when its etcd lease expires (ttl, 30 s by default); until then `patronictl list` still shows
 * it as Leader. The tracker watches the leader through several witnesses, counts down to the lease's
 * expiry, predicts which replica Patroni will promote (and why the others won't be), then measures the RTO
 * as observed and ticks off what remains (the old leader back, rejoined, streaming).
 */

/** Fast probes of the leader (REST and SQL) and of the write port, read more often than the other sources. */
export interface LeaderProbe {
  member: string;
  at: number;
  restOk: boolean;
  restError?: string;
  sqlOk: boolean;
  sqlError?: string;
}

export interface WriteProbe {
  at: number;
  ok: boolean;
  /** The port of the server that answered through the write port. */
  port?: number;
  inRecovery?: boolean;
  error?: string;
}

export interface IncidentInputs {
  snapshot: ClusterSnapshot;
  leaderProbe?: LeaderProbe;
  writeProbe?: WriteProbe;
  /** When the DCS reading (with the lease's remaining TTL) was taken. */
  dcsReadAt?: number;
  now: number;
}

export type IncidentEventKind = 'leader-unreachable' | 'lease-expired' | 'new-leader' | 'writes-restored' | 'old-leader-back' | 'rejoined' | 'incident-closed';

export interface IncidentTransition {
  kind: IncidentEventKind;
  at: number;
  message: string;
  member?: string;
}

/** PostgreSQL of the leader failing while its Patroni answers must last this long to be an incident. */
export const SQL_ONLY_HOLD_MS = 5000;

/** How long an incident stays on screen after everything is checked. */
export const INCIDENT_LINGER_MS = 60_000;

/** Order replicas as Patroni would when it picks a new leader, with the reason each one is passed over. */
export function failoverCandidates(snapshot: ClusterSnapshot, oldLeader: string): IncidentCandidate[] {
  const limit = snapshot.dcs.maximumLagOnFailover ?? snapshot.thresholds.lagBytes;
  const position = (m: MemberView) => parseLsn(m.receiveLsn ?? m.replayLsn ?? m.lsn ?? '') ?? -1;
  const candidates = snapshot.members
    .filter((m) => m.name !== oldLeader)
    .map((m): IncidentCandidate => {
      const base: IncidentCandidate = { name: m.name, eligible: true };
      if (m.replayLagBytes !== undefined) base.replayLagBytes = m.replayLagBytes;
      if (m.replayLagSeconds !== undefined) base.replayLagSeconds = m.replayLagSeconds;
      const pos = position(m);
      if (pos >= 0) base.walPosition = pos;
      const reason = (text: string): IncidentCandidate => ({ ...base, eligible: false, reason: text });
      if (m.nofailover) return reason('nofailover tag');
      if (!m.restReachable) return reason('its Patroni does not answer');
      if (['stopped', 'crashed', 'starting', 'stopping', 'creating replica', 'unreachable'].includes(m.state)) return reason(`not running (${m.state})`);
      if (m.replayLagBytes !== undefined && m.replayLagBytes > limit) {
        return reason(`lags ${formatBytes(m.replayLagBytes)} > ${formatBytes(limit)} (maximum_lag_on_failover)`);
      }
      return base;
    });
  // Patroni promotes the healthiest: the furthest WAL position among the eligible; a tie is a race for the key.
  return candidates.sort((a, b) => Number(b.eligible) - Number(a.eligible) || (b.walPosition ?? -1) - (a.walPosition ?? -1) || a.name.localeCompare(b.name));
}

/**
 * Who Patroni will promote: every eligible replica at the furthest WAL position. More than one means a tie,
 * which Patroni settles by a race for the leader key — the cockpit says so rather than guess.
 */
export function predictedLeaders(candidates: IncidentCandidate[]): string[] {
  const eligible = candidates.filter((c) => c.eligible);
  const best = eligible[0]?.walPosition;
  return eligible.filter((c) => c.walPosition === best).map((c) => c.name);
}

function leaderWitnesses(inputs: IncidentInputs, leader: string): IncidentWitness[] {
  const { snapshot, leaderProbe, now } = inputs;
  const witnesses: IncidentWitness[] = [];
  if (leaderProbe && leaderProbe.member === leader) {
    if (!leaderProbe.restOk) witnesses.push({ source: 'rest', at: now, detail: `REST API: ${leaderProbe.restError ?? 'no answer'}` });
    if (!leaderProbe.sqlOk) witnesses.push({ source: 'sql', at: now, detail: `PostgreSQL: ${leaderProbe.sqlError ?? 'no answer'}` });
  }
  if (snapshot.haproxy && !snapshot.haproxy.writeTargets.includes(leader)) {
    witnesses.push({ source: 'haproxy', at: now, detail: `HAProxy write backend: ${leader} DOWN` });
  }
  const replicas = snapshot.members.filter((m) => m.name !== leader && m.detail !== undefined);
  const lost = replicas.filter((m) => m.detail?.walReceiver === undefined || m.detail.walReceiver.status !== 'streaming');
  if (replicas.length > 0 && lost.length === replicas.length) {
    witnesses.push({ source: 'replicas', at: now, detail: `WAL receivers disconnected on ${lost.map((m) => m.name).join(', ')}` });
  }
  return witnesses;
}

/**
 * Follows one incident at a time from the snapshots and probes it is given; returns the view to show and
 * the transitions to record as events. Stateful (first-seen times), but does no I/O.
 */
export class IncidentTracker {
  private current: IncidentView | undefined;
  private closedAt: number | undefined;
  /** The leader last seen healthy: whose loss an incident is about. */
  private lastHealthyLeader: string | undefined;
  private sqlFailingSince: number | undefined;

  update(inputs: IncidentInputs): { view: IncidentView | undefined; transitions: IncidentTransition[] } {
    const { snapshot, now } = inputs;
    const transitions: IncidentTransition[] = [];
    const say = (kind: IncidentEventKind, message: string, member?: string) => transitions.push({ kind, at: now, message, ...(member ? { member } : {}) });

    if (!this.current) {
      const leader = snapshot.leader ?? this.lastHealthyLeader;
      if (!leader) return { view: undefined, transitions };
      const witnesses = leaderWitnesses(inputs, leader);
      // The leader itself must fail to answer: its Patroni (REST) at once, or its PostgreSQL alone for
      // SQL_ONLY_HOLD_MS — a planned switchover restarts the old leader's PostgreSQL for a second or two
      // while its Patroni keeps answering, and that is no incident. HAProxy and the replicas only corroborate.
      const sqlDown = witnesses.some((w) => w.source === 'sql');
      if (!sqlDown) this.sqlFailingSince = undefined;
      else this.sqlFailingSince ??= now;
      const direct =
        witnesses.some((w) => w.source === 'rest') || (this.sqlFailingSince !== undefined && now - this.sqlFailingSince >= SQL_ONLY_HOLD_MS);
      if (!direct) {
        if (snapshot.leader) this.lastHealthyLeader = snapshot.leader;
        return { view: undefined, transitions };
      }
      this.sqlFailingSince = undefined;
      this.current = {
        phase: 'leader-unreachable',
        oldLeader: leader,
        firstSeenAt: now,
        witnesses,
        autoFailover: !snapshot.paused,
        quorumLost: snapshot.etcd?.quorum === 'lost',
        candidates: failoverCandidates(snapshot, leader),
        checklist: [],
      };
      this.closedAt = undefined;
      say('leader-unreachable', `leader ${leader} unreachable (${witnesses.map((w) => w.detail).join('; ')})`, leader);
    }
    const incident = this.current;
    const old = incident.oldLeader;

    // Witnesses: keep the first time each was seen.
    if (incident.phase === 'leader-unreachable') {
      for (const w of leaderWitnesses(inputs, old)) {
        if (!incident.witnesses.some((x) => x.source === w.source)) incident.witnesses.push(w);
      }
      incident.candidates = failoverCandidates(snapshot, old);
      incident.autoFailover = !snapshot.paused;
      incident.quorumLost = snapshot.etcd?.quorum === 'lost';
      const key = snapshot.leaderKey;
      if (key?.holder === old && key.leaseTtlSeconds !== undefined && inputs.dcsReadAt !== undefined) {
        incident.lease = {
          expiresAt: inputs.dcsReadAt + key.leaseTtlSeconds * 1000,
          readAt: inputs.dcsReadAt,
          ...(key.leaseGrantedTtlSeconds !== undefined ? { grantedTtlSeconds: key.leaseGrantedTtlSeconds } : {}),
        };
      }
      // The leader came back by itself before Patroni acted (a blip): close the incident.
      if (snapshot.leader === old && inputs.leaderProbe?.member === old && inputs.leaderProbe.restOk && inputs.leaderProbe.sqlOk) {
        incident.phase = 'recovered';
        incident.recoveredWithoutFailover = true;
        this.closedAt = now;
        say('incident-closed', `leader ${old} answers again; no failover happened`, old);
      } else if (key?.holder !== old) {
        incident.phase = 'electing';
        incident.leaseExpiredAt = now;
        say('lease-expired', `leader key of ${old} expired or released`, old);
      }
    }
    if (incident.phase === 'electing' && snapshot.leader && snapshot.leader !== old) {
      incident.phase = 'failed-over';
      incident.newLeader = snapshot.leader;
      incident.newLeaderAt = now;
      const predicted = predictedLeaders(incident.candidates);
      say(
        'new-leader',
        `${snapshot.leader} is the new leader ${((now - incident.firstSeenAt) / 1000).toFixed(1)} s after ${old} was flagged${predicted.length ? ` (predicted: ${predicted.join(' or ')})` : ''}`,
        snapshot.leader,
      );
    }
    if (incident.phase === 'failed-over' && incident.newLeader) {
      const newLeader = snapshot.members.find((m) => m.name === incident.newLeader);
      const probe = inputs.writeProbe;
      if (incident.writesAt === undefined && probe?.ok && probe.inRecovery === false && newLeader?.port !== undefined && probe.port === newLeader.port) {
        incident.writesAt = now;
        say('writes-restored', `writes flow through the write port to ${incident.newLeader}: RTO ${((now - incident.firstSeenAt) / 1000).toFixed(1)} s as observed`, incident.newLeader);
      }
      const oldMember = snapshot.members.find((m) => m.name === old);
      const newTimeline = newLeader?.timeline;
      const check = (id: string, label: string, done: boolean, kind?: IncidentEventKind) => {
        const item = incident.checklist.find((c) => c.id === id);
        if (!item) incident.checklist.push({ id, label, done });
        else if (!item.done && done) {
          item.done = true;
          if (kind) say(kind, `${old}: ${label}`, old);
        }
      };
      check('writes', 'writes through the write port', incident.writesAt !== undefined);
      check('back', 'old leader back (its Patroni answers)', oldMember?.restReachable === true, 'old-leader-back');
      check('rejoined', `rejoined as a replica on timeline ${newTimeline ?? '?'}`, oldMember?.role === 'replica' && oldMember.timeline === newTimeline && newTimeline !== undefined, 'rejoined');
      check('streaming', `streaming from ${incident.newLeader}`, oldMember?.state === 'streaming');
      if (incident.checklist.every((c) => c.done) && this.closedAt === undefined) {
        this.closedAt = now;
        incident.phase = 'recovered';
        say('incident-closed', `incident over: ${incident.newLeader} leads, ${old} streams again`, old);
      }
    }
    if (this.closedAt !== undefined && now - this.closedAt > INCIDENT_LINGER_MS) {
      this.current = undefined;
      this.closedAt = undefined;
      this.lastHealthyLeader = snapshot.leader;
      return { view: undefined, transitions };
    }
    return { view: { ...incident, witnesses: [...incident.witnesses], checklist: incident.checklist.map((c) => ({ ...c })) }, transitions };
  }
}
