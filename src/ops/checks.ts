import type { ClusterSnapshot, MemberView } from '../model/snapshot.js';
import type { SourceSelection } from '../model/source-selection.js';
import { unreadSources } from '../model/source-selection.js';
import { restBase } from '../services/patroni.js';
import { formatBytes, formatSeconds } from '../util/units.js';
import type { PreconditionContext, Reason, RunningOperationInfo } from './types.js';

/**
 * The precondition checks the operations share, from the runbooks: pure functions of a snapshot. Each
 * returns reasons in an operator's words, with the figures and the limit.
 */

/** Patroni's default when the dynamic configuration doesn't say (1 MiB). */
export const DEFAULT_MAXIMUM_LAG_ON_FAILOVER = 1_048_576;

export function maximumLagOnFailover(snapshot: ClusterSnapshot): number {
  return snapshot.dcs.maximumLagOnFailover ?? DEFAULT_MAXIMUM_LAG_ON_FAILOVER;
}

export function clockTime(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function describeRunning(running: RunningOperationInfo): string {
  const who = [running.user, running.pid !== undefined ? `pid ${running.pid}` : undefined].filter(Boolean).join(', ');
  return `${running.operation} running since ${clockTime(running.startedAt)}${who ? ` (${who})` : ''}`;
}

/** Blockers every operation shares: read-only mode, another operation, a cluster whose state is unknown. */
export function commonBlockers(snapshot: ClusterSnapshot, context: PreconditionContext): Reason[] {
  const blockers: Reason[] = [];
  if (context.readOnly) blockers.push({ code: 'read-only', message: 'read-only mode: operations are disabled (started with --read-only)' });
  if (context.running) blockers.push({ code: 'operation-running', message: describeRunning(context.running) });
  if (snapshot.members.length === 0) {
    const errors = ['patroni', 'dcs'].map((k) => snapshot.sources[k]?.error).filter(Boolean);
    blockers.push({ code: 'state-unknown', message: `the cluster's state is unknown: no member is known${errors.length ? ` (${errors.join('; ')})` : ''}` });
  }
  return blockers;
}

/** Checks never pass on a source not read yet (a one-shot command's store reads some sources only, the cockpit's all of them at its own pace). */
export function unreadBlockers(snapshot: ClusterSnapshot, reads: SourceSelection): Reason[] {
  const unread = unreadSources(reads, snapshot);
  if (unread.length === 0) return [];
  return [{ code: 'source-unread', message: `not read yet: ${unread.join(', ')} (the checks need ${unread.length === 1 ? 'it' : 'them'})` }];
}

/** The DCS must work for Patroni to move the leader key. */
export function dcsBlockers(snapshot: ClusterSnapshot): Reason[] {
  // The health probes (one status call per etcd member, short timeouts) can fail on a loaded host while
  // etcd works: a successful read of Patroni's keys (linearizable, so it needed a quorum) outweighs them.
  const dcs = snapshot.sources.dcs;
  const dcsReadWorks = dcs !== undefined && dcs.error === undefined && dcs.asOf !== undefined;
  if (snapshot.etcd?.quorum === 'lost' && !dcsReadWorks) {
    const down = snapshot.etcd.members.filter((m) => !m.healthy).map((m) => m.name);
    return [{ code: 'etcd-quorum', message: `etcd has lost quorum (${down.join(', ')} down): Patroni cannot move the leader key` }];
  }
  return [];
}

export function leaderBlockers(snapshot: ClusterSnapshot, forWhat: string): Reason[] {
  if (!snapshot.leader) return [{ code: 'no-leader', message: `there is no leader: ${forWhat} needs one (use failover when the leader is gone)` }];
  const leader = snapshot.members.find((m) => m.name === snapshot.leader);
  if (leader && (leader.state === 'unreachable' || leader.state === 'stopped' || leader.state === 'crashed')) {
    return [{ code: 'leader-down', member: leader.name, message: `the leader ${leader.name} is ${leader.state}: ${forWhat} needs a running leader (use failover)` }];
  }
  return [];
}

export function findMember(snapshot: ClusterSnapshot, name: string): MemberView | undefined {
  return snapshot.members.find((m) => m.name === name);
}

export function unknownMember(snapshot: ClusterSnapshot, name: string): Reason {
  return {
    code: 'unknown-member',
    member: name,
    message: `there is no member named ${name} (members: ${snapshot.members.map((m) => m.name).join(', ') || 'none'})`,
  };
}

/** Is the member streaming from the leader (per the leader's pg_stat_replication, or Patroni 4's state)? */
export function isStreaming(member: MemberView): boolean {
  return member.state === 'streaming';
}

/**
 * Why a member cannot take over as leader in a planned switchover (empty: it can): the runbook's list —
 * exists, not the leader, running and streaming, no nofailover tag, replay lag within maximum_lag_on_failover.
 */
export function candidateBlockers(snapshot: ClusterSnapshot, name: string): Reason[] {
  const member = findMember(snapshot, name);
  if (!member) return [unknownMember(snapshot, name)];
  if (name === snapshot.leader) return [{ code: 'candidate-is-leader', member: name, message: `${name} is already the leader` }];
  const reasons: Reason[] = [];
  if (!isStreaming(member)) {
    reasons.push({
      code: 'candidate-not-streaming',
      member: name,
      message: `candidate ${name} is not streaming from ${snapshot.leader ?? 'the leader'} (state: ${member.state}${member.patroniState && member.patroniState !== member.state ? `, Patroni says ${member.patroniState}` : ''})`,
    });
  }
  if (member.nofailover) reasons.push({ code: 'candidate-nofailover', member: name, message: `candidate ${name} is tagged nofailover: Patroni will not promote it` });
  const limit = maximumLagOnFailover(snapshot);
  if (member.replayLagBytes === undefined) {
    // Never passed as 0: a candidate whose replay lag no reading gives may be any distance behind.
    reasons.push({
      code: 'candidate-lag-unknown',
      member: name,
      message: `lag of candidate ${name} unknown: ${member.replayLagUnknown ?? 'no reading gives its replay lag'} (limit ${formatBytes(limit)}, maximum_lag_on_failover)`,
    });
  } else if (member.replayLagBytes > limit) {
    reasons.push({
      code: 'candidate-lag',
      member: name,
      message: `candidate ${name} lags ${formatBytes(member.replayLagBytes)} > ${formatBytes(limit)} (maximum_lag_on_failover)`,
    });
  }
  return reasons;
}

/** Every replica as a switchover candidate: its lag, and why it is not eligible (what the candidate picker shows). */
export interface CandidateOption {
  member: string;
  state: MemberView['state'];
  replayLagBytes?: number;
  replayLagSeconds?: number;
  eligible: boolean;
  reasons: Reason[];
}

export function candidateOptions(snapshot: ClusterSnapshot): CandidateOption[] {
  return snapshot.members
    .filter((m) => m.name !== snapshot.leader)
    .map((m) => {
      const reasons = candidateBlockers(snapshot, m.name);
      const option: CandidateOption = { member: m.name, state: m.state, eligible: reasons.length === 0, reasons };
      if (m.replayLagBytes !== undefined) option.replayLagBytes = m.replayLagBytes;
      if (m.replayLagSeconds !== undefined) option.replayLagSeconds = m.replayLagSeconds;
      return option;
    });
}

/** The best candidate: eligible, least replay lag, then name (undefined when none is eligible). */
export function bestCandidate(snapshot: ClusterSnapshot): string | undefined {
  return candidateOptions(snapshot)
    .filter((o) => o.eligible)
    .sort((a, b) => (a.replayLagBytes ?? 0) - (b.replayLagBytes ?? 0) || a.member.localeCompare(b.member))[0]?.member;
}

/** Red flag of the runbooks: a backup running. Overridable. */
export function backupWarnings(snapshot: ClusterSnapshot, what: string): Reason[] {
  const running = snapshot.backups.running;
  if (!running) return [];
  return [
    {
      code: 'backup-running',
      message: `a Barman backup is running (${running.id}, ${running.status}${running.beginTime ? `, since ${running.beginTime}` : ''}): ${what} during a backup may make it fail`,
    },
  ];
}

/** Red flag of the runbooks: long-running transactions on the leader, each listed. Overridable. */
export function longTransactionWarnings(snapshot: ClusterSnapshot, context: PreconditionContext, what: string): Reason[] {
  const leader = snapshot.leader ? findMember(snapshot, snapshot.leader) : undefined;
  const limit = context.cluster.thresholds.longTransactionSeconds;
  const long = (leader?.detail?.longestTransactions ?? []).filter((t) => (t.xactAgeSeconds ?? 0) > limit);
  if (!leader || long.length === 0) return [];
  const list = long
    .map((t) => {
      const who = [t.user, t.applicationName, t.clientAddr].filter(Boolean).join('/');
      const query = (t.query ?? '').replace(/\s+/g, ' ').trim();
      return `pid ${t.pid}${who ? ` (${who})` : ''} open ${formatSeconds(t.xactAgeSeconds ?? 0)}${t.state ? ` ${t.state}` : ''}${query ? `: ${query.length > 80 ? `${query.slice(0, 80)}…` : query}` : ''}`;
    })
    .join('; ');
  return [
    {
      code: 'long-transactions',
      member: leader.name,
      message: `${long.length} transaction${long.length === 1 ? '' : 's'} open longer than ${formatSeconds(limit)} on the leader ${leader.name} (${what} will cut them off): ${list}`,
    },
  ];
}

/** Replicas that don't stream: the cluster is not fully healthy. Overridable. */
export function unhealthyReplicaWarnings(snapshot: ClusterSnapshot, except: string[] = []): Reason[] {
  return snapshot.members
    .filter((m) => m.name !== snapshot.leader && !except.includes(m.name) && !isStreaming(m))
    .map((m) => ({ code: 'replica-not-streaming', member: m.name, message: `${m.name} is not streaming (state: ${m.state})` }));
}

/** The REST base URL for cluster-wide calls (as the client would use it), for plans. */
export function clusterRestBase(snapshot: ClusterSnapshot, context: PreconditionContext): string {
  const configured = context.cluster.patroni.endpoints[0];
  if (configured) return restBase(configured);
  const leader = snapshot.leader ? findMember(snapshot, snapshot.leader) : undefined;
  const any = leader?.apiUrl ?? snapshot.members.find((m) => m.apiUrl)?.apiUrl;
  return any ? restBase(any) : 'http://<patroni>';
}

export function memberRestBase(member: MemberView | undefined, name: string): string {
  return member?.apiUrl ? restBase(member.apiUrl) : `http://<${name} REST API>`;
}

export function writePortLabel(context: PreconditionContext): string | undefined {
  const write = context.cluster.haproxy?.write;
  return write ? `${write.host}:${write.port}` : undefined;
}
