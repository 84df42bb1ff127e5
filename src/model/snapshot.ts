import type {
  ArchiverStatus,
  BarmanBackup,
  BlockingRow,
  EtcdClusterHealth,
  EtcdLeaderKey,
  HaproxyRouting,
  PatroniRole,
  ReplicationRow,
  SessionRow,
  SourceName,
  TimelineHistoryEntry,
  WalReceiverStatus,
} from '../services/types.js';

/**
 * The one live model of a cluster that every pane and every operation reads. Built by a pure reducer from
 * what the sources report; every fact carries where it came from through `sources` (as of when, failing
 * since when, with which error). Times are epoch milliseconds unless named `…At` as ISO strings.
 */

export type Severity = 'critical' | 'warning' | 'info';

export interface SourceFreshness {
  source: SourceName;
  /** Key of the source instance: 'patroni', 'postgres:db1', 'etcd', 'barman', … */
  key: string;
  /** When the last successful read finished. */
  asOf?: number;
  /** The last error, while failing. */
  error?: string;
  /** When it started failing (first failure after a success). */
  failingSince?: number;
  /** Duration of the last read in ms. */
  lastDurationMs?: number;
}

/** A member's state as the operator reads it (Patroni's word, refined by what the leader and SQL say). */
export type MemberDisplayState =
  | 'running' // the leader, or a replica on a Patroni that doesn't say more
  | 'streaming'
  | 'archive recovery'
  | 'starting'
  | 'stopping'
  | 'stopped'
  | 'restarting'
  | 'creating replica'
  | 'crashed'
  | 'unreachable'
  | 'unknown';

export interface MemberView {
  name: string;
  role: PatroniRole;
  state: MemberDisplayState;
  /** Patroni's own state string, as sent. */
  patroniState?: string;
  host?: string;
  port?: number;
  apiUrl?: string;
  timeline?: number;
  /** Current (leader) or replayed (replica) LSN, text form. */
  lsn?: string;
  receiveLsn?: string;
  replayLsn?: string;
  receiveLagBytes?: number;
  replayLagBytes?: number;
  /** A replica's replay lag is unknown (replayLagBytes undefined): why, in an operator's words. */
  replayLagUnknown?: string;
  /** Seconds: from the leader's pg_stat_replication (replay_lag), else the replica's replay delay. */
  replayLagSeconds?: number;
  receiveLagSeconds?: number;
  lagUnknown: boolean;
  replayPaused?: boolean;
  pendingRestart: boolean;
  pendingRestartReason?: Record<string, { oldValue: string; newValue: string }>;
  tags: Record<string, unknown>;
  nofailover: boolean;
  noloadbalance: boolean;
  restReachable: boolean;
  restError?: string;
  sqlReachable: boolean;
  sqlError?: string;
  /** Its Patroni REST API has not been read yet (the cockpit just started): neither answered nor failed. */
  restPending?: boolean;
  /** Its PostgreSQL has not been read yet: neither answered nor failed. */
  sqlPending?: boolean;
  /** pg_is_in_recovery() = false, from SQL. Undefined when SQL is unreachable. */
  sqlSaysPrimary?: boolean;
  patroniVersion?: string;
  serverVersion?: string;
  /** Detail for the member view (from SQL). */
  detail?: MemberDetail;
  /** The member's container, when the config names one (Docker Engine API). */
  container?: ContainerView;
}

/** A member's container as the engine reports it: running / exited / restarting, with its exit code. */
export interface ContainerView {
  /** The container's name (empty while it could not be read). */
  name: string;
  /** created, running, paused, restarting, exited, dead; undefined while it could not be read. */
  status?: string;
  running: boolean;
  exitCode?: number;
  /** The engine's health check verdict (healthy, unhealthy, starting). */
  health?: string;
  restartCount?: number;
  startedAt?: string;
  finishedAt?: string;
  /** The engine's own error about the container (e.g. a failed start). */
  engineError?: string;
  /** Why the state could not be read (socket missing, no such container): the source is stale. */
  error?: string;
}

export interface MemberDetail {
  replication: ReplicationRow[];
  walReceiver?: WalReceiverStatus;
  connectionsByState: Record<string, number>;
  maxConnections?: number;
  longestTransactions: SessionRow[];
  idleInTransaction: SessionRow[];
  blocking: BlockingRow[];
}

export interface ArchivingView {
  /** The member whose pg_stat_archiver this is (the leader). */
  member?: string;
  status?: ArchiverStatus;
  /** Last lines of the leader's archive.log, newest last (bounded). */
  logTail: string[];
  logMember?: string;
}

export interface RecoveryWindow {
  /** Begin of the oldest usable (DONE) backup. ISO. */
  from: string;
  /** The last archived WAL's time. ISO. */
  to: string;
  oldestBackupId: string;
}

export interface BackupsView {
  backups: BarmanBackup[];
  recoveryWindow?: RecoveryWindow;
  newestDoneAgeSeconds?: number;
  running?: BarmanBackup;
  lastArchivedWal?: string;
  lastArchivedAt?: string;
}

export interface Alert {
  /** Stable identity, so raising and clearing can be tracked: e.g. `lag:db2`, `no-leader`. */
  id: string;
  severity: Severity;
  /** One sentence in an operator's words. */
  message: string;
  member?: string;
  since: number;
}

export type ClusterEventKind =
  | 'leader-changed'
  | 'timeline-changed'
  | 'member-state'
  | 'member-role'
  | 'member-added'
  | 'member-removed'
  | 'alert-raised'
  | 'alert-cleared'
  | 'paused'
  | 'resumed'
  | 'source-failing'
  | 'source-recovered'
  | 'operation'
  | 'incident';

export interface ClusterEvent {
  at: number;
  kind: ClusterEventKind;
  message: string;
  severity?: Severity;
  member?: string;
}

export interface IncidentWitness {
  source: 'rest' | 'sql' | 'haproxy' | 'replicas';
  /** When this witness was first seen. */
  at: number;
  detail: string;
}

export interface IncidentCandidate {
  name: string;
  eligible: boolean;
  /** Why Patroni will pass it over. */
  reason?: string;
  walPosition?: number;
  replayLagBytes?: number;
  replayLagSeconds?: number;
}

/** A leader loss followed from the first witness to the old leader streaming again (incident mode). */
export interface IncidentView {
  phase: 'leader-unreachable' | 'electing' | 'failed-over' | 'recovered';
  oldLeader: string;
  firstSeenAt: number;
  witnesses: IncidentWitness[];
  /** The leader key's lease: when it expires unless renewed (read from etcd). */
  lease?: { expiresAt: number; readAt: number; grantedTtlSeconds?: number };
  /** False when the cluster is paused: no automatic failover will happen. */
  autoFailover: boolean;
  quorumLost: boolean;
  /** Replicas in the order Patroni would pick them; ineligible ones say why. */
  candidates: IncidentCandidate[];
  leaseExpiredAt?: number;
  newLeader?: string;
  newLeaderAt?: number;
  /** Writes reached the new leader through the write port (the RTO as observed ends here). */
  writesAt?: number;
  recoveredWithoutFailover?: boolean;
  checklist: Array<{ id: string; label: string; done: boolean }>;
}

export interface ClusterSnapshot {
  cluster: string;
  scope: string;
  /** When the model last changed. */
  updatedAt: number;
  members: MemberView[];
  /** The leader per the DCS leader key (falls back to Patroni's /cluster). */
  leader?: string;
  leaderKey?: EtcdLeaderKey;
  history: TimelineHistoryEntry[];
  paused: boolean;
  scheduledSwitchover?: { at: string; from?: string; to?: string };
  /** From the dynamic configuration. */
  dcs: { ttl?: number; loopWait?: number; maximumLagOnFailover?: number };
  /** The thresholds the alerts were judged by (lag bytes default to maximum_lag_on_failover). */
  thresholds: { lagBytes: number; lagBytesOrigin: 'config' | 'maximum_lag_on_failover' | 'default'; lagSeconds: number };
  etcd?: EtcdClusterHealth;
  haproxy?: HaproxyRouting;
  archiving: ArchivingView;
  backups: BackupsView;
  alerts: Alert[];
  sources: Record<string, SourceFreshness>;
  /** Present while a leader loss is being followed. */
  incident?: IncidentView;
}

export function emptySnapshot(cluster: string, scope: string, now = Date.now()): ClusterSnapshot {
  return {
    cluster,
    scope,
    updatedAt: now,
    members: [],
    history: [],
    paused: false,
    dcs: {},
    thresholds: { lagBytes: 1048576, lagBytesOrigin: 'default', lagSeconds: 30 },
    archiving: { logTail: [] },
    backups: { backups: [] },
    alerts: [],
    sources: {},
  };
}
