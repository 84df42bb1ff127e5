/**
 * What the service adapters return: normalized, validated facts from one backend each, independent of the
 * backend's version (Patroni 3.x and 4.x payloads both map to these). No React, no model logic here.
 * Every adapter call takes a CallOptions (AbortSignal + timeout) and either returns these types or throws
 * a ServiceError that says which source failed and why, in an operator's words.
 */

export interface CallOptions {
  signal?: AbortSignal;
  /** Milliseconds before the call is abandoned with a timeout error (default per adapter). */
  timeoutMs?: number;
}

export type SourceName = 'patroni' | 'etcd' | 'postgres' | 'haproxy' | 'barman' | 'archive-log' | 'docker';

export type ServiceErrorKind =
  | 'unreachable' // connection refused / DNS / socket missing
  | 'timeout'
  | 'auth' // 401/403, password refused
  | 'malformed' // the answer did not validate
  | 'http' // an unexpected HTTP status
  | 'failed'; // a command ran and failed (exit code), or the server said no

export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly source: SourceName,
    readonly kind: ServiceErrorKind,
    message: string,
    readonly endpoint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------- Patroni REST

/** Patroni's role, normalized: `master` (≤3.x) and `primary` (4.x) are both `leader` here. */
export type PatroniRole = 'leader' | 'standby_leader' | 'replica' | 'sync_standby' | 'unknown';

/**
 * Patroni's state, normalized. `streaming` and `in archive recovery` exist from Patroni 3.0.4; older
 * versions say `running` for a replica whether it streams or not (check the leader's replication rows).
 */
export type PatroniState =
  | 'running'
  | 'streaming'
  | 'in archive recovery'
  | 'starting'
  | 'stopping'
  | 'stopped'
  | 'restarting'
  | 'initializing new cluster'
  | 'creating replica'
  | 'crashed'
  | 'start failed'
  | 'unknown';

/** One member as `GET /cluster` lists it. Lag in bytes; `undefined` when Patroni says "unknown" or omits it. */
export interface PatroniClusterMember {
  name: string;
  role: PatroniRole;
  /** The raw role string Patroni sent (master, primary, leader, replica, …). */
  rawRole: string;
  state: PatroniState;
  rawState: string;
  apiUrl?: string;
  host?: string;
  port?: number;
  timeline?: number;
  /** ≤ 4.0: the single `lag` field; 4.1+: `replay_lag`. Bytes. */
  replayLagBytes?: number;
  /**
   * What `replayLagBytes` measures: `replay` (4.1+ `replay_lag`), or `wal-position` (≤ 4.0 `lag`: the DCS's
   * leader position less the member's max(received, replayed), clamped at 0: it reads 0 B for a replica that
   * receives all WAL but replays none, so it is no replay lag).
   */
  lagBasis?: 'replay' | 'wal-position';
  /** 4.1+ only (`receive_lag`). Bytes. */
  receiveLagBytes?: number;
  receiveLsn?: string;
  replayLsn?: string;
  /** Patroni said the lag is "unknown". */
  lagUnknown: boolean;
  pendingRestart: boolean;
  /** 3.3+: parameter → { old_value, new_value }. */
  pendingRestartReason?: Record<string, { oldValue: string; newValue: string }>;
  tags: Record<string, unknown>;
  nofailover: boolean;
  noloadbalance: boolean;
  /** Scheduled restart of this member, if any. */
  scheduledRestart?: { at: string; postgresVersion?: string };
}

export interface PatroniCluster {
  members: PatroniClusterMember[];
  /** `pause: true` in /cluster (maintenance mode). */
  paused: boolean;
  scheduledSwitchover?: { at: string; from?: string; to?: string };
  /** Which endpoint answered. */
  endpoint: string;
}

/** One entry of `GET /history`: Patroni's timeline history. */
export interface TimelineHistoryEntry {
  timeline: number;
  /** The LSN where that timeline ended (as a byte position) and its text form. */
  lsn: number;
  lsnText: string;
  reason: string;
  /** ISO time of the switch, when Patroni recorded it. */
  at?: string;
  /** The member that became leader on the next timeline, when recorded. */
  newLeader?: string;
}

/** `GET /patroni` of one member (per member detail, and the leader's replication rows). */
export interface PatroniMemberStatus {
  name?: string;
  role: PatroniRole;
  rawRole: string;
  state: PatroniState;
  rawState: string;
  timeline?: number;
  serverVersion?: number;
  patroniVersion?: string;
  scope?: string;
  postmasterStartTime?: string;
  /** On a primary: current WAL position. On a replica: received and replayed positions. */
  walLsn?: number;
  receivedLsn?: number;
  replayedLsn?: number;
  replayedTimestamp?: string;
  replayPaused?: boolean;
  /** Seconds since the last time this member heard from the DCS. */
  dcsLastSeen?: number;
  /** (added by the adapters) When the member last heard from the DCS (Patroni's `dcs_last_seen`, an epoch second), ISO. */
  dcsLastSeenAt?: string;
  /** (added by the adapters) Patroni says no member holds the leader key (`cluster_unlocked`). */
  clusterUnlocked?: boolean;
  pendingRestart: boolean;
  pendingRestartReason?: Record<string, { oldValue: string; newValue: string }>;
  paused: boolean;
  tags: Record<string, unknown>;
  /** On the leader: its replication connections as Patroni reports them. */
  replication: Array<{ applicationName: string; clientAddr?: string; state: string; syncState?: string }>;
  databaseSystemIdentifier?: string;
}

/** (added by the adapters) What a state-changing Patroni call answered (2xx only; refusals are ServiceErrors). */
export interface PatroniActionResult {
  /** Which REST endpoint took the request. */
  endpoint: string;
  httpStatus: number;
  /** Patroni's own words, e.g. `Successfully switched over to "db2"` or `Switchover scheduled`. */
  message: string;
  /** 202: Patroni accepted it for later (a scheduled switchover or restart). */
  scheduled: boolean;
}

/** The dynamic configuration (`GET /config` or the DCS `config` key). */
export interface PatroniDynamicConfig {
  ttl?: number;
  loopWait?: number;
  retryTimeout?: number;
  maximumLagOnFailover?: number;
  synchronousMode?: boolean;
  paused: boolean;
  raw: Record<string, unknown>;
}

// ---------------------------------------------------------------- etcd

export interface EtcdLeaderKey {
  holder: string;
  /** The lease that keeps the key; its remaining TTL counts down to the failover. */
  leaseId?: string;
  leaseTtlSeconds?: number;
  leaseGrantedTtlSeconds?: number;
  modRevision?: number;
}

/** The Patroni keys under /<namespace>/<scope>/, decoded. */
export interface DcsView {
  leader?: EtcdLeaderKey;
  /** members/<name>: the JSON each member publishes (conn_url, api_url, role, state, timeline, xlog_location, tags…). */
  members: Record<string, Record<string, unknown>>;
  config?: PatroniDynamicConfig;
  history: TimelineHistoryEntry[];
  /** `status` key: the leader's last known WAL position and slots. */
  status?: { optime?: number; slots?: Record<string, number> };
  initialize?: string;
  sync?: { leader?: string; syncStandby?: string };
  failover?: { leader?: string; member?: string; scheduledAt?: string };
  revision: number;
}

/** (added by the adapters) What the etcd watch on /<namespace>/<scope>/ reports. */
export type DcsWatchEvent =
  | {
      kind: 'put' | 'delete';
      key: string;
      /** The key relative to the scope prefix, e.g. `leader`, `members/db1`. */
      name: string;
      revision: number;
      /** The new value of a put (UTF-8), when the watch carries it. */
      value?: string;
    }
  | { kind: 'connected' }
  | { kind: 'disconnected'; error: string };

export interface EtcdMemberHealth {
  name: string;
  endpoint: string;
  healthy: boolean;
  isLeader?: boolean;
  error?: string;
}

export type QuorumState = 'healthy' | 'degraded' | 'lost';

export interface EtcdClusterHealth {
  members: EtcdMemberHealth[];
  quorum: QuorumState;
}

// ---------------------------------------------------------------- PostgreSQL

export interface ReplicationRow {
  applicationName: string;
  clientAddr?: string;
  state: string;
  syncState?: string;
  sentLsn?: string;
  writeLsn?: string;
  flushLsn?: string;
  replayLsn?: string;
  /** Bytes behind the primary's current LSN. */
  writeLagBytes?: number;
  flushLagBytes?: number;
  replayLagBytes?: number;
  /** Seconds (PostgreSQL's write_lag / flush_lag / replay_lag intervals). */
  writeLagSeconds?: number;
  flushLagSeconds?: number;
  replayLagSeconds?: number;
}

export interface WalReceiverStatus {
  status: string;
  senderHost?: string;
  senderPort?: number;
  receivedLsn?: string;
  receivedTimeline?: number;
  lastMessageAt?: string;
  slotName?: string;
}

export interface ArchiverStatus {
  archivedCount: number;
  lastArchivedWal?: string;
  lastArchivedAt?: string;
  failedCount: number;
  lastFailedWal?: string;
  lastFailedAt?: string;
  /** last_failed_time > last_archived_time */
  failing: boolean;
  /** Number of .ready files in pg_wal/archive_status (segments waiting to be archived). */
  readyBacklog?: number;
}

export interface SessionRow {
  pid: number;
  user?: string;
  database?: string;
  applicationName?: string;
  clientAddr?: string;
  state?: string;
  xactStart?: string;
  xactAgeSeconds?: number;
  queryAgeSeconds?: number;
  waitEvent?: string;
  query?: string;
}

export interface BlockingRow {
  blockedPid: number;
  blockingPid: number;
  blockedQuery?: string;
  blockingQuery?: string;
  blockedSeconds?: number;
}

export interface PostgresMemberStatus {
  inRecovery: boolean;
  serverVersion: string;
  timeline?: number;
  currentLsn?: string;
  receiveLsn?: string;
  replayLsn?: string;
  replayPaused?: boolean;
  /** Seconds since the last replayed transaction committed on the primary (replica only). */
  replayDelaySeconds?: number;
  replication: ReplicationRow[];
  walReceiver?: WalReceiverStatus;
  archiver?: ArchiverStatus;
  connectionsByState: Record<string, number>;
  maxConnections?: number;
  longestTransactions: SessionRow[];
  idleInTransaction: SessionRow[];
  blocking: BlockingRow[];
}

// ---------------------------------------------------------------- HAProxy

export interface HaproxyServer {
  backend: string;
  server: string;
  /** UP, DOWN, MAINT, no check, … as HAProxy says it (UP 1/2 etc. normalized to the word). */
  status: string;
  up: boolean;
  currentSessions?: number;
  lastChangeSeconds?: number;
  checkStatus?: string;
}

export interface HaproxyRouting {
  servers: HaproxyServer[];
  /** Members the write backend routes to (should be exactly the leader). */
  writeTargets: string[];
  readTargets: string[];
}

// ---------------------------------------------------------------- Barman

export type BackupStatus = 'DONE' | 'STARTED' | 'FAILED' | 'WAITING_FOR_WALS' | 'EMPTY' | 'SYNCING' | string;

export interface BarmanBackup {
  id: string;
  status: BackupStatus;
  beginTime?: string;
  endTime?: string;
  beginWal?: string;
  endWal?: string;
  beginLsn?: string;
  endLsn?: string;
  timeline?: number;
  sizeBytes?: number;
  walSizeBytes?: number;
  durationSeconds?: number;
  error?: string;
}

export interface BarmanServerStatus {
  active: boolean;
  lastArchivedWal?: string;
  lastArchivedAt?: string;
  firstBackupId?: string;
  lastBackupId?: string;
  backupCount?: number;
  raw: Record<string, string>;
}

export interface BarmanCheck {
  ok: boolean;
  checks: Array<{ name: string; ok: boolean; hint?: string }>;
}

// ---------------------------------------------------------------- exec transports

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where Barman commands and log tails run: locally (optionally as another account), over ssh, or in a container. */
export interface ExecTransport {
  readonly description: string;
  exec(argv: string[], options?: CallOptions): Promise<ExecResult>;
  /** Stream a long-running command's output line by line (e.g. `tail -F`); ends when the signal aborts. */
  stream?(argv: string[], onLine: (line: string) => void, options?: CallOptions): Promise<ExecResult>;
}
