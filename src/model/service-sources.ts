import { readSecret } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import { ArchiveLogReader } from '../services/archive-log.js';
import { BackupDetailsCache, BarmanListReader } from '../services/backup-cache.js';
import { BarmanAdapter } from '../services/barman.js';
import { EtcdAdapter } from '../services/etcd.js';
import { EtcdHttpReader } from '../services/etcd-http.js';
import { HaproxyAdapter } from '../services/haproxy.js';
import { PatroniClient } from '../services/patroni.js';
import { PostgresMemberClient, loadPg } from '../services/postgres.js';
import { DockerEngine } from '../services/docker.js';
import { ServiceError } from '../services/types.js';
import { applyToCluster, applyToDcs, memberAddresses } from './member-access.js';
import type { CallOptions } from '../services/types.js';
import type { ClusterSources } from './sources.js';

/**
 * The model's sources, built from the real service adapters of one cluster's config. One PostgreSQL
 * connection per member, kept across polls and closed with the sources.
 */
export function createServiceSources(
  cluster: ClusterConfig,
  env: NodeJS.ProcessEnv = process.env,
): ClusterSources {
  const patroni = PatroniClient.fromConfig(cluster.patroni, env);
  const etcd = EtcdAdapter.fromConfig(cluster.etcd, env);
  // etcd's JSON gateway (on the HTTP client already loaded) for reads and the watch: no gRPC or protobuf to
  // load or keep in memory, no client per health check. An etcd with authentication stays on etcd3.
  const reader = !cluster.etcd.username ? new EtcdHttpReader({ endpoints: cluster.etcd.endpoints, timeoutMs: cluster.etcd.timeoutMs }) : undefined;
  const dcsReader = reader ?? etcd;
  const haproxy = cluster.haproxy ? HaproxyAdapter.fromConfig(cluster.haproxy, env) : undefined;
  const barman = cluster.barman ? BarmanAdapter.fromConfig(cluster.barman) : undefined;
  const archiveLog = cluster.archiveLog ? ArchiveLogReader.fromConfig(cluster.archiveLog) : undefined;
  const postgres = new Map<string, { key: string; client: PostgresMemberClient }>();
  const addresses = memberAddresses(cluster);

  const probes = new Map<string, { key: string; client: PostgresMemberClient }>();
  const memberClient = (member: { name: string; host: string; port: number }, pool = postgres): PostgresMemberClient => {
    const key = `${member.host}:${member.port}`;
    let entry = pool.get(member.name);
    if (!entry || entry.key !== key) {
      void entry?.client.close().catch(() => undefined);
      entry = { key, client: PostgresMemberClient.fromConfig(cluster.postgres, member, env) };
      pool.set(member.name, entry);
    }
    return entry.client;
  };

  const sources: ClusterSources = {
    // Patroni advertises addresses that may resolve only among the containers: the config's `members` map them.
    patroniCluster: async (o: CallOptions) => applyToCluster(await patroni.getCluster(o), addresses),
    patroniHistory: (o: CallOptions) => patroni.getHistory(o),
    patroniConfig: (o: CallOptions) => patroni.getConfig(o),
    memberStatus: (apiUrl: string, o: CallOptions) => patroni.getMemberStatus(apiUrl, o),
    dcs: async (o: CallOptions) => applyToDcs(await dcsReader.readPatroniKeys(cluster.namespace, cluster.scope, o), addresses),
    watchDcs: (onChange) => {
      const dispose = (reader ?? etcd).watchScope(cluster.namespace, cluster.scope, onChange);
      return () => void dispose().catch(() => undefined);
    },
    etcdHealth: (o: CallOptions) => dcsReader.clusterHealth(o),
    postgres: (member, o: CallOptions) => memberClient(member).status(o),
    pingPostgres: async (member, o: CallOptions) => {
      // Its own connection: the probe's short timeout must never tear down the status poll's connection.
      await memberClient(member, probes).query('SELECT 1', o);
    },
    close: async () => {
      await Promise.allSettled([patroni.close(), haproxy?.close(), reader?.close(), ...[...postgres.values(), ...probes.values()].map((e) => e.client.close())]);
      etcd.close();
    },
  };
  if (haproxy) sources.haproxy = (o: CallOptions) => haproxy.routing(o);
  if (barman) {
    // list-backups answered from disk while Barman's state is unchanged (a `stat`, not a Python run); no
    // `barman status`: the last archived WAL it reports is the leader's pg_stat_archiver, which we read anyway.
    const list = BarmanListReader.forCluster(barman, cluster.name, cluster.barman?.server ?? 'barman', env);
    sources.barmanBackups = (o: CallOptions) => list.listBackups(o);
    const cache = BackupDetailsCache.forCluster(cluster.name, cluster.barman?.server ?? 'barman', env);
    sources.barmanShowBackup = async (id: string, o: CallOptions) => {
      const cached = cache.get(id);
      if (cached) return cached;
      const backup = await barman.showBackup(id, o);
      cache.put(backup);
      return backup;
    };
  }
  const write = cluster.haproxy?.write;
  if (write) {
    // A fresh connection each time: HAProxy closes sessions to a server it marks down, and the point is to
    // see where a new client lands.
    sources.writeProbe = async (o: CallOptions) => {
      const pg = await loadPg();
      const client = new pg.Client({
        host: write.host,
        port: write.port,
        user: cluster.postgres.user,
        database: cluster.postgres.database,
        password: readSecret(cluster.postgres, env),
        connectionTimeoutMillis: o.timeoutMs ?? 1000,
        query_timeout: o.timeoutMs ?? 1000,
        application_name: 'pgcockpit-write-probe',
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const { rows } = await client.query<{ port: number; in_recovery: boolean }>('SELECT inet_server_port() AS port, pg_is_in_recovery() AS in_recovery');
        return { port: Number(rows[0]?.port), inRecovery: rows[0]?.in_recovery === true };
      } finally {
        await client.end().catch(() => undefined);
      }
    };
  }
  const containers = Object.fromEntries(Object.entries(cluster.members ?? {}).flatMap(([name, access]) => (access.container ? [[name, access.container]] : [])));
  if (Object.keys(containers).length) {
    sources.containerNames = containers;
    let engine: DockerEngine | undefined;
    let unusable: string | undefined;
    try {
      engine = new DockerEngine({ ...(cluster.docker?.socket ? { socket: cluster.docker.socket } : {}), env, timeoutMs: cluster.docker?.timeoutMs ?? 5000 }, 'docker');
    } catch (error) {
      unusable = error instanceof Error ? error.message : String(error);
    }
    sources.containerState = async (member: string, o: CallOptions) => {
      const container = containers[member];
      if (!engine || !container) throw new ServiceError('docker', 'unreachable', unusable ?? `no container is configured for ${member}`);
      return engine.state(container, o);
    };
  }
  if (archiveLog) sources.archiveLogTail = (member: string, lines: number, o: CallOptions) => archiveLog.tail(member, lines, o);
  return sources;
}
