import type pg from 'pg';
import { readSecret } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import { networkError, timeoutError, withDeadline } from './errors.js';
import type {
  ArchiverStatus,
  BlockingRow,
  CallOptions,
  PostgresMemberStatus,
  ReplicationRow,
  SessionRow,
  WalReceiverStatus,
} from './types.js';
import { ServiceError } from './types.js';

/**
 * PostgreSQL adapter (pg): one connection per member, kept between polls and re-opened after any error.
 * `status()` reads everything in one round trip: one multi-statement query (recovery state, LSNs,
 * pg_stat_replication, pg_stat_wal_receiver, pg_stat_archiver, activity, locks and the archiver's `.ready`
 * backlog). The backlog needs pg_monitor or superuser: the first status asks for it apart (a refusal must not
 * fail the rest) and later ones include it in the batch only when it was allowed.
 * Needs PostgreSQL 10 or newer (pg_wal_* names).
 */

export interface PostgresMemberOptions {
  /** The member's name, for messages (db1). */
  name: string;
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
  sslmode?: ClusterConfig['postgres']['sslmode'];
  timeoutMs: number;
  /** Rows kept of the longest transactions and idle-in-transaction sessions (default 5 and 20). */
  longestTransactionsLimit?: number;
  idleInTransactionLimit?: number;
}

const QUERY_TEXT_LIMIT = 500;

/**
 * One simple-protocol batch. Every statement is safe on a primary and on a standby (functions that fail on one
 * of them are guarded by CASE on pg_is_in_recovery()). Results come back in this order.
 */
function statusSql(longestLimit: number, idleLimit: number): string {
  return `
SELECT pg_is_in_recovery() AS in_recovery,
       current_setting('server_version') AS server_version,
       current_setting('max_connections')::int AS max_connections,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
       pg_last_wal_receive_lsn()::text AS receive_lsn,
       pg_last_wal_replay_lsn()::text AS replay_lsn,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END AS replay_paused,
       CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE greatest(0, extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()))::float8 END AS replay_delay_seconds,
       CASE WHEN pg_is_in_recovery()
            THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver WHERE received_tli > 0 LIMIT 1), (pg_control_checkpoint()).timeline_id)
            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline;
SELECT application_name, host(client_addr) AS client_addr, state, sync_state,
       sent_lsn::text AS sent_lsn, write_lsn::text AS write_lsn, flush_lsn::text AS flush_lsn, replay_lsn::text AS replay_lsn,
       pg_wal_lsn_diff(w.current_lsn, write_lsn)::float8 AS write_lag_bytes,
       pg_wal_lsn_diff(w.current_lsn, flush_lsn)::float8 AS flush_lag_bytes,
       pg_wal_lsn_diff(w.current_lsn, replay_lsn)::float8 AS replay_lag_bytes,
       extract(epoch FROM write_lag)::float8 AS write_lag_seconds,
       extract(epoch FROM flush_lag)::float8 AS flush_lag_seconds,
       extract(epoch FROM replay_lag)::float8 AS replay_lag_seconds
  FROM pg_stat_replication,
       LATERAL (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END AS current_lsn) w
 ORDER BY application_name;
SELECT to_jsonb(r) AS row FROM pg_stat_wal_receiver r;
SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal, last_failed_time FROM pg_stat_archiver;
SELECT coalesce(state, 'unknown') AS state, count(*)::int AS count
  FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1;
SELECT pid, usename, datname, application_name, host(client_addr) AS client_addr, state, xact_start,
       greatest(0, extract(epoch FROM clock_timestamp() - xact_start))::float8 AS xact_age_seconds,
       greatest(0, extract(epoch FROM clock_timestamp() - query_start))::float8 AS query_age_seconds,
       wait_event, left(query, ${QUERY_TEXT_LIMIT}) AS query
  FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
 ORDER BY xact_start LIMIT ${longestLimit};
SELECT pid, usename, datname, application_name, host(client_addr) AS client_addr, state, xact_start,
       greatest(0, extract(epoch FROM clock_timestamp() - xact_start))::float8 AS xact_age_seconds,
       greatest(0, extract(epoch FROM clock_timestamp() - state_change))::float8 AS query_age_seconds,
       wait_event, left(query, ${QUERY_TEXT_LIMIT}) AS query
  FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND state LIKE 'idle in transaction%'
 ORDER BY state_change LIMIT ${idleLimit};
SELECT blocked.pid AS blocked_pid, blocking.pid AS blocking_pid,
       left(blocked.query, ${QUERY_TEXT_LIMIT}) AS blocked_query, left(blocking.query, ${QUERY_TEXT_LIMIT}) AS blocking_query,
       greatest(0, extract(epoch FROM clock_timestamp() - blocked.query_start))::float8 AS blocked_seconds
  FROM pg_stat_activity blocked
  CROSS JOIN LATERAL unnest(pg_blocking_pids(blocked.pid)) AS b(pid)
  JOIN pg_stat_activity blocking ON blocking.pid = b.pid
 ORDER BY blocked.query_start;`;
}

const READY_BACKLOG_SQL = `SELECT count(*)::int AS ready FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'`;

type Row = Record<string, unknown>;

function str(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  return text === '' ? undefined : text;
}

function num(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function time(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

export function toReplicationRow(r: Row): ReplicationRow {
  const row: ReplicationRow = { applicationName: str(r.application_name) ?? '', state: str(r.state) ?? '' };
  assign(row, 'clientAddr', str(r.client_addr));
  assign(row, 'syncState', str(r.sync_state));
  assign(row, 'sentLsn', str(r.sent_lsn));
  assign(row, 'writeLsn', str(r.write_lsn));
  assign(row, 'flushLsn', str(r.flush_lsn));
  assign(row, 'replayLsn', str(r.replay_lsn));
  assign(row, 'writeLagBytes', num(r.write_lag_bytes));
  assign(row, 'flushLagBytes', num(r.flush_lag_bytes));
  assign(row, 'replayLagBytes', num(r.replay_lag_bytes));
  assign(row, 'writeLagSeconds', num(r.write_lag_seconds));
  assign(row, 'flushLagSeconds', num(r.flush_lag_seconds));
  assign(row, 'replayLagSeconds', num(r.replay_lag_seconds));
  return row;
}

/** pg_stat_wal_receiver as JSON, so that column renames across versions (received_lsn → written_lsn/flushed_lsn in 13) don't matter. */
export function toWalReceiver(json: Row): WalReceiverStatus {
  const status: WalReceiverStatus = { status: str(json.status) ?? 'unknown' };
  assign(status, 'senderHost', str(json.sender_host));
  assign(status, 'senderPort', num(json.sender_port));
  assign(status, 'receivedLsn', str(json.flushed_lsn) ?? str(json.received_lsn) ?? str(json.written_lsn));
  assign(status, 'receivedTimeline', num(json.received_tli));
  assign(status, 'lastMessageAt', str(json.last_msg_receipt_time));
  assign(status, 'slotName', str(json.slot_name));
  return status;
}

export function toArchiver(r: Row, readyBacklog: number | undefined): ArchiverStatus {
  const lastArchived = time(r.last_archived_time);
  const lastFailed = time(r.last_failed_time);
  const archiver: ArchiverStatus = {
    archivedCount: num(r.archived_count) ?? 0,
    failedCount: num(r.failed_count) ?? 0,
    failing: lastFailed !== undefined && (lastArchived === undefined || lastFailed > lastArchived),
  };
  assign(archiver, 'lastArchivedWal', str(r.last_archived_wal));
  assign(archiver, 'lastArchivedAt', str(r.last_archived_time));
  assign(archiver, 'lastFailedWal', str(r.last_failed_wal));
  assign(archiver, 'lastFailedAt', str(r.last_failed_time));
  assign(archiver, 'readyBacklog', readyBacklog);
  return archiver;
}

function toSession(r: Row): SessionRow {
  const session: SessionRow = { pid: num(r.pid) ?? 0 };
  assign(session, 'user', str(r.usename));
  assign(session, 'database', str(r.datname));
  assign(session, 'applicationName', str(r.application_name));
  assign(session, 'clientAddr', str(r.client_addr));
  assign(session, 'state', str(r.state));
  assign(session, 'xactStart', str(r.xact_start));
  assign(session, 'xactAgeSeconds', num(r.xact_age_seconds));
  assign(session, 'queryAgeSeconds', num(r.query_age_seconds));
  assign(session, 'waitEvent', str(r.wait_event));
  assign(session, 'query', str(r.query));
  return session;
}

function toBlocking(r: Row): BlockingRow {
  const row: BlockingRow = { blockedPid: num(r.blocked_pid) ?? 0, blockingPid: num(r.blocking_pid) ?? 0 };
  assign(row, 'blockedQuery', str(r.blocked_query));
  assign(row, 'blockingQuery', str(r.blocking_query));
  assign(row, 'blockedSeconds', num(r.blocked_seconds));
  return row;
}

let pgModule: Promise<typeof pg> | undefined;

/**
 * node-postgres, loaded on the first connection: the cockpit's first frame needs Patroni only, and loading pg
 * is a tenth of its start-up.
 */
export function loadPg(): Promise<typeof pg> {
  pgModule ??= import('pg').then((module) => module.default);
  return pgModule;
}

/** SQLSTATEs that mean "who you are was refused" rather than "something broke". */
const AUTH_SQLSTATES = new Set(['28P01', '28000', '42501']);

export class PostgresMemberClient {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private connectingClient: pg.Client | undefined;
  private readonly what: string;
  private readonly endpoint: string;
  /** May this user read the archiver's `.ready` backlog (pg_ls_archive_statusdir)? Learnt on the first status. */
  private backlogAllowed: boolean | undefined;

  constructor(private readonly options: PostgresMemberOptions) {
    this.endpoint = `${options.host}:${options.port}`;
    this.what = `PostgreSQL ${options.name} (${this.endpoint})`;
  }

  /** For one member, from a cluster's `postgres` section and the member's host and port (from /cluster or the DCS). */
  static fromConfig(config: ClusterConfig['postgres'], member: { name: string; host: string; port: number }, env: NodeJS.ProcessEnv = process.env): PostgresMemberClient {
    const options: PostgresMemberOptions = {
      name: member.name,
      host: member.host,
      port: member.port,
      user: config.user,
      database: config.database,
      timeoutMs: config.timeoutMs,
    };
    const password = readSecret(config, env);
    if (password !== undefined) options.password = password;
    if (config.sslmode) options.sslmode = config.sslmode;
    return new PostgresMemberClient(options);
  }

  get memberName(): string {
    return this.options.name;
  }

  /** Close the kept connection (the next call opens a new one). */
  async close(): Promise<void> {
    const client = this.client ?? this.connectingClient;
    this.client = undefined;
    this.connecting = undefined;
    this.connectingClient = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  private drop(client: pg.Client | undefined): void {
    if (client && this.client === client) this.client = undefined;
    if (client && this.connectingClient === client) {
      this.connecting = undefined;
      this.connectingClient = undefined;
    }
    // end() on a broken or busy connection: destroy the socket, don't wait for it.
    if (client) void client.end().catch(() => undefined);
  }

  private sslOption(): pg.ClientConfig['ssl'] {
    switch (this.options.sslmode) {
      case undefined:
      case 'disable':
      case 'prefer':
        return undefined;
      case 'require':
        return { rejectUnauthorized: false };
      case 'verify-ca':
      case 'verify-full':
        return { rejectUnauthorized: true };
    }
  }

  private connect(timeoutMs: number): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    const connecting: Promise<pg.Client> = loadPg().then((module) => {
      // Closed while pg loaded: nothing to open.
      if (this.connecting !== connecting) throw new ServiceError('postgres', 'unreachable', `${this.what}: the connection was closed`, this.endpoint);
      return this.open(module, timeoutMs);
    });
    this.connecting = connecting;
    return connecting;
  }

  private open(module: typeof pg, timeoutMs: number): Promise<pg.Client> {
    const ssl = this.sslOption();
    const client = new module.Client({
      host: this.options.host,
      port: this.options.port,
      user: this.options.user,
      database: this.options.database,
      ...(this.options.password === undefined ? {} : { password: this.options.password }),
      ...(ssl === undefined ? {} : { ssl }),
      application_name: 'pgcockpit',
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      keepAlive: true,
    });
    // An idle kept connection that dies (server restart, failover) reports here; forget it, reopen next time.
    client.on('error', () => this.drop(client));
    client.on('end', () => this.drop(client));
    this.connectingClient = client;
    return client.connect().then(
      () => {
        this.client = client;
        this.connecting = undefined;
        this.connectingClient = undefined;
        return client;
      },
      (error: unknown) => {
        this.drop(client);
        throw error;
      },
    );
  }

  private describe(error: unknown): ServiceError {
    if (error instanceof ServiceError) return error;
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      if (AUTH_SQLSTATES.has(code)) return new ServiceError('postgres', 'auth', `${this.what} refused ${this.options.user}: ${message}`, this.endpoint, { cause: error });
      if (code === '57014') return new ServiceError('postgres', 'timeout', `${this.what} cancelled the status query (statement_timeout ${this.options.timeoutMs} ms)`, this.endpoint, { cause: error });
      if (code === '57P03') return new ServiceError('postgres', 'unreachable', `${this.what} is not accepting connections yet: ${message}`, this.endpoint, { cause: error });
      // The server ended this session (pg_terminate_backend, a shutdown, a crash): the connection is gone.
      if (code === '57P01' || code === '57P02') return new ServiceError('postgres', 'unreachable', `${this.what} closed the connection: ${message}`, this.endpoint, { cause: error });
      return new ServiceError('postgres', 'failed', `${this.what} answered an error (${code}): ${message}`, this.endpoint, { cause: error });
    }
    if (/timeout expired|Connection terminated due to connection timeout/i.test(message)) {
      return timeoutError('postgres', this.what, this.endpoint, this.options.timeoutMs);
    }
    if (/password authentication failed|SASL|no password supplied|client password must be a string/i.test(message)) {
      return new ServiceError('postgres', 'auth', `${this.what} refused ${this.options.user}: ${message}`, this.endpoint, { cause: error });
    }
    return networkError('postgres', this.what, this.endpoint, error);
  }

  /**
   * Run SQL on the kept connection under a deadline; a connection-level failure drops the connection. When a
   * kept connection turns out dead (the server restarted or was terminated since the last call), the query is
   * retried once on a fresh one, so a poll right after a restart doesn't report a spurious error.
   */
  async query(sql: string, options: CallOptions = {}): Promise<pg.QueryResult | pg.QueryResult[]> {
    const reused = this.client !== undefined;
    try {
      return await this.queryOnce(sql, options);
    } catch (error) {
      if (reused && error instanceof ServiceError && error.kind === 'unreachable' && !options.signal?.aborted) return this.queryOnce(sql, options);
      throw error;
    }
  }

  private async queryOnce(sql: string, options: CallOptions): Promise<pg.QueryResult | pg.QueryResult[]> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    let used: pg.Client | undefined;
    try {
      return await withDeadline(
        timeoutMs,
        options.signal,
        () => timeoutError('postgres', this.what, this.endpoint, timeoutMs),
        async () => {
          used = await this.connect(timeoutMs);
          return (await used.query(sql)) as pg.QueryResult | pg.QueryResult[];
        },
        () => this.drop(used ?? this.client),
      );
    } catch (error) {
      if (error instanceof ServiceError && error.kind === 'timeout') throw error;
      if (options.signal?.aborted) throw error;
      const described = this.describe(error);
      // A failed statement leaves the connection usable, but a broken one doesn't: only keep it on SQL errors.
      if (described.kind !== 'failed') this.drop(used ?? this.client);
      throw described;
    }
  }

  async status(options: CallOptions = {}): Promise<PostgresMemberStatus> {
    const longestLimit = this.options.longestTransactionsLimit ?? 5;
    const idleLimit = this.options.idleInTransactionLimit ?? 20;
    // One round trip: the backlog rides in the batch once it is known to be allowed.
    const withBacklog = this.backlogAllowed === true;
    const expected = withBacklog ? 9 : 8;
    let results;
    try {
      results = await this.query(withBacklog ? `${statusSql(longestLimit, idleLimit)}
${READY_BACKLOG_SQL};` : statusSql(longestLimit, idleLimit), options);
    } catch (error) {
      // (Refused now, e.g. pg_monitor revoked: ask for it apart again next time.)
      if (withBacklog && error instanceof ServiceError && (error.kind === 'auth' || error.kind === 'failed')) this.backlogAllowed = undefined;
      throw error;
    }
    if (!Array.isArray(results) || results.length !== expected) {
      throw new ServiceError('postgres', 'malformed', `${this.what} answered ${Array.isArray(results) ? results.length : 1} result sets to the status batch, expected ${expected}`, this.endpoint);
    }
    const [main, replication, receiver, archiver, connections, longest, idle, blocking, backlog] = results as [pg.QueryResult, pg.QueryResult, pg.QueryResult, pg.QueryResult, pg.QueryResult, pg.QueryResult, pg.QueryResult, pg.QueryResult, pg.QueryResult | undefined];
    const m = (main.rows[0] ?? {}) as Row;
    let readyBacklog: number | undefined = backlog ? num((backlog.rows[0] as Row | undefined)?.ready) : undefined;
    if (this.backlogAllowed === undefined) {
      // The first time: apart, since it needs pg_monitor (or superuser) and a refusal must not fail the rest.
      try {
        const ready = await this.query(READY_BACKLOG_SQL, options);
        readyBacklog = num(((Array.isArray(ready) ? ready[0] : ready)?.rows[0] as Row | undefined)?.ready);
        this.backlogAllowed = true;
      } catch (error) {
        // Without pg_monitor the backlog stays unknown; only a lost connection or a timeout fails the status.
        if (!(error instanceof ServiceError) || (error.kind !== 'auth' && error.kind !== 'failed')) throw error;
        this.backlogAllowed = false;
      }
    }
    const status: PostgresMemberStatus = {
      inRecovery: m.in_recovery === true,
      serverVersion: str(m.server_version) ?? '',
      replication: replication.rows.map((r) => toReplicationRow(r as Row)),
      connectionsByState: Object.fromEntries(connections.rows.map((r) => [String((r as Row).state), num((r as Row).count) ?? 0])),
      longestTransactions: longest.rows.map((r) => toSession(r as Row)),
      idleInTransaction: idle.rows.map((r) => toSession(r as Row)),
      blocking: blocking.rows.map((r) => toBlocking(r as Row)),
    };
    assign(status, 'timeline', num(m.timeline));
    assign(status, 'currentLsn', str(m.current_lsn));
    assign(status, 'receiveLsn', str(m.receive_lsn));
    assign(status, 'replayLsn', str(m.replay_lsn));
    if (typeof m.replay_paused === 'boolean') status.replayPaused = m.replay_paused;
    assign(status, 'replayDelaySeconds', num(m.replay_delay_seconds));
    assign(status, 'maxConnections', num(m.max_connections));
    const receiverRow = receiver.rows[0] as Row | undefined;
    if (receiverRow && typeof receiverRow.row === 'object' && receiverRow.row) status.walReceiver = toWalReceiver(receiverRow.row as Row);
    const archiverRow = archiver.rows[0] as Row | undefined;
    if (archiverRow) status.archiver = toArchiver(archiverRow, readyBacklog);
    return status;
  }
}
