import type { Thresholds } from '../config/schema.js';
import type {
  ArchiverStatus,
  BarmanBackup,
  BarmanServerStatus,
  DcsView,
  EtcdClusterHealth,
  HaproxyRouting,
  PatroniCluster,
  PatroniClusterMember,
  PatroniDynamicConfig,
  PatroniMemberStatus,
  PatroniRole,
  PostgresMemberStatus,
  ReplicationRow,
  TimelineHistoryEntry,
} from '../services/types.js';
import type { ContainerState } from '../services/docker.js';
import { formatBytes, formatLsn, formatSeconds, parseLsn } from '../util/units.js';
import type { Alert, BackupsView, ClusterSnapshot, ContainerView, MemberDisplayState, MemberView, Severity, SourceFreshness } from './snapshot.js';

/**
 * The latest reading of every source (kept after a failure: stale, with the source marked failing), from
 * which the snapshot is derived. Pure data: the pollers fill it, `deriveSnapshot` reads it.
 */
export interface Readings {
  cluster?: PatroniCluster;
  history?: TimelineHistoryEntry[];
  config?: PatroniDynamicConfig;
  /** `GET /patroni` per member name. */
  memberStatus: Record<string, PatroniMemberStatus>;
  dcs?: DcsView;
  etcd?: EtcdClusterHealth;
  postgres: Record<string, PostgresMemberStatus>;
  haproxy?: HaproxyRouting;
  backups?: BarmanBackup[];
  barmanStatus?: BarmanServerStatus;
  archiveLog?: { member: string; lines: string[] };
  /** The state of each member's container (Docker Engine API), by member name, when the config names them. */
  containers?: Record<string, ContainerState>;
  /** The container of each member, as the config names it (set even while the engine cannot be read). */
  containerNames?: Record<string, string>;
  sources: Record<string, SourceFreshness>;
}

export function emptyReadings(): Readings {
  return { memberStatus: {}, postgres: {}, sources: {} };
}

export interface DeriveContext {
  cluster: string;
  scope: string;
  thresholds: Thresholds;
  now: number;
  /** Alerts of the previous snapshot, so an alert keeps its `since`. */
  previousAlerts: Alert[];
  /** When a condition was first seen, for alerts that must hold a while before they are raised. */
  pending: Map<string, number>;
  /** Has this source ever been polled (a source never configured raises nothing). */
  configured: { haproxy: boolean; barman: boolean; archiveLog: boolean };
}

/** Split brain must hold this long: a switchover shows two primaries for a moment. */
export const SPLIT_BRAIN_HOLD_MS = 5000;
/** A source failing for less than this is not yet called stale. */
export const STALE_AFTER_MS = 0;

export function sourceFailing(readings: Readings, key: string): boolean {
  return readings.sources[key]?.error !== undefined;
}

function dcsRole(value: unknown): PatroniRole {
  if (value === 'master' || value === 'primary' || value === 'leader') return 'leader';
  if (value === 'standby_leader' || value === 'replica' || value === 'sync_standby') return value;
  return 'unknown';
}

function toNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * The members to show: Patroni's /cluster, or the DCS members when no REST API answers; plus a member whose
 * container the config names but that Patroni no longer lists (its container stopped: it left the DCS).
 */
function baseMembers(readings: Readings): PatroniClusterMember[] {
  const listed = listedMembers(readings);
  const missing = Object.keys(readings.containerNames ?? {}).filter((name) => !listed.some((m) => m.name === name));
  if (missing.length === 0) return listed;
  const absent = missing.map(
    (name): PatroniClusterMember => ({ name, role: 'unknown', rawRole: '', state: 'unknown', rawState: '', lagUnknown: false, pendingRestart: false, tags: {}, nofailover: false, noloadbalance: false }),
  );
  return [...listed, ...absent].sort((a, b) => a.name.localeCompare(b.name));
}

function listedMembers(readings: Readings): PatroniClusterMember[] {
  if (readings.cluster && !sourceFailing(readings, 'patroni')) return readings.cluster.members;
  const fromDcs = Object.entries(readings.dcs?.members ?? {}).map(([name, data]): PatroniClusterMember => {
    const conn = typeof data.conn_url === 'string' ? /@?([^/@:]+):(\d+)\//.exec(data.conn_url) : null;
    const tags = (typeof data.tags === 'object' && data.tags !== null ? data.tags : {}) as Record<string, unknown>;
    return {
      name,
      role: readings.dcs?.leader?.holder === name ? 'leader' : dcsRole(data.role),
      rawRole: String(data.role ?? ''),
      state: 'unknown',
      rawState: String(data.state ?? ''),
      ...(typeof data.api_url === 'string' ? { apiUrl: data.api_url } : {}),
      ...(conn?.[1] ? { host: conn[1], port: Number(conn[2]) } : {}),
      ...(toNumber(data.timeline) !== undefined ? { timeline: toNumber(data.timeline) as number } : {}),
      lagUnknown: false,
      pendingRestart: data.pending_restart === true,
      tags,
      nofailover: tags.nofailover === true,
      noloadbalance: tags.noloadbalance === true,
    };
  });
  if (fromDcs.length) return fromDcs.sort((a, b) => a.name.localeCompare(b.name));
  return readings.cluster?.members ?? [];
}

/** The leader as the snapshot of these readings will name it. */
export function leaderOfReadings(readings: Readings): string | undefined {
  return leaderName(readings, baseMembers(readings));
}

function leaderName(readings: Readings, members: PatroniClusterMember[]): string | undefined {
  const holder = readings.dcs?.leader?.holder;
  if (holder && !sourceFailing(readings, 'dcs')) return holder;
  const fromCluster = members.find((m) => m.role === 'leader' || m.role === 'standby_leader')?.name;
  return fromCluster ?? holder;
}

function displayState(
  member: PatroniClusterMember,
  isLeader: boolean,
  restReachable: boolean,
  sqlReachable: boolean,
  replication: ReplicationRow | undefined,
  leaderReplicationKnown: boolean,
  bothFailing: boolean,
  notReadYet: boolean,
): MemberDisplayState {
  const patroni = member.state;
  // Unreachable only when both its REST API and PostgreSQL were asked and failed: not before they answered once.
  if (bothFailing) return 'unreachable';
  if (['stopped', 'stopping', 'starting', 'restarting', 'crashed', 'creating replica'].includes(patroni)) {
    return patroni === 'start failed' ? 'crashed' : (patroni as MemberDisplayState);
  }
  if (patroni === 'start failed') return 'crashed';
  if (patroni === 'initializing new cluster') return 'starting';
  // Before its own REST API and PostgreSQL were first read (start-up), the DCS's word that it leads stands.
  if (isLeader) return restReachable || sqlReachable || notReadYet ? 'running' : 'unreachable';
  if (replication?.state === 'streaming') return 'streaming';
  if (patroni === 'in archive recovery') return 'archive recovery';
  if (patroni === 'streaming' && !leaderReplicationKnown) return 'streaming';
  if (patroni === 'running' || patroni === 'streaming') return 'running';
  return restReachable ? 'unknown' : sqlReachable ? 'running' : 'unreachable';
}

function containerView(readings: Readings, member: string): ContainerView | undefined {
  const key = `docker:${member}`;
  const name = readings.containerNames?.[member];
  if (name === undefined) return undefined;
  const state = readings.containers?.[member];
  const error = readings.sources[key]?.error;
  const view: ContainerView = { name, running: state?.running ?? false };
  if (state) {
    view.status = state.status;
    if (state.exitCode !== undefined) view.exitCode = state.exitCode;
    if (state.health) view.health = state.health;
    if (state.restartCount !== undefined) view.restartCount = state.restartCount;
    if (state.startedAt) view.startedAt = state.startedAt;
    if (state.finishedAt) view.finishedAt = state.finishedAt;
    if (state.error) view.engineError = state.error;
  }
  if (error) view.error = error;
  return view;
}

/** Why a source gives nothing now: its error, or that it was not read yet. */
function sourceWhy(readings: Readings, key: string): string {
  return readings.sources[key]?.error ?? 'not read yet';
}

/**
 * A replica's lag from WAL positions read now: the leader's current position (its SQL, else its /patroni)
 * against the replica's replay and receive positions (its SQL, else its /patroni, else Patroni 4.1+'s
 * /cluster); Patroni 4.1+'s own replay lag when a position is missing. `fresh` holds the replica's readings
 * from sources that answer now. Unknown, with the reason, when nothing read now gives it.
 */
export function positionLag(
  readings: Readings,
  base: PatroniClusterMember,
  leader: string | undefined,
  fresh: { pg: PostgresMemberStatus | undefined; status: PatroniMemberStatus | undefined },
): { replayBytes?: number; receiveBytes?: number; unknown?: string } {
  const clusterFresh = readings.cluster !== undefined && !sourceFailing(readings, 'patroni');
  // Patroni 4.1+'s replay lag and positions, as /cluster lists them (read now); ≤ 4.0's `lag`/`lsn` count received WAL too.
  const patroniReplay = clusterFresh && base.lagBasis === 'replay' ? base : undefined;
  if (leader === undefined) {
    return patroniReplay?.replayLagBytes !== undefined ? { replayBytes: patroniReplay.replayLagBytes } : { unknown: 'there is no leader to measure it against' };
  }
  const leaderPg = readings.postgres[leader];
  const leaderStatus = readings.memberStatus[leader];
  const leaderSqlFresh = leaderPg !== undefined && !sourceFailing(readings, `postgres:${leader}`);
  const leaderRestFresh = leaderStatus !== undefined && !sourceFailing(readings, `patroni:${leader}`);
  const leaderPosition = (leaderSqlFresh && leaderPg.currentLsn ? parseLsn(leaderPg.currentLsn) : undefined) ?? (leaderRestFresh ? leaderStatus.walLsn : undefined);
  const replayLsn = fresh.pg?.replayLsn ?? (fresh.status?.replayedLsn !== undefined ? formatLsn(fresh.status.replayedLsn) : patroniReplay?.replayLsn);
  const receiveLsn = fresh.pg?.receiveLsn ?? (fresh.status?.receivedLsn !== undefined ? formatLsn(fresh.status.receivedLsn) : patroniReplay?.receiveLsn);
  const replayPosition = replayLsn ? parseLsn(replayLsn) : undefined;
  const receivePosition = receiveLsn ? parseLsn(receiveLsn) : undefined;
  const out: { replayBytes?: number; receiveBytes?: number; unknown?: string } = {};
  if (leaderPosition !== undefined && receivePosition !== undefined) out.receiveBytes = Math.max(0, leaderPosition - receivePosition);
  if (leaderPosition !== undefined && replayPosition !== undefined) out.replayBytes = Math.max(0, leaderPosition - replayPosition);
  else if (patroniReplay?.replayLagBytes !== undefined) out.replayBytes = patroniReplay.replayLagBytes;
  if (out.replayBytes !== undefined) return out;
  const missing: string[] = [];
  if (leaderPosition === undefined) {
    missing.push(`the leader ${leader}'s WAL position is unknown (postgres:${leader}: ${sourceWhy(readings, `postgres:${leader}`)}; patroni:${leader}: ${sourceWhy(readings, `patroni:${leader}`)})`);
  }
  if (replayPosition === undefined) {
    missing.push(`${base.name}'s replay position is unknown (postgres:${base.name}: ${sourceWhy(readings, `postgres:${base.name}`)}; patroni:${base.name}: ${sourceWhy(readings, `patroni:${base.name}`)})`);
  }
  if (base.lagBasis === 'wal-position') missing.push(`Patroni's /cluster lag counts received WAL, not replayed`);
  out.unknown = missing.join('; ');
  return out;
}

function buildMember(readings: Readings, base: PatroniClusterMember, leader: string | undefined): MemberView {
  const isLeader = base.name === leader;
  const status = readings.memberStatus[base.name];
  const restKey = `patroni:${base.name}`;
  const sqlKey = `postgres:${base.name}`;
  const restReachable = status !== undefined && !sourceFailing(readings, restKey);
  const pg = readings.postgres[base.name];
  const sqlReachable = pg !== undefined && !sourceFailing(readings, sqlKey);
  const restPending = status === undefined && !sourceFailing(readings, restKey);
  const sqlPending = pg === undefined && !sourceFailing(readings, sqlKey);
  const leaderPg = leader ? readings.postgres[leader] : undefined;
  const leaderReplicationKnown = leaderPg !== undefined && leader !== undefined && !sourceFailing(readings, `postgres:${leader}`);
  const replication = leaderReplicationKnown ? leaderPg?.replication.find((r) => r.applicationName === base.name) : undefined;

  const view: MemberView = {
    name: base.name,
    role: isLeader && base.role !== 'standby_leader' ? 'leader' : base.role === 'leader' ? 'replica' : base.role,
    state: displayState(
      // The member's own /patroni is fresher than /cluster, which reads the member key in the DCS: that key is
      // rewritten once per HA loop (loop_wait), so after a restart it can say "stopped" for seconds while the
      // member already streams.
      restReachable && status ? { ...base, state: status.state, rawState: status.rawState } : base,
      isLeader,
      restReachable,
      sqlReachable,
      replication,
      leaderReplicationKnown,
      sourceFailing(readings, restKey) && sourceFailing(readings, sqlKey),
      restPending && sqlPending,
    ),
    patroniState: restReachable && status ? status.rawState : base.rawState,
    lagUnknown: base.lagUnknown,
    pendingRestart: base.pendingRestart || status?.pendingRestart === true,
    tags: base.tags,
    nofailover: base.nofailover,
    noloadbalance: base.noloadbalance,
    restReachable,
    sqlReachable,
  };
  if (restPending) view.restPending = true;
  if (sqlPending) view.sqlPending = true;
  const restError = readings.sources[restKey]?.error;
  if (restError) view.restError = restError;
  const sqlError = readings.sources[sqlKey]?.error;
  if (sqlError) view.sqlError = sqlError;
  if (base.host) view.host = base.host;
  if (base.port) view.port = base.port;
  if (base.apiUrl) view.apiUrl = base.apiUrl;
  const container = containerView(readings, base.name);
  if (container) {
    view.container = container;
    // A stopped container says more than "unreachable": the member is down because its container is.
    if (container.status && !container.running && (view.state === 'unreachable' || view.state === 'unknown')) view.state = 'stopped';
  }
  const timeline = base.timeline ?? status?.timeline ?? pg?.timeline;
  if (timeline !== undefined) view.timeline = timeline;
  const reason = base.pendingRestartReason ?? status?.pendingRestartReason;
  if (reason) view.pendingRestartReason = reason;
  if (status?.patroniVersion) view.patroniVersion = status.patroniVersion;
  if (pg?.serverVersion) view.serverVersion = pg.serverVersion;
  if (sqlReachable && pg) view.sqlSaysPrimary = !pg.inRecovery;

  if (isLeader) {
    const lsn = pg?.currentLsn ?? (status?.walLsn !== undefined ? formatLsn(status.walLsn) : undefined);
    if (lsn) view.lsn = lsn;
  } else {
    const replay = pg?.replayLsn ?? (status?.replayedLsn !== undefined ? formatLsn(status.replayedLsn) : base.replayLsn);
    const receive = pg?.receiveLsn ?? (status?.receivedLsn !== undefined ? formatLsn(status.receivedLsn) : base.receiveLsn);
    if (replay) {
      view.lsn = replay;
      view.replayLsn = replay;
    }
    if (receive) view.receiveLsn = receive;
    if (pg?.replayPaused !== undefined) view.replayPaused = pg.replayPaused;
    else if (status?.replayPaused !== undefined) view.replayPaused = status.replayPaused;
    // Lag: the leader's pg_stat_replication is the freshest and most exact; positions read now otherwise;
    // Patroni's own replay lag (4.1+) last. Never a guess: a lag no fresh reading gives stays undefined, with
    // the reason in `replayLagUnknown` (the switchover's checks refuse on it, as Patroni refuses a candidate
    // over maximum_lag_on_failover).
    if (replication) {
      if (replication.replayLagBytes !== undefined) view.replayLagBytes = replication.replayLagBytes;
      else view.replayLagUnknown = `${leader ?? 'the leader'}'s pg_stat_replication has no replay position for ${base.name} yet`;
      if (replication.writeLagBytes !== undefined) view.receiveLagBytes = replication.writeLagBytes;
      // PostgreSQL clears the lag intervals once a standby has caught up on an idle primary.
      view.replayLagSeconds = replication.replayLagSeconds ?? (replication.replayLagBytes === 0 ? 0 : undefined);
      view.receiveLagSeconds = replication.writeLagSeconds ?? (replication.writeLagBytes === 0 ? 0 : undefined);
      if (view.replayLagSeconds === undefined) delete view.replayLagSeconds;
      if (view.receiveLagSeconds === undefined) delete view.receiveLagSeconds;
    } else {
      // Without the leader's pg_stat_replication row: the lag from positions (the leader's current WAL
      // against this replica's replay and receive positions), which stays exact when replay is paused —
      // Patroni ≤ 4.0's /cluster lag counts the received WAL, so it reads 0 B for a replica that receives
      // but does not replay. Only positions from sources that answer now: a failing source's last reading is
      // stale, and a stale leader position against a fresh replay position reads too little lag (0 B).
      const lag = positionLag(readings, base, leader, { pg: sqlReachable ? pg : undefined, status: restReachable ? status : undefined });
      if (lag.replayBytes !== undefined) view.replayLagBytes = lag.replayBytes;
      else view.replayLagUnknown = lag.unknown;
      if (lag.receiveBytes !== undefined) view.receiveLagBytes = lag.receiveBytes;
      else if (base.receiveLagBytes !== undefined) view.receiveLagBytes = base.receiveLagBytes;
      if (pg?.replayDelaySeconds !== undefined && (view.replayLagBytes ?? 0) > 0) view.replayLagSeconds = pg.replayDelaySeconds;
    }
  }
  if (pg) {
    view.detail = {
      replication: pg.replication,
      ...(pg.walReceiver ? { walReceiver: pg.walReceiver } : {}),
      connectionsByState: pg.connectionsByState,
      ...(pg.maxConnections !== undefined ? { maxConnections: pg.maxConnections } : {}),
      longestTransactions: pg.longestTransactions,
      idleInTransaction: pg.idleInTransaction,
      blocking: pg.blocking,
    };
  }
  return view;
}

/**
 * The last archived WAL closes the recovery window: Barman's status when a source gives it, else the leader's
 * pg_stat_archiver (what `barman status` itself reports for PostgreSQL ≥ 9.4).
 */
function backupsView(readings: Readings, now: number, leaderArchiver: ArchiverStatus | undefined): BackupsView {
  const backups = readings.backups ?? [];
  const view: BackupsView = { backups };
  const done = backups.filter((b) => b.status === 'DONE');
  const newest = done
    .map((b) => Date.parse(b.endTime ?? ''))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => b - a)[0];
  // Whole minutes: the age is shown in minutes or more, and the snapshot need not change every second.
  if (newest !== undefined) view.newestDoneAgeSeconds = Math.max(0, Math.floor((now - newest) / 60_000) * 60);
  const running = backups.find((b) => b.status === 'STARTED' || b.status === 'WAITING_FOR_WALS');
  if (running) view.running = running;
  const lastArchivedWal = readings.barmanStatus?.lastArchivedWal ?? leaderArchiver?.lastArchivedWal;
  const lastArchivedAt = readings.barmanStatus?.lastArchivedAt ?? leaderArchiver?.lastArchivedAt;
  if (lastArchivedWal) view.lastArchivedWal = lastArchivedWal;
  if (lastArchivedAt) view.lastArchivedAt = lastArchivedAt;
  const oldest = [...done].sort((a, b) => Date.parse(a.beginTime ?? '') - Date.parse(b.beginTime ?? ''))[0];
  if (oldest?.beginTime) {
    // The window runs to the last archived WAL; without Barman's status, to the newest backup's end.
    const to = lastArchivedAt ?? done.map((b) => b.endTime ?? '').sort().at(-1);
    if (to) view.recoveryWindow = { from: oldest.beginTime, to, oldestBackupId: oldest.id };
  }
  return view;
}

function alert(id: string, severity: Severity, message: string, member?: string): Omit<Alert, 'since'> {
  return member ? { id, severity, message, member } : { id, severity, message };
}

/** The alerts the snapshot warrants, each with a sentence an operator understands. */
export function deriveAlerts(snapshot: Omit<ClusterSnapshot, 'alerts'>, readings: Readings, context: DeriveContext): Omit<Alert, 'since'>[] {
  const alerts: Omit<Alert, 'since'>[] = [];
  const { thresholds, now } = context;
  const holds = (id: string, condition: boolean, holdMs: number): boolean => {
    if (!condition) {
      context.pending.delete(id);
      return false;
    }
    const first = context.pending.get(id) ?? now;
    context.pending.set(id, first);
    return now - first >= holdMs;
  };

  const clusterKnown = snapshot.members.length > 0;
  if (clusterKnown && !snapshot.leader) {
    alerts.push(alert('no-leader', 'critical', 'No leader: the cluster accepts no writes until Patroni elects one.'));
  }
  // Split brain: more than one member says it is a primary (SQL), or a primary that is not the DCS leader.
  const sqlPrimaries = snapshot.members.filter((m) => m.sqlSaysPrimary === true).map((m) => m.name);
  const strayPrimary = sqlPrimaries.filter((name) => snapshot.leader !== undefined && name !== snapshot.leader);
  const splitBrain = sqlPrimaries.length > 1 || strayPrimary.length > 0;
  if (holds('split-brain', splitBrain, SPLIT_BRAIN_HOLD_MS)) {
    alerts.push(
      alert(
        'split-brain',
        'critical',
        `Split brain: ${sqlPrimaries.join(' and ')} accept${sqlPrimaries.length === 1 ? 's' : ''} writes (pg_is_in_recovery() false) while the DCS leader is ${snapshot.leader ?? 'nobody'}.`,
      ),
    );
  }

  const leaderReplicationKnown =
    snapshot.leader !== undefined && readings.postgres[snapshot.leader] !== undefined && !sourceFailing(readings, `postgres:${snapshot.leader}`);
  const lagBytesLimit = snapshot.thresholds.lagBytes;
  const lagBytesOrigin = snapshot.thresholds.lagBytesOrigin === 'config' ? 'threshold' : 'maximum_lag_on_failover';
  for (const m of snapshot.members) {
    if (m.name === snapshot.leader) continue;
    if (m.state === 'unreachable') {
      alerts.push(alert(`unreachable:${m.name}`, 'critical', `${m.name} is unreachable: neither its Patroni REST API nor PostgreSQL answer.`, m.name));
    } else if (
      snapshot.leader &&
      m.state !== 'streaming' &&
      m.state !== 'archive recovery' &&
      // Patroni ≤ 3.0.3 says "running" for any replica: only the leader's pg_stat_replication can tell.
      (leaderReplicationKnown || !['running', 'unknown'].includes(m.state))
    ) {
      const severity: Severity = ['stopped', 'crashed', 'stopping'].includes(m.state) ? 'critical' : 'warning';
      alerts.push(alert(`not-streaming:${m.name}`, severity, `${m.name} is not streaming from ${snapshot.leader} (state: ${m.state}).`, m.name));
    }
    if (m.replayLagBytes !== undefined && m.replayLagBytes > lagBytesLimit) {
      alerts.push(
        alert(
          `lag:${m.name}`,
          'warning',
          `${m.name} replay lag ${formatBytes(m.replayLagBytes)} > ${formatBytes(lagBytesLimit)} (${lagBytesOrigin}); it cannot be promoted automatically.`,
          m.name,
        ),
      );
    } else if (m.replayLagSeconds !== undefined && m.replayLagSeconds > thresholds.lagSeconds) {
      alerts.push(alert(`lag:${m.name}`, 'warning', `${m.name} replay lag ${formatSeconds(m.replayLagSeconds)} > ${formatSeconds(thresholds.lagSeconds)}.`, m.name));
    }
    if (m.replayPaused) alerts.push(alert(`replay-paused:${m.name}`, 'warning', `${m.name} has WAL replay paused (pg_wal_replay_pause).`, m.name));
  }
  const leaderView = snapshot.members.find((m) => m.name === snapshot.leader);
  if (leaderView?.state === 'unreachable') {
    // The DCS still names it (its lease runs) while neither its REST API nor PostgreSQL answers: writes fail now.
    alerts.push(
      alert(`unreachable:${leaderView.name}`, 'critical', `Leader ${leaderView.name} is unreachable: neither its Patroni REST API nor PostgreSQL answer; the DCS names it until its lease expires.`, leaderView.name),
    );
  }
  for (const m of snapshot.members) {
    if (m.pendingRestart) {
      const params = m.pendingRestartReason ? `: ${Object.keys(m.pendingRestartReason).join(', ')}` : '';
      alerts.push(alert(`pending-restart:${m.name}`, 'info', `${m.name} needs a restart to apply configuration${params}.`, m.name));
    }
    if (sourceFailing(readings, `patroni:${m.name}`) && m.state !== 'unreachable') {
      alerts.push(alert(`rest-unreachable:${m.name}`, 'warning', `${m.name}: Patroni REST API does not answer (${m.restError ?? 'no answer'}).`, m.name));
    }
    if (sourceFailing(readings, `postgres:${m.name}`) && m.state !== 'unreachable') {
      alerts.push(alert(`sql-unreachable:${m.name}`, 'warning', `${m.name}: PostgreSQL does not answer (${m.sqlError ?? 'no answer'}).`, m.name));
    }
  }

  const archiver = snapshot.archiving.status;
  if (archiver?.failing) {
    alerts.push(
      alert(
        'archiving-failing',
        'critical',
        `WAL archiving is failing on ${snapshot.archiving.member ?? 'the leader'}: last failure ${archiver.lastFailedWal ?? '?'} at ${archiver.lastFailedAt ?? '?'} (${archiver.failedCount} failures).`,
      ),
    );
  }
  if (archiver?.readyBacklog !== undefined && archiver.readyBacklog > thresholds.archiveBacklog) {
    alerts.push(alert('archive-backlog', 'warning', `${archiver.readyBacklog} WAL segments wait to be archived (> ${thresholds.archiveBacklog}).`));
  }

  if (context.configured.barman && readings.backups) {
    const done = readings.backups.filter((b) => b.status === 'DONE');
    if (done.length === 0) {
      alerts.push(alert('no-backup', 'warning', 'Barman holds no completed backup: there is no point-in-time recovery.'));
    } else if (snapshot.backups.newestDoneAgeSeconds !== undefined && snapshot.backups.newestDoneAgeSeconds > thresholds.backupMaxAgeHours * 3600) {
      alerts.push(
        alert(
          'backup-old',
          'warning',
          `The newest backup is ${formatSeconds(snapshot.backups.newestDoneAgeSeconds)} old (> ${thresholds.backupMaxAgeHours} h).`,
        ),
      );
    }
  }

  if (snapshot.etcd) {
    const unhealthy = snapshot.etcd.members.filter((m) => !m.healthy).map((m) => m.name);
    if (snapshot.etcd.quorum === 'lost') {
      alerts.push(
        alert(
          'etcd-quorum',
          'critical',
          `etcd quorum lost (${unhealthy.join(', ')} down): Patroni cannot renew the leader key; the leader demotes itself when its ttl runs out.`,
        ),
      );
    } else if (snapshot.etcd.quorum === 'degraded') {
      alerts.push(alert('etcd-quorum', 'warning', `etcd degraded: ${unhealthy.join(', ')} not healthy; one more failure loses quorum.`));
    }
  }

  if (snapshot.paused) {
    alerts.push(alert('paused', 'warning', 'Cluster paused (maintenance mode): Patroni will not fail over automatically.'));
  }

  if (snapshot.haproxy && snapshot.leader) {
    const write = snapshot.haproxy.writeTargets;
    if (write.length !== 1 || write[0] !== snapshot.leader) {
      alerts.push(
        alert(
          'haproxy-write',
          'critical',
          write.length === 0
            ? `HAProxy write port routes to no member (leader is ${snapshot.leader}): writes fail.`
            : `HAProxy write port routes to ${write.join(', ')}, not only to the leader ${snapshot.leader}.`,
        ),
      );
    }
  }

  for (const [key, source] of Object.entries(readings.sources)) {
    if (source.error === undefined) continue;
    if (key.startsWith('patroni:') || key.startsWith('postgres:')) continue; // per member, said above
    // The age is not in the sentence (it would change it every second): panes show it from failingSince.
    alerts.push(alert(`stale:${key}`, key === 'dcs' || key === 'patroni' ? 'critical' : 'warning', `${key} failing: ${source.error}`));
  }
  return alerts;
}

/** Build the snapshot from the readings. Pure: same readings and context, same snapshot. */
export function deriveSnapshot(readings: Readings, context: DeriveContext): ClusterSnapshot {
  const bases = baseMembers(readings);
  const leader = leaderName(readings, bases);
  const members = bases.map((b) => buildMember(readings, b, leader));
  const leaderPg = leader ? readings.postgres[leader] : undefined;
  const configSource = readings.config ?? readings.dcs?.config;
  const partial: Omit<ClusterSnapshot, 'alerts'> = {
    cluster: context.cluster,
    scope: context.scope,
    updatedAt: context.now,
    members,
    history: readings.history ?? readings.dcs?.history ?? [],
    paused: readings.cluster?.paused ?? configSource?.paused ?? false,
    dcs: {
      ...(configSource?.ttl !== undefined ? { ttl: configSource.ttl } : {}),
      ...(configSource?.loopWait !== undefined ? { loopWait: configSource.loopWait } : {}),
      ...(configSource?.maximumLagOnFailover !== undefined ? { maximumLagOnFailover: configSource.maximumLagOnFailover } : {}),
    },
    thresholds: {
      lagBytes: context.thresholds.lagBytes ?? configSource?.maximumLagOnFailover ?? 1048576,
      lagBytesOrigin:
        context.thresholds.lagBytes !== undefined ? 'config' : configSource?.maximumLagOnFailover !== undefined ? 'maximum_lag_on_failover' : 'default',
      lagSeconds: context.thresholds.lagSeconds,
    },
    archiving: {
      ...(leader ? { member: leader } : {}),
      ...(leaderPg?.archiver ? { status: leaderPg.archiver } : {}),
      logTail: readings.archiveLog?.lines ?? [],
      ...(readings.archiveLog ? { logMember: readings.archiveLog.member } : {}),
    },
    backups: backupsView(readings, context.now, leaderPg?.archiver),
    sources: readings.sources,
  };
  if (leader) partial.leader = leader;
  if (readings.dcs?.leader) partial.leaderKey = readings.dcs.leader;
  if (readings.cluster?.scheduledSwitchover) partial.scheduledSwitchover = readings.cluster.scheduledSwitchover;
  if (readings.etcd) partial.etcd = readings.etcd;
  if (readings.haproxy) partial.haproxy = readings.haproxy;

  const previous = new Map(context.previousAlerts.map((a) => [a.id, a]));
  const alerts: Alert[] = deriveAlerts(partial, readings, context).map((a) => ({ ...a, since: previous.get(a.id)?.since ?? context.now }));
  const order: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
  alerts.sort((a, b) => order[a.severity] - order[b.severity] || a.id.localeCompare(b.id));
  return { ...partial, alerts };
}
