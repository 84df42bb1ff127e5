import '../util/zod-setup.js';
import * as z from 'zod/mini';
import { readSecret } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import type { HttpAgent, HttpAnswer, HttpTls } from './http.js';
import type { TlsConnectOptions } from './http.js';
import { basicAuthHeader, createAgent, httpCall, httpGetOnce, originOf, parseJson, tlsConnectOptions } from './http.js';
import type {
  CallOptions,
  PatroniActionResult,
  PatroniCluster,
  PatroniClusterMember,
  PatroniDynamicConfig,
  PatroniMemberStatus,
  PatroniRole,
  PatroniState,
  TimelineHistoryEntry,
} from './types.js';
import { ServiceError } from './types.js';
import { formatLsn, parseLsn } from '../util/units.js';

/**
 * Patroni REST client (undici). Reads: /cluster, /history, /patroni, /config. Writes (for the operations
 * layer): /switchover, /failover, /restart, /reinitialize, /reload, PATCH /config. Every answer is validated
 * with zod and normalized so that Patroni 3.x and 4.x payloads read the same (see the normalize* functions,
 * which are pure and unit-tested on recorded payloads).
 */

// ------------------------------------------------------------------ schemas (what Patroni may send)

const numberish = z.union([z.number(), z.string()]);
const tagsSchema = z.record(z.string(), z.unknown());
const pendingRestartReasonSchema = z.record(z.string(), z.looseObject({ old_value: z.optional(z.unknown()), new_value: z.optional(z.unknown()) }));
const scheduledRestartSchema = z.looseObject({ schedule: z.string(), postgres_version: z.optional(z.unknown()) });

export const patroniClusterMemberSchema = z.looseObject({
  name: z.string(),
  role: z.optional(z.string()),
  state: z.optional(z.string()),
  api_url: z.nullish(z.string()),
  host: z.nullish(z.string()),
  port: z.nullish(numberish),
  timeline: z.nullish(z.int()),
  lag: z.nullish(numberish),
  lsn: z.nullish(z.string()),
  receive_lag: z.nullish(numberish),
  receive_lsn: z.nullish(z.string()),
  replay_lag: z.nullish(numberish),
  replay_lsn: z.nullish(z.string()),
  pending_restart: z.nullish(z.boolean()),
  pending_restart_reason: z.nullish(pendingRestartReasonSchema),
  scheduled_restart: z.nullish(scheduledRestartSchema),
  tags: z.nullish(tagsSchema),
});

export const patroniClusterSchema = z.looseObject({
  members: z.array(patroniClusterMemberSchema),
  pause: z.nullish(z.boolean()),
  scope: z.nullish(z.string()),
  scheduled_switchover: z.nullish(z.looseObject({ at: z.string(), from: z.nullish(z.string()), to: z.nullish(z.string()) })),
});

/** /history and the DCS `history` key: [timeline, lsn, reason, timestamp?, new leader?] per line. */
export const patroniHistorySchema = z.array(z.tuple([numberish, numberish], z.union([z.string(), z.number(), z.null()])));

export const patroniMemberStatusSchema = z.looseObject({
  state: z.optional(z.string()),
  role: z.optional(z.string()),
  server_version: z.nullish(z.int()),
  postmaster_start_time: z.nullish(z.string()),
  timeline: z.nullish(z.int()),
  xlog: z.nullish(
    z.looseObject({
      location: z.nullish(z.number()),
      received_location: z.nullish(z.number()),
      replayed_location: z.nullish(z.number()),
      replayed_timestamp: z.nullish(z.string()),
      paused: z.nullish(z.boolean()),
    }),
  ),
  replication: z.nullish(
    z.array(
      z.looseObject({
        usename: z.nullish(z.string()),
        application_name: z.string(),
        client_addr: z.nullish(z.string()),
        state: z.nullish(z.string()),
        sync_state: z.nullish(z.string()),
        sync_priority: z.nullish(z.number()),
      }),
    ),
  ),
  dcs_last_seen: z.nullish(z.number()),
  pending_restart: z.nullish(z.boolean()),
  pending_restart_reason: z.nullish(pendingRestartReasonSchema),
  pause: z.nullish(z.boolean()),
  cluster_unlocked: z.nullish(z.boolean()),
  tags: z.nullish(tagsSchema),
  database_system_identifier: z.nullish(z.string()),
  scheduled_restart: z.nullish(scheduledRestartSchema),
  patroni: z.nullish(z.looseObject({ version: z.nullish(z.string()), scope: z.nullish(z.string()), name: z.nullish(z.string()) })),
});

export const patroniConfigSchema = z.looseObject({
  ttl: z.nullish(numberish),
  loop_wait: z.nullish(numberish),
  retry_timeout: z.nullish(numberish),
  maximum_lag_on_failover: z.nullish(numberish),
  synchronous_mode: z.nullish(z.union([z.boolean(), z.string()])),
  pause: z.nullish(z.boolean()),
});

// ------------------------------------------------------------------ normalization (pure)

/** `master` (≤3.x), `primary` (4.x) and `leader` (/cluster) are all the leader; `quorum_standby` (4.x) is a sync standby. */
export function normalizeRole(raw: string | undefined | null): PatroniRole {
  switch (raw) {
    case 'leader':
    case 'master':
    case 'primary':
      return 'leader';
    case 'standby_leader':
    case 'standby-leader':
      return 'standby_leader';
    case 'replica':
      return 'replica';
    case 'sync_standby':
    case 'quorum_standby':
      return 'sync_standby';
    default:
      return 'unknown';
  }
}

const KNOWN_STATES: ReadonlySet<string> = new Set<PatroniState>([
  'running',
  'streaming',
  'in archive recovery',
  'starting',
  'stopping',
  'stopped',
  'restarting',
  'initializing new cluster',
  'creating replica',
  'crashed',
  'start failed',
]);

export function normalizeState(raw: string | undefined | null): PatroniState {
  return raw && KNOWN_STATES.has(raw) ? (raw as PatroniState) : 'unknown';
}

function toNumber(value: number | string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function isUnknown(value: unknown): boolean {
  return typeof value === 'string' && value.trim().toLowerCase() === 'unknown';
}

function lsnOrUndefined(value: string | null | undefined): string | undefined {
  return value && !isUnknown(value) ? value : undefined;
}

function isTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && ['true', 'on', 'yes', '1'].includes(value.toLowerCase()));
}

function normalizePendingReason(raw: z.infer<typeof pendingRestartReasonSchema> | null | undefined): PatroniClusterMember['pendingRestartReason'] {
  if (!raw) return undefined;
  const out: NonNullable<PatroniClusterMember['pendingRestartReason']> = {};
  for (const [name, diff] of Object.entries(raw)) {
    out[name] = { oldValue: diff.old_value === undefined || diff.old_value === null ? '' : String(diff.old_value), newValue: diff.new_value === undefined || diff.new_value === null ? '' : String(diff.new_value) };
  }
  return out;
}

export { formatLsn, parseLsn };

export function normalizeClusterMember(raw: z.infer<typeof patroniClusterMemberSchema>): PatroniClusterMember {
  const tags = raw.tags ?? {};
  const rawRole = raw.role ?? '';
  const rawState = raw.state ?? '';
  const member: PatroniClusterMember = {
    name: raw.name,
    role: normalizeRole(rawRole),
    rawRole,
    state: normalizeState(rawState),
    rawState,
    lagUnknown: false,
    pendingRestart: raw.pending_restart === true,
    tags,
    nofailover: isTrue(tags.nofailover),
    noloadbalance: isTrue(tags.noloadbalance),
  };
  if (raw.api_url) member.apiUrl = raw.api_url;
  if (raw.host) member.host = raw.host;
  const port = toNumber(raw.port);
  if (port !== undefined) member.port = port;
  if (raw.timeline !== undefined && raw.timeline !== null) member.timeline = raw.timeline;

  // 4.1+: receive_lag/replay_lag with their LSNs (the old `lag`/`lsn` pair is still sent alongside);
  // ≤ 4.0: the single `lag`, counted from max(received, replayed) (lagBasis). The leader has none of these.
  const has41 = raw.replay_lag !== undefined || raw.receive_lag !== undefined;
  const replayLag = has41 ? raw.replay_lag : raw.lag;
  if (isUnknown(replayLag)) member.lagUnknown = true;
  const replayLagBytes = isUnknown(replayLag) ? undefined : toNumber(replayLag);
  if (replayLagBytes !== undefined) {
    member.replayLagBytes = replayLagBytes;
    member.lagBasis = has41 ? 'replay' : 'wal-position';
  }
  if (has41) {
    const receiveLagBytes = isUnknown(raw.receive_lag) ? undefined : toNumber(raw.receive_lag);
    if (receiveLagBytes !== undefined) member.receiveLagBytes = receiveLagBytes;
    const receiveLsn = lsnOrUndefined(raw.receive_lsn);
    if (receiveLsn) member.receiveLsn = receiveLsn;
    const replayLsn = lsnOrUndefined(raw.replay_lsn);
    if (replayLsn) member.replayLsn = replayLsn;
  } else {
    const lsn = lsnOrUndefined(raw.lsn);
    if (lsn) member.replayLsn = lsn;
  }
  const reason = normalizePendingReason(raw.pending_restart_reason);
  if (reason) {
    member.pendingRestartReason = reason;
    member.pendingRestart = true;
  }
  if (raw.scheduled_restart) {
    member.scheduledRestart = { at: raw.scheduled_restart.schedule };
    const version = raw.scheduled_restart.postgres_version;
    if (version !== undefined && version !== null) member.scheduledRestart.postgresVersion = String(version);
  }
  return member;
}

export function normalizeCluster(raw: z.infer<typeof patroniClusterSchema>, endpoint: string): PatroniCluster {
  const cluster: PatroniCluster = {
    members: raw.members.map(normalizeClusterMember),
    paused: raw.pause === true,
    endpoint,
  };
  if (raw.scheduled_switchover) {
    cluster.scheduledSwitchover = { at: raw.scheduled_switchover.at };
    if (raw.scheduled_switchover.from) cluster.scheduledSwitchover.from = raw.scheduled_switchover.from;
    if (raw.scheduled_switchover.to) cluster.scheduledSwitchover.to = raw.scheduled_switchover.to;
  }
  return cluster;
}

export function normalizeHistory(raw: z.infer<typeof patroniHistorySchema>): TimelineHistoryEntry[] {
  return raw.map((line) => {
    const [timeline, lsn, reason, at, newLeader] = line;
    const position = toNumber(lsn) ?? 0;
    const entry: TimelineHistoryEntry = {
      timeline: toNumber(timeline) ?? 0,
      lsn: position,
      lsnText: formatLsn(position),
      reason: typeof reason === 'string' ? reason : '',
    };
    if (typeof at === 'string' && at) entry.at = at;
    if (typeof newLeader === 'string' && newLeader) entry.newLeader = newLeader;
    return entry;
  });
}

export function normalizeMemberStatus(raw: z.infer<typeof patroniMemberStatusSchema>, now: Date = new Date()): PatroniMemberStatus {
  const rawRole = raw.role ?? '';
  const rawState = raw.state ?? '';
  const tags = raw.tags ?? {};
  const status: PatroniMemberStatus = {
    role: normalizeRole(rawRole),
    rawRole,
    state: normalizeState(rawState),
    rawState,
    pendingRestart: raw.pending_restart === true,
    paused: raw.pause === true,
    tags,
    replication: (raw.replication ?? []).map((r) => {
      const row: PatroniMemberStatus['replication'][number] = { applicationName: r.application_name, state: r.state ?? '' };
      if (r.client_addr) row.clientAddr = r.client_addr;
      if (r.sync_state) row.syncState = r.sync_state;
      return row;
    }),
  };
  if (raw.patroni?.name) status.name = raw.patroni.name;
  if (raw.patroni?.version) status.patroniVersion = raw.patroni.version;
  if (raw.patroni?.scope) status.scope = raw.patroni.scope;
  if (raw.timeline !== undefined && raw.timeline !== null) status.timeline = raw.timeline;
  if (raw.server_version !== undefined && raw.server_version !== null) status.serverVersion = raw.server_version;
  if (raw.postmaster_start_time) status.postmasterStartTime = raw.postmaster_start_time;
  const xlog = raw.xlog;
  if (xlog) {
    if (typeof xlog.location === 'number') status.walLsn = xlog.location;
    if (typeof xlog.received_location === 'number') status.receivedLsn = xlog.received_location;
    if (typeof xlog.replayed_location === 'number') status.replayedLsn = xlog.replayed_location;
    if (xlog.replayed_timestamp) status.replayedTimestamp = xlog.replayed_timestamp;
    if (typeof xlog.paused === 'boolean') status.replayPaused = xlog.paused;
  }
  if (typeof raw.dcs_last_seen === 'number' && raw.dcs_last_seen > 0) {
    // Patroni sends the epoch second of its last successful DCS contact.
    status.dcsLastSeenAt = new Date(raw.dcs_last_seen * 1000).toISOString();
    status.dcsLastSeen = Math.max(0, Math.round(now.getTime() / 1000 - raw.dcs_last_seen));
  }
  if (raw.cluster_unlocked === true) status.clusterUnlocked = true;
  const reason = normalizePendingReason(raw.pending_restart_reason);
  if (reason) {
    status.pendingRestartReason = reason;
    status.pendingRestart = true;
  }
  if (raw.database_system_identifier) status.databaseSystemIdentifier = raw.database_system_identifier;
  return status;
}

export function normalizeConfig(raw: z.infer<typeof patroniConfigSchema>): PatroniDynamicConfig {
  const config: PatroniDynamicConfig = { paused: raw.pause === true, raw: raw as Record<string, unknown> };
  const ttl = toNumber(raw.ttl);
  if (ttl !== undefined) config.ttl = ttl;
  const loopWait = toNumber(raw.loop_wait);
  if (loopWait !== undefined) config.loopWait = loopWait;
  const retryTimeout = toNumber(raw.retry_timeout);
  if (retryTimeout !== undefined) config.retryTimeout = retryTimeout;
  const maximumLag = toNumber(raw.maximum_lag_on_failover);
  if (maximumLag !== undefined) config.maximumLagOnFailover = maximumLag;
  if (raw.synchronous_mode !== undefined && raw.synchronous_mode !== null) {
    // 4.x also accepts `synchronous_mode: quorum`.
    config.synchronousMode = raw.synchronous_mode === true || (typeof raw.synchronous_mode === 'string' && ['on', 'true', 'quorum'].includes(raw.synchronous_mode.toLowerCase()));
  }
  return config;
}

// ------------------------------------------------------------------ the client

export interface PatroniClientOptions {
  /** REST base URLs (http://host:8008), tried in order for cluster-wide calls. */
  endpoints: string[];
  auth?: { username: string; password?: string };
  tls?: HttpTls;
  /** Default per-call timeout of reads and quick writes. */
  timeoutMs: number;
  /**
   * Default timeout of switchover, failover, restart and reinit: Patroni answers those only when the action
   * is done (it polls for up to 2 × max(10, loop_wait) s), so they need much longer than a read.
   */
  actionTimeoutMs?: number;
}

export interface SwitchoverRequest {
  leader: string;
  candidate?: string;
  /** ISO 8601 time with a zone; Patroni then answers 202 and runs it at that time. */
  scheduledAt?: string;
}

export interface RestartRequest {
  /** ISO 8601 time with a zone: schedule the restart. */
  scheduledAt?: string;
  /** Restart only when a restart is pending. */
  restartPending?: boolean;
}

const DEFAULT_ACTION_TIMEOUT_MS = 60_000;

/** The REST base of a member from its api_url (which ends with /patroni) or a base URL. */
export function restBase(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, '').replace(/\/patroni$/, '');
}

export class PatroniClient {
  private readonly agent: HttpAgent;
  private readonly authorization: string | undefined;
  private readonly actionTimeoutMs: number;

  private readonly tls: TlsConnectOptions | undefined;

  constructor(private readonly options: PatroniClientOptions) {
    this.tls = options.tls ? tlsConnectOptions(options.tls) : undefined;
    this.agent = createAgent(this.tls);
    this.authorization = options.auth ? basicAuthHeader(options.auth.username, options.auth.password) : undefined;
    this.actionTimeoutMs = options.actionTimeoutMs ?? Math.max(DEFAULT_ACTION_TIMEOUT_MS, options.timeoutMs);
  }

  /** From a cluster's `patroni` config section; the password is read from its reference now. */
  static fromConfig(config: ClusterConfig['patroni'], env: NodeJS.ProcessEnv = process.env): PatroniClient {
    const options: PatroniClientOptions = { endpoints: config.endpoints, timeoutMs: config.timeoutMs };
    if (config.auth) {
      const password = readSecret(config.auth, env);
      options.auth = password === undefined ? { username: config.auth.username } : { username: config.auth.username, password };
    }
    if (config.tls) options.tls = config.tls;
    return new PatroniClient(options);
  }

  get endpoints(): readonly string[] {
    return this.options.endpoints;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  // ---------------------------------------------------------------- reads

  /** GET /cluster from the first endpoint that answers; `endpoint` says which. */
  async getCluster(options: CallOptions = {}): Promise<PatroniCluster> {
    return this.firstAnswering('GET /cluster', async (base) => {
      const answer = await this.expectOk('GET', `${base}/cluster`, options);
      return normalizeCluster(parseJson('patroni', `Patroni REST ${answer.endpoint} /cluster`, answer.endpoint, answer.text, patroniClusterSchema), answer.endpoint);
    });
  }

  /** GET /history: the cluster's timeline history (empty before the first switchover). */
  async getHistory(options: CallOptions = {}): Promise<TimelineHistoryEntry[]> {
    return this.firstAnswering('GET /history', async (base) => {
      const answer = await this.expectOk('GET', `${base}/history`, options);
      return normalizeHistory(parseJson('patroni', `Patroni REST ${answer.endpoint} /history`, answer.endpoint, answer.text, patroniHistorySchema));
    });
  }

  /** GET /patroni of one member (its api_url from /cluster, or its REST base URL). */
  async getMemberStatus(apiUrl: string, options: CallOptions = {}): Promise<PatroniMemberStatus> {
    // /patroni answers 200; a member whose PostgreSQL is down may answer 503 with the same document. Asked on a
    // fresh HTTP/1.0 connection: Patroni closes every connection after its answer, and this is the read asked
    // most often (the leader probe, every member's poll).
    const answer = await this.getOnce(`${restBase(apiUrl)}/patroni`, options);
    if (answer.status !== 200 && answer.status !== 503) throw this.statusError('GET /patroni', answer, 'http');
    return normalizeMemberStatus(parseJson('patroni', `Patroni REST ${answer.endpoint} /patroni`, answer.endpoint, answer.text, patroniMemberStatusSchema));
  }

  /** GET /config: the dynamic configuration stored in the DCS. */
  async getConfig(options: CallOptions = {}): Promise<PatroniDynamicConfig> {
    return this.firstAnswering('GET /config', async (base) => {
      const answer = await this.expectOk('GET', `${base}/config`, options);
      return normalizeConfig(parseJson('patroni', `Patroni REST ${answer.endpoint} /config`, answer.endpoint, answer.text, patroniConfigSchema));
    });
  }

  // ---------------------------------------------------------------- writes

  /** POST /switchover. 200: done (Patroni waits for it); 202: scheduled. 412/503/400: refused, with Patroni's reason. */
  async switchover(request: SwitchoverRequest, options: CallOptions = {}): Promise<PatroniActionResult> {
    const body: Record<string, string> = { leader: request.leader };
    if (request.candidate) body.candidate = request.candidate;
    if (request.scheduledAt) body.scheduled_at = request.scheduledAt;
    return this.clusterAction('POST', '/switchover', body, this.actionOptions(options));
  }

  /** DELETE /switchover: drop the scheduled switchover (404 when none is scheduled → a 'failed' error). */
  async cancelScheduledSwitchover(options: CallOptions = {}): Promise<PatroniActionResult> {
    return this.clusterAction('DELETE', '/switchover', undefined, options);
  }

  /** POST /failover to a candidate (works without a healthy leader; may lose data). */
  async failover(request: { candidate: string }, options: CallOptions = {}): Promise<PatroniActionResult> {
    return this.clusterAction('POST', '/failover', { candidate: request.candidate }, this.actionOptions(options));
  }

  /** POST /restart on one member (immediately, or scheduled; optionally only when a restart is pending). */
  async restart(apiUrl: string, request: RestartRequest = {}, options: CallOptions = {}): Promise<PatroniActionResult> {
    const body: Record<string, unknown> = {};
    if (request.scheduledAt) body.schedule = request.scheduledAt;
    if (request.restartPending) body.restart_pending = true;
    return this.memberAction('POST', apiUrl, '/restart', body, this.actionOptions(options));
  }

  /** POST /reinitialize on one replica (wipes its data directory and clones it again). */
  async reinit(apiUrl: string, request: { force?: boolean } = {}, options: CallOptions = {}): Promise<PatroniActionResult> {
    return this.memberAction('POST', apiUrl, '/reinitialize', request.force ? { force: true } : {}, this.actionOptions(options));
  }

  /** POST /reload on one member (Patroni re-reads its configuration file). */
  async reload(apiUrl: string, options: CallOptions = {}): Promise<PatroniActionResult> {
    return this.memberAction('POST', apiUrl, '/reload', undefined, options);
  }

  /** PATCH /config, e.g. `{ pause: true }`; returns the new dynamic configuration. `null` removes a key. */
  async patchConfig(patch: Record<string, unknown>, options: CallOptions = {}): Promise<PatroniDynamicConfig> {
    return this.firstAnswering('PATCH /config', async (base) => {
      const answer = await this.call('PATCH', `${base}/config`, options, JSON.stringify(patch));
      if (answer.status !== 200) throw this.statusError('PATCH /config', answer, 'failed');
      return normalizeConfig(parseJson('patroni', `Patroni REST ${answer.endpoint} PATCH /config`, answer.endpoint, answer.text, patroniConfigSchema));
    }, /* retryOn */ ['unreachable']);
  }

  // ---------------------------------------------------------------- plumbing

  private actionOptions(options: CallOptions): CallOptions {
    return options.timeoutMs === undefined ? { ...options, timeoutMs: this.actionTimeoutMs } : options;
  }

  private call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, options: CallOptions, body?: string): Promise<HttpAnswer> {
    const headers: Record<string, string> = {};
    if (this.authorization) headers.authorization = this.authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return httpCall({
      source: 'patroni',
      peer: 'Patroni REST',
      agent: this.agent,
      method,
      url,
      headers,
      ...(body === undefined ? {} : { body }),
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** A GET that must answer 200 (asked once on its own connection: see getOnce). */
  private async expectOk(method: 'GET', url: string, options: CallOptions): Promise<HttpAnswer> {
    const answer = await this.getOnce(url, options);
    if (answer.status !== 200) throw this.statusError(`${method} ${new URL(url).pathname}`, answer, 'http');
    return answer;
  }

  /**
   * A GET on a fresh HTTP/1.0 connection: Patroni closes every connection after its answer, so a keep-alive
   * client gains nothing, and the reads need no HTTP client loaded (the cockpit's first frame is /cluster).
   */
  private getOnce(url: string, options: CallOptions): Promise<HttpAnswer> {
    return httpGetOnce(
      {
        source: 'patroni',
        peer: 'Patroni REST',
        url,
        ...(this.authorization ? { headers: { authorization: this.authorization } } : {}),
        timeoutMs: options.timeoutMs ?? this.options.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(this.tls ? { tls: this.tls } : {}),
      },
      this.agent,
    );
  }

  private statusError(what: string, answer: HttpAnswer, otherwise: 'http' | 'failed'): ServiceError {
    const said = answer.text.trim().replace(/\s+/g, ' ').slice(0, 200);
    if (answer.status === 401 || answer.status === 403) {
      return new ServiceError(
        'patroni',
        'auth',
        `Patroni REST ${answer.endpoint} refused ${what} (${answer.status} ${answer.status === 401 ? 'unauthorized: check patroni.auth in the config' : 'forbidden'})${said ? `: ${said}` : ''}`,
        answer.endpoint,
      );
    }
    return new ServiceError('patroni', otherwise, `Patroni REST ${answer.endpoint} answered ${what} with ${answer.status}${said ? `: ${said}` : ''}`, answer.endpoint);
  }

  /**
   * Run a cluster-wide call on the endpoints in order until one answers. Reads move on after any failure of
   * an endpoint; writes pass `retryOn: ['unreachable']`, so a request that may have been applied is never sent twice.
   */
  private async firstAnswering<T>(what: string, run: (base: string) => Promise<T>, retryOn?: ServiceError['kind'][]): Promise<T> {
    const endpoints = this.options.endpoints;
    if (endpoints.length === 0) throw new ServiceError('patroni', 'unreachable', `no Patroni REST endpoint is configured for ${what}`);
    const failures: ServiceError[] = [];
    for (const endpoint of endpoints) {
      try {
        return await run(restBase(endpoint));
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        failures.push(error);
        if (retryOn && !retryOn.includes(error.kind)) throw error;
      }
    }
    if (failures.length === 1) throw failures[0] as ServiceError;
    const kinds = new Set(failures.map((f) => f.kind));
    const kind = kinds.size === 1 ? (failures[0] as ServiceError).kind : kinds.has('auth') ? 'auth' : 'unreachable';
    throw new ServiceError(
      'patroni',
      kind,
      `no Patroni REST endpoint answered ${what}: ${failures.map((f) => f.message.replace(/^Patroni REST /, '')).join('; ')}`,
      originOf(endpoints[0] as string),
      { cause: failures },
    );
  }

  private async clusterAction(method: 'POST' | 'DELETE', path: string, body: Record<string, unknown> | undefined, options: CallOptions): Promise<PatroniActionResult> {
    return this.firstAnswering(`${method} ${path}`, async (base) => {
      const answer = await this.call(method, `${base}${path}`, options, body === undefined ? undefined : JSON.stringify(body));
      return this.actionResult(`${method} ${path}`, answer);
    }, ['unreachable']);
  }

  private async memberAction(method: 'POST', apiUrl: string, path: string, body: Record<string, unknown> | undefined, options: CallOptions): Promise<PatroniActionResult> {
    const answer = await this.call(method, `${restBase(apiUrl)}${path}`, options, body === undefined ? undefined : JSON.stringify(body));
    return this.actionResult(`${method} ${path}`, answer);
  }

  private actionResult(what: string, answer: HttpAnswer): PatroniActionResult {
    if (answer.status < 200 || answer.status > 299) throw this.statusError(what, answer, 'failed');
    return { endpoint: answer.endpoint, httpStatus: answer.status, message: answer.text.trim(), scheduled: answer.status === 202 };
  }
}
