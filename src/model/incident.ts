import type { ClusterEvent, ClusterSnapshot, IncidentCandidate, IncidentView, IncidentWitness, MemberView } from './snapshot.js';
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

/**
 * The leader key's remaining TTL counts for the countdown only from a DCS reading at most this much older than
 * the first witness (the store reads the DCS again at once when an incident opens).
 */
export const LEASE_READING_MAX_AGE_MS = 2500;

/** How long an incident stays on screen after everything is checked. */
export const INCIDENT_LINGER_MS = 60_000;

/** How far back (since its last event) a cockpit restarted mid-incident picks an open incident up from its event log. */
export const RESUME_WINDOW_MS = 10 * 60_000;

/** The tracker's own event messages, read back by `resume` (they are written below, in `update`). */
const RECORDED = {
  flagged: /^leader (\S+) unreachable\b/,
  closed: /^(leader \S+ answers again|incident over:)/,
  leaseExpired: /^leader key of \S+ expired/,
  newLeader: /^(\S+) is the new leader\b/,
  writes: /^writes flow through the write port\b/,
};

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

  /**
   * Pick up an incident the event log says is still open (a cockpit restarted in the middle of one): the
   * same first-seen time, so the "unreachable for" clock and the RTO still count from the first witness, and
   * no second "unreachable" flag. What the log cannot hold (witnesses, the lease, candidates) is read again.
   */
  resume(events: readonly ClusterEvent[], now: number): void {
    let open: IncidentView | undefined;
    let lastAt = 0;
    for (const event of events) {
      if (event.kind !== 'incident') continue;
      const flagged = RECORDED.flagged.exec(event.message);
      if (flagged?.[1]) {
        open = { phase: 'leader-unreachable', oldLeader: flagged[1], firstSeenAt: event.at, witnesses: [], autoFailover: true, quorumLost: false, candidates: [], checklist: [] };
      } else if (!open) {
        continue;
      } else if (RECORDED.closed.test(event.message)) {
        open = undefined;
        continue;
      } else if (RECORDED.leaseExpired.test(event.message)) {
        open.phase = 'electing';
        open.leaseExpiredAt = event.at;
      } else {
        const elected = RECORDED.newLeader.exec(event.message);
        if (elected?.[1]) {
          open.phase = 'failed-over';
          open.newLeader = elected[1];
          open.newLeaderAt = event.at;
        } else if (RECORDED.writes.test(event.message)) {
          open.writesAt = event.at;
        }
      }
      lastAt = event.at;
    }
    if (!open || now - lastAt > RESUME_WINDOW_MS) return;
    this.current = open;
    this.closedAt = undefined;
  }

  /**
   * The witnesses of a lost leader, or undefined while it is not lost. The leader itself must fail to
   * answer: its Patroni (REST) at once, or its PostgreSQL alone for SQL_ONLY_HOLD_MS — a planned switchover
   * restarts the old leader's PostgreSQL for a second or two while its Patroni keeps answering, and that is
   * no incident. HAProxy and the replicas only corroborate.
   */
  private lossWitnesses(inputs: IncidentInputs, leader: string): IncidentWitness[] | undefined {
    const witnesses = leaderWitnesses(inputs, leader);
    if (!witnesses.some((w) => w.source === 'sql')) this.sqlFailingSince = undefined;
    else this.sqlFailingSince ??= inputs.now;
    const direct = witnesses.some((w) => w.source === 'rest') || (this.sqlFailingSince !== undefined && inputs.now - this.sqlFailingSince >= SQL_ONLY_HOLD_MS);
    if (!direct) return undefined;
    this.sqlFailingSince = undefined;
    return witnesses;
  }

  update(inputs: IncidentInputs): { view: IncidentView | undefined; transitions: IncidentTransition[] } {
    const { snapshot, now } = inputs;
    const transitions: IncidentTransition[] = [];
    const say = (kind: IncidentEventKind, message: string, member?: string) => transitions.push({ kind, at: now, message, ...(member ? { member } : {}) });

    // While a closed incident lingers on screen the leader is watched as before: a new loss replaces it.
    const lingering = this.current?.phase === 'recovered';
    if (!this.current || lingering) {
      const leader = lingering ? snapshot.leader : (snapshot.leader ?? this.lastHealthyLeader);
      const witnesses = leader ? this.lossWitnesses(inputs, leader) : undefined;
      if (leader && witnesses) {
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
      } else if (!this.current) {
        if (snapshot.leader) this.lastHealthyLeader = snapshot.leader;
        return { view: undefined, transitions };
      }
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
      // Only a reading from about the time of the loss: one from before may predate the leader's last renewal.
      if (key?.holder === old && key.leaseTtlSeconds !== undefined && inputs.dcsReadAt !== undefined && inputs.dcsReadAt >= incident.firstSeenAt - LEASE_READING_MAX_AGE_MS) {
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
      } else if (key?.holder !== old && snapshot.sources.dcs?.asOf !== undefined) {
        // (Only once the DCS has been read: a cockpit restarted mid-incident has no leader key before that.)
        incident.phase = 'electing';
        incident.leaseExpiredAt = now;
        say('lease-expired', `leader key of ${old} expired or released`, old);
      }
    }
    if (incident.phase === 'electing') {
      // Paused or resumed while the key is gone: what the panel says about automatic failover follows the cluster.
      incident.autoFailover = !snapshot.paused;
      incident.quorumLost = snapshot.etcd?.quorum === 'lost';
      // A resumed incident past its lease has no candidates yet: who could be promoted is still worth saying.
      if (incident.candidates.length === 0) incident.candidates = failoverCandidates(snapshot, old);
      // The old leader came back and took its key again before any replica did: no failover after all.
      if (snapshot.leader === old && snapshot.leaderKey?.holder === old && inputs.leaderProbe?.member === old && inputs.leaderProbe.restOk && inputs.leaderProbe.sqlOk) {
        incident.phase = 'recovered';
        incident.recoveredWithoutFailover = true;
        this.closedAt = now;
        say('incident-closed', `leader ${old} answers again and holds the leader key; no failover happened`, old);
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
        else if (!item.done) {
          // Until ticked, the label follows the model (the new leader's timeline moves on after its promotion).
          item.label = label;
          if (done) {
            item.done = true;
            if (kind) say(kind, `${old}: ${label}`, old);
          }
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
