import type { ClusterConfig } from '../config/schema.js';
import type { ClusterStore } from '../model/store.js';
import { EtcdAdapter } from '../services/etcd.js';
import type { RestartRequest, SwitchoverRequest } from '../services/patroni.js';
import { PatroniClient, restBase } from '../services/patroni.js';
import { PostgresMemberClient } from '../services/postgres.js';
import type { CallOptions, DcsWatchEvent, PatroniActionResult, PatroniCluster, PatroniDynamicConfig, PatroniMemberStatus } from '../services/types.js';

/**
 * What the operations act through: small capabilities (k9s' dao), so that unit tests can hand an
 * operation fakes and the real ones are built once from the cluster's config. The store is the live
 * model the panes read; operations read their preconditions from it and verify completion against the
 * sources directly (REST, etcd, SQL through HAProxy), never against the clock.
 */

/** The Patroni REST calls operations make (PatroniClient implements it). */
export interface OpsPatroni {
  getCluster(options?: CallOptions): Promise<PatroniCluster>;
  getMemberStatus(apiUrl: string, options?: CallOptions): Promise<PatroniMemberStatus>;
  switchover(request: SwitchoverRequest, options?: CallOptions): Promise<PatroniActionResult>;
  cancelScheduledSwitchover(options?: CallOptions): Promise<PatroniActionResult>;
  failover(request: { candidate: string }, options?: CallOptions): Promise<PatroniActionResult>;
  restart(apiUrl: string, request?: RestartRequest, options?: CallOptions): Promise<PatroniActionResult>;
  reinit(apiUrl: string, request?: { force?: boolean }, options?: CallOptions): Promise<PatroniActionResult>;
  reload(apiUrl: string, options?: CallOptions): Promise<PatroniActionResult>;
  patchConfig(patch: Record<string, unknown>, options?: CallOptions): Promise<PatroniDynamicConfig>;
}

/** What a fresh connection through the HAProxy write port landed on. */
export interface WritePortAnswer {
  inRecovery: boolean;
  /** inet_server_port() of the backend the connection reached. */
  serverPort: number;
  /** A transaction id was assigned (the connection really took a write). */
  wrote: boolean;
}

export interface OpsTimeouts {
  /** The leader key moves to the new leader after the request. */
  leaderMoveMs: number;
  /** The new leader answers as a running leader. */
  newLeaderRunningMs: number;
  /** A member streams again (old leader after a switchover, a replica after reinit or restart). */
  streamingMs: number;
  /** The HAProxy write port reaches the new leader. */
  writePortMs: number;
  /** A reinit completes. */
  reinitMs: number;
  /** Patroni's own wait for a restart, plus the member coming back. */
  restartMs: number;
  /** Drill: Patroni notices the lost leader and elects another (≈ ttl + loop_wait). */
  failoverDetectMs: number;
  /** Interval of polled conditions. */
  pollIntervalMs: number;
}

export const DEFAULT_TIMEOUTS: OpsTimeouts = {
  leaderMoveMs: 90_000,
  newLeaderRunningMs: 60_000,
  streamingMs: 180_000,
  writePortMs: 60_000,
  reinitMs: 900_000,
  restartMs: 180_000,
  failoverDetectMs: 150_000,
  pollIntervalMs: 200,
};

export interface OpsContext {
  cluster: ClusterConfig;
  store: ClusterStore;
  patroni: OpsPatroni;
  /** The leader key's holder, read from etcd now (undefined when there is no leader key). */
  readLeaderKey(options?: CallOptions): Promise<string | undefined>;
  /** Watch the scope's keys in etcd; returns the disposer. */
  watchDcs(onEvent: (event: DcsWatchEvent) => void): () => Promise<void>;
  /** A fresh connection through the HAProxy write port (undefined when no write port is configured). */
  probeWritePort?: (options?: CallOptions) => Promise<WritePortAnswer>;
  /** One SQL statement on a member, on a fresh connection; rows as objects. */
  memberQuery(member: { name: string; host: string; port: number }, sql: string, options?: CallOptions): Promise<Array<Record<string, unknown>>>;
  /** A connection to a member kept for repeated reads (a progress poll): one connection, not one per read; the caller closes it. */
  memberSession?(member: { name: string; host: string; port: number }): MemberSession;
  timeouts: OpsTimeouts;
  now(): number;
  close(): Promise<void>;
}

/** SQL on one kept connection (reopened after a failure); rows as objects. */
export interface MemberSession {
  query(sql: string, options?: CallOptions): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

const WRITE_PROBE_SQL = 'SELECT pg_is_in_recovery() AS in_recovery, inet_server_port() AS port';

/** Build the real context of a cluster from its config (credentials read from their references now). */
export function createOpsContext(
  cluster: ClusterConfig,
  store: ClusterStore,
  options: { env?: NodeJS.ProcessEnv; timeouts?: Partial<OpsTimeouts> } = {},
): OpsContext {
  const env = options.env ?? process.env;
  // With no endpoints configured, Patroni's REST URLs come from the DCS (members' api_url), through the store.
  const configured = cluster.patroni.endpoints;
  const endpoints = configured.length
    ? configured
    : store
        .getSnapshot()
        .members.map((m) => (m.apiUrl ? restBase(m.apiUrl) : undefined))
        .filter((u): u is string => u !== undefined);
  const base = PatroniClient.fromConfig({ ...cluster.patroni, endpoints }, env);
  // Patroni wakes its HA loop only on the member that receives a switchover or failover request; sent to
  // another member it waits for the leader's next loop (up to loop_wait, 10 s). So those requests go to the
  // member that must act first (the leader for a switchover, the candidate for a failover), then the rest.
  const preferring = new Map<string, PatroniClient>();
  const clientPreferring = (member: string | undefined): PatroniClient => {
    const apiUrl = member ? store.getSnapshot().members.find((m) => m.name === member)?.apiUrl : undefined;
    if (!apiUrl) return base;
    const first = restBase(apiUrl);
    let client = preferring.get(first);
    if (!client) {
      client = PatroniClient.fromConfig({ ...cluster.patroni, endpoints: [first, ...endpoints.filter((e) => restBase(e) !== first)] }, env);
      preferring.set(first, client);
    }
    return client;
  };
  const patroni: OpsPatroni = {
    getCluster: (o) => base.getCluster(o),
    getMemberStatus: (apiUrl, o) => base.getMemberStatus(apiUrl, o),
    switchover: (request, o) => clientPreferring(request.leader).switchover(request, o),
    cancelScheduledSwitchover: (o) => base.cancelScheduledSwitchover(o),
    failover: (request, o) => clientPreferring(request.candidate).failover(request, o),
    restart: (apiUrl, request, o) => base.restart(apiUrl, request, o),
    reinit: (apiUrl, request, o) => base.reinit(apiUrl, request, o),
    reload: (apiUrl, o) => base.reload(apiUrl, o),
    patchConfig: (patch, o) => base.patchConfig(patch, o),
  };
  const etcd = EtcdAdapter.fromConfig(cluster.etcd, env);
  const session = (target: { name: string; host: string; port: number }): MemberSession => {
    const client = PostgresMemberClient.fromConfig(cluster.postgres, target, env);
    return {
      query: async (sql, callOptions = {}) => {
        const result = await client.query(sql, callOptions);
        const last = Array.isArray(result) ? result[result.length - 1] : result;
        return (last?.rows ?? []) as Array<Record<string, unknown>>;
      },
      close: () => client.close(),
    };
  };
  const query = async (target: { name: string; host: string; port: number }, sql: string, callOptions: CallOptions = {}) => {
    const once = session(target);
    try {
      return await once.query(sql, callOptions);
    } finally {
      await once.close();
    }
  };
  const write = cluster.haproxy?.write;
  const context: OpsContext = {
    cluster,
    store,
    patroni,
    readLeaderKey: async (callOptions) => (await etcd.readPatroniKeys(cluster.namespace, cluster.scope, callOptions ?? {})).leader?.holder,
    watchDcs: (onEvent) => etcd.watchScope(cluster.namespace, cluster.scope, onEvent),
    memberQuery: query,
    memberSession: session,
    timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
    now: Date.now,
    close: async () => {
      await Promise.allSettled([base.close(), ...[...preferring.values()].map((c) => c.close())]);
      etcd.close();
    },
  };
  if (write) {
    context.probeWritePort = async (callOptions = {}) => {
      // txid_current() assigns a transaction id: it fails on a standby, so a row means the connection can write.
      const rows = await query({ name: 'HAProxy write port', host: write.host, port: write.port }, `${WRITE_PROBE_SQL}, CASE WHEN pg_is_in_recovery() THEN NULL ELSE txid_current() END AS txid`, {
        timeoutMs: 3000,
        ...callOptions,
      });
      const row = rows[0] ?? {};
      return { inRecovery: row.in_recovery === true, serverPort: Number(row.port), wrote: row.txid !== null && row.txid !== undefined };
    };
  }
  return context;
}
