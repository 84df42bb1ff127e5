import type * as Etcd3Module from 'etcd3';
import type { Etcd3, IKeyValue, IOptions, Watcher } from 'etcd3';
import { readSecret } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import { timeoutError, withDeadline } from './errors.js';
import { normalizeConfig, normalizeHistory, patroniConfigSchema, patroniHistorySchema } from './patroni.js';
import type { CallOptions, DcsView, DcsWatchEvent, EtcdClusterHealth, EtcdMemberHealth, QuorumState } from './types.js';
import { ServiceError } from './types.js';

/**
 * etcd adapter (etcd3, v3 API): Patroni's keys under /<namespace>/<scope>/, a watch of that prefix, and the
 * etcd cluster's own health (member list + a status call per member, quorum healthy/degraded/lost).
 */

export interface EtcdAdapterOptions {
  endpoints: string[];
  username?: string;
  password?: string;
  timeoutMs: number;
}

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** A pass-through fault policy: no retries and no circuit breaker (our own deadline bounds every call). */
function passThroughPolicy(): Policy {
  const noEvent = () => ({ dispose: () => undefined });
  return {
    onSuccess: noEvent,
    onFailure: noEvent,
    execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal) =>
      Promise.resolve(fn({ signal: signal ?? new AbortController().signal })),
  } as unknown as Policy;
}

function etcdKind(error: unknown): ServiceError['kind'] {
  const name = error instanceof Error ? error.constructor.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (/Authentication|Unauthenticated|PermissionDenied|InvalidAuthToken/i.test(name) || /authentication failed|permission denied|invalid auth token/i.test(message)) return 'auth';
  if (/DeadlineExceeded/i.test(name) || /deadline exceeded/i.test(message)) return 'timeout';
  if (/Unavailable|ConnectFailed|Cancelled/i.test(name) || /ECONNREFUSED|unavailable|failed to connect|no connection established/i.test(message)) return 'unreachable';
  return 'failed';
}

function etcdMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/ECONNREFUSED/.test(message)) return 'refused the connection';
  if (/No connection established|failed to connect/i.test(message)) return 'could not be reached (no connection)';
  return message.split('\n')[0] ?? message;
}

function toEtcdError(what: string, endpoint: string, error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  return new ServiceError('etcd', etcdKind(error), `etcd ${what} ${etcdMessage(error)}`, endpoint, { cause: error });
}

function parseJsonValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' && value ? value : undefined;
}

/** The scope's key prefix, always `/<namespace>/<scope>/` (Patroni's layout in etcd v3). */
export function scopePrefix(namespace: string, scope: string): string {
  const ns = namespace.replace(/^\/+|\/+$/g, '');
  return `/${ns ? `${ns}/` : ''}${scope}/`;
}

/**
 * Decode Patroni's keys (relative names → raw values) into a DcsView. Pure; the leader's lease comes separately.
 * Unreadable values are skipped, never thrown: one bad key must not hide the rest.
 */
export function decodePatroniKeys(keys: Record<string, string>, revision: number): DcsView {
  const view: DcsView = { members: {}, history: [], revision };
  for (const [name, value] of Object.entries(keys)) {
    if (name.startsWith('members/')) {
      const data = parseJsonValue(value);
      // Patroni ≤ 1.x stored members as a conn_url string; keep it readable.
      view.members[name.slice('members/'.length)] = isRecord(data) ? data : { conn_url: value };
      continue;
    }
    switch (name) {
      case 'leader':
        view.leader = { holder: value };
        break;
      case 'config': {
        const parsed = patroniConfigSchema.safeParse(parseJsonValue(value));
        if (parsed.success) view.config = normalizeConfig(parsed.data);
        break;
      }
      case 'history': {
        const parsed = patroniHistorySchema.safeParse(parseJsonValue(value));
        if (parsed.success) view.history = normalizeHistory(parsed.data);
        break;
      }
      case 'status': {
        const data = parseJsonValue(value);
        if (isRecord(data)) {
          const status: NonNullable<DcsView['status']> = {};
          if (typeof data.optime === 'number') status.optime = data.optime;
          if (isRecord(data.slots)) {
            status.slots = Object.fromEntries(Object.entries(data.slots).filter((e): e is [string, number] => typeof e[1] === 'number'));
          }
          view.status = status;
        }
        break;
      }
      case 'optime/leader': {
        // Patroni < 2.0 kept the leader's WAL position here.
        const optime = Number(value);
        if (Number.isFinite(optime)) view.status = { ...view.status, optime };
        break;
      }
      case 'initialize':
        view.initialize = value;
        break;
      case 'sync': {
        const data = parseJsonValue(value);
        if (isRecord(data)) {
          const sync: NonNullable<DcsView['sync']> = {};
          const leader = stringField(data, 'leader');
          const standby = stringField(data, 'sync_standby');
          if (leader) sync.leader = leader;
          if (standby) sync.syncStandby = standby;
          view.sync = sync;
        }
        break;
      }
      case 'failover': {
        const data = parseJsonValue(value);
        const failover: NonNullable<DcsView['failover']> = {};
        if (isRecord(data)) {
          const leader = stringField(data, 'leader');
          const member = stringField(data, 'member') ?? stringField(data, 'candidate');
          const at = stringField(data, 'scheduled_at');
          if (leader) failover.leader = leader;
          if (member) failover.member = member;
          if (at) failover.scheduledAt = at;
        } else if (value.includes(':')) {
          // legacy "leader:candidate"
          const [leader, member] = value.split(':');
          if (leader) failover.leader = leader;
          if (member) failover.member = member;
        }
        if (Object.keys(failover).length) view.failover = failover;
        break;
      }
      default:
        break;
    }
  }
  return view;
}

/** Quorum of an etcd cluster of `total` voting members of which `healthy` answer with a leader. */
export function quorumState(total: number, healthy: number): QuorumState {
  if (total === 0 || healthy < Math.floor(total / 2) + 1) return 'lost';
  return healthy === total ? 'healthy' : 'degraded';
}

/**
 * etcd3 (gRPC, protobuf) is loaded on first use, not at start-up: it is the largest module `status` and the
 * cockpit load, and their first screen needs Patroni, not etcd.
 */
let etcd3Module: Promise<typeof Etcd3Module> | undefined;
function loadEtcd3(): Promise<typeof Etcd3Module> {
  etcd3Module ??= import('etcd3');
  return etcd3Module;
}

/**
 * Load etcd3 now. Its modules evaluate synchronously (a few hundred ms on a busy machine): a one-shot command
 * loads them before its reads start, so the event loop never stalls while calls with deadlines are in flight.
 */
export async function preloadEtcd3(): Promise<void> {
  await loadEtcd3();
}

export class EtcdAdapter {
  private clientPromise: Promise<Etcd3> | undefined;
  private closed = false;
  private readonly label: string;

  constructor(private readonly options: EtcdAdapterOptions) {
    this.label = options.endpoints.length === 1 ? (options.endpoints[0] as string) : `(${options.endpoints.join(', ')})`;
  }

  static fromConfig(config: ClusterConfig['etcd'], env: NodeJS.ProcessEnv = process.env): EtcdAdapter {
    const options: EtcdAdapterOptions = { endpoints: config.endpoints, timeoutMs: config.timeoutMs };
    if (config.username) {
      options.username = config.username;
      const password = readSecret(config, env);
      if (password !== undefined) options.password = password;
    }
    return new EtcdAdapter(options);
  }

  private clientOptions(hosts: string[], dialTimeoutMs = this.options.timeoutMs): IOptions {
    const options: IOptions = { hosts, dialTimeout: dialTimeoutMs };
    if (this.options.username) options.auth = { username: this.options.username, password: this.options.password ?? '' };
    return options;
  }

  private client(): Promise<Etcd3> {
    this.clientPromise ??= loadEtcd3().then(({ Etcd3: Client }) => {
      const client = new Client(this.clientOptions(this.options.endpoints));
      if (this.closed) client.close();
      return client;
    });
    return this.clientPromise;
  }

  close(): void {
    this.closed = true;
    void this.clientPromise?.then((client) => client.close()).catch(() => undefined);
  }

  private run<T>(what: string, endpoint: string, options: CallOptions, work: (deadlineAt: Date) => Promise<T>, teardown?: () => void): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    return withDeadline(
      timeoutMs,
      options.signal,
      () => timeoutError('etcd', `etcd ${endpoint}`, endpoint, timeoutMs),
      async () => {
        try {
          return await work(new Date(Date.now() + timeoutMs));
        } catch (error) {
          throw toEtcdError(endpoint, endpoint, error);
        }
      },
      teardown,
    ).catch((error: unknown) => {
      if (error instanceof ServiceError && error.kind !== 'timeout') {
        throw new ServiceError('etcd', error.kind, `${error.message} (${what})`, error.endpoint, { cause: error });
      }
      throw error;
    });
  }

  /** All of Patroni's keys of one scope in one range read, plus the leader key's lease and its remaining TTL. */
  async readPatroniKeys(namespace: string, scope: string, options: CallOptions = {}): Promise<DcsView> {
    const prefix = scopePrefix(namespace, scope);
    // Loading the client's modules is not etcd's time: it stays outside the call's deadline.
    const client = await this.client();
    return this.run(`reading ${prefix}`, this.label, options, async (deadlineAt) => {
      const response = await client.getAll().prefix(prefix).options({ deadline: deadlineAt }).exec();
      const keys: Record<string, string> = {};
      let leaderKv: IKeyValue | undefined;
      for (const kv of response.kvs) {
        const name = kv.key.toString('utf8').slice(prefix.length);
        keys[name] = kv.value.toString('utf8');
        if (name === 'leader') leaderKv = kv;
      }
      const view = decodePatroniKeys(keys, Number(response.header.revision));
      if (view.leader && leaderKv) {
        view.leader.modRevision = Number(leaderKv.mod_revision);
        if (leaderKv.lease && leaderKv.lease !== '0') {
          view.leader.leaseId = leaderKv.lease;
          try {
            const ttl = await client.leaseClient.leaseTimeToLive({ ID: leaderKv.lease, keys: false }, { deadline: deadlineAt });
            const remaining = Number(ttl.TTL);
            // -1: the lease expired between the two reads (the leader key is about to go).
            view.leader.leaseTtlSeconds = remaining < 0 ? 0 : remaining;
            view.leader.leaseGrantedTtlSeconds = Number(ttl.grantedTTL);
          } catch {
            // The key was read; a TTL we could not read stays undefined rather than failing the whole view.
          }
        }
      }
      return view;
    });
  }

  /**
   * Watch /<namespace>/<scope>/ and call `onChange` on every put and delete (and on connection changes). The
   * etcd3 watch manager reconnects on its own and resumes from the last revision it saw. Returns a disposer.
   */
  watchScope(namespace: string, scope: string, onChange: (event: DcsWatchEvent) => void): () => Promise<void> {
    const prefix = scopePrefix(namespace, scope);
    let watcher: Watcher | undefined;
    let disposed = false;
    const emit = (event: DcsWatchEvent) => {
      if (disposed) return;
      try {
        onChange(event);
      } catch {
        // A listener's own failure must not kill the watch.
      }
    };
    const onKv = (kind: 'put' | 'delete') => (kv: IKeyValue) => {
      const key = kv.key.toString('utf8');
      emit({ kind, key, name: key.slice(prefix.length), revision: Number(kv.mod_revision), ...(kind === 'put' ? { value: kv.value.toString('utf8') } : {}) });
    };
    const created = this.client()
      .then((client) => client.watch().prefix(prefix).create())
      .then((w) => {
        if (disposed) {
          void w.cancel().catch(() => undefined);
          return;
        }
        watcher = w;
        w.on('put', onKv('put'));
        w.on('delete', onKv('delete'));
        w.on('connected', () => emit({ kind: 'connected' }));
        w.on('disconnected', (error) => emit({ kind: 'disconnected', error: etcdMessage(error) }));
        w.on('error', (error) => emit({ kind: 'disconnected', error: etcdMessage(error) }));
        emit({ kind: 'connected' });
      })
      .catch((error: unknown) => emit({ kind: 'disconnected', error: etcdMessage(error) }));
    return async () => {
      disposed = true;
      await created;
      if (watcher) await watcher.cancel().catch(() => undefined);
    };
  }

  /** Delete every key of one Patroni scope (what `patronictl remove` does): Patroni then starts from a fresh cluster state. The count deleted. */
  async deleteScope(namespace: string, scope: string, options: CallOptions = {}): Promise<number> {
    const prefix = scopePrefix(namespace, scope);
    const client = await this.client();
    return this.run(`deleting ${prefix}`, this.label, options, async (deadlineAt) => {
      const response = await client.delete().prefix(prefix).options({ deadline: deadlineAt }).exec();
      return Number(response.deleted) || 0;
    });
  }

  /**
   * Each etcd member's health, asked of the member itself (one short-lived client per endpoint, no retries):
   * healthy when it answers a status call and knows a raft leader. Members come from the member list (asked of
   * any endpoint); when that fails, the configured endpoints stand in for them.
   */
  async clusterHealth(options: CallOptions = {}): Promise<EtcdClusterHealth> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    // The budget is split: a frozen member may take the member list's whole share before another endpoint
    // answers, and the probes must still finish inside the caller's timeout so a dead member reads as
    // unhealthy rather than the whole check timing out.
    const listTimeoutMs = Math.max(100, Math.floor(timeoutMs * 0.4));
    const probeTimeoutMs = Math.max(100, Math.floor(timeoutMs * 0.5));
    let members: Array<{ name: string; endpoint: string; id?: string }>;
    const client = await this.client();
    try {
      const list = await this.run('listing members', this.label, { ...options, timeoutMs: listTimeoutMs }, (deadlineAt) => client.cluster.memberList({}, { deadline: deadlineAt }));
      members = list.members
        .filter((m) => !m.isLearner)
        .map((m) => ({ name: m.name || m.ID, endpoint: m.clientURLs[0] ?? m.peerURLs[0] ?? m.ID, id: m.ID }));
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      members = this.options.endpoints.map((endpoint) => ({ name: endpoint, endpoint }));
    }
    const results = await Promise.all(members.map((m) => this.memberHealth(m, { ...options, timeoutMs: probeTimeoutMs })));
    return { members: results, quorum: quorumState(results.length, results.filter((r) => r.healthy).length) };
  }

  private async memberHealth(member: { name: string; endpoint: string; id?: string }, options: CallOptions & { timeoutMs: number }): Promise<EtcdMemberHealth> {
    const { Etcd3: Client } = await loadEtcd3();
    const probe = new Client({
      ...this.clientOptions([member.endpoint], options.timeoutMs),
      faultHandling: { global: passThroughPolicy(), host: () => passThroughPolicy() },
    });
    const health: EtcdMemberHealth = { name: member.name, endpoint: member.endpoint, healthy: false };
    try {
      const status = await this.run('status', member.endpoint, options, (deadlineAt) => probe.maintenance.status({ deadline: deadlineAt }), () => probe.close());
      if (status.leader === '0' || status.leader === '') {
        health.error = 'has no raft leader (the cluster has lost quorum from its point of view)';
      } else if (status.errors?.length) {
        health.error = status.errors.join('; ');
      } else {
        health.healthy = true;
      }
      health.isLeader = status.leader !== '0' && status.leader === status.header.member_id;
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      health.error = error.message;
    } finally {
      probe.close();
    }
    return health;
  }
}
