import pg from 'pg';
import { readSecret } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import { ArchiveLogReader } from '../services/archive-log.js';
import { BackupDetailsCache } from '../services/backup-cache.js';
import { BarmanAdapter } from '../services/barman.js';
import { EtcdAdapter } from '../services/etcd.js';
import { HaproxyAdapter } from '../services/haproxy.js';
import { PatroniClient } from '../services/patroni.js';
import { PostgresMemberClient } from '../services/postgres.js';
import type { CallOptions } from '../services/types.js';
import type { ClusterSources } from './sources.js';

/**
 * The model's sources, built from the real service adapters of one cluster's config. One PostgreSQL
 * connection per member, kept across polls and closed with the sources.
 */
export function createServiceSources(cluster: ClusterConfig, env: NodeJS.ProcessEnv = process.env): ClusterSources {
  const patroni = PatroniClient.fromConfig(cluster.patroni, env);
  const etcd = EtcdAdapter.fromConfig(cluster.etcd, env);
  const haproxy = cluster.haproxy ? HaproxyAdapter.fromConfig(cluster.haproxy, env) : undefined;
  const barman = cluster.barman ? BarmanAdapter.fromConfig(cluster.barman) : undefined;
  const archiveLog = cluster.archiveLog ? ArchiveLogReader.fromConfig(cluster.archiveLog) : undefined;
  const postgres = new Map<string, { key: string; client: PostgresMemberClient }>();

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
    patroniCluster: (o: CallOptions) => patroni.getCluster(o),
    patroniHistory: (o: CallOptions) => patroni.getHistory(o),
    patroniConfig: (o: CallOptions) => patroni.getConfig(o),
    memberStatus: (apiUrl: string, o: CallOptions) => patroni.getMemberStatus(apiUrl, o),
    dcs: (o: CallOptions) => etcd.readPatroniKeys(cluster.namespace, cluster.scope, o),
    watchDcs: (onChange: () => void) => {
      const dispose = etcd.watchScope(cluster.namespace, cluster.scope, (event) => {
        if (event.kind === 'put' || event.kind === 'delete') onChange();
      });
      return () => void dispose().catch(() => undefined);
    },
    etcdHealth: (o: CallOptions) => etcd.clusterHealth(o),
    postgres: (member, o: CallOptions) => memberClient(member).status(o),
    pingPostgres: async (member, o: CallOptions) => {
      // Its own connection: the probe's short timeout must never tear down the status poll's connection.
      await memberClient(member, probes).query('SELECT 1', o);
    },
    close: async () => {
      await Promise.allSettled([patroni.close(), haproxy?.close(), ...[...postgres.values(), ...probes.values()].map((e) => e.client.close())]);
      etcd.close();
    },
  };
  if (haproxy) sources.haproxy = (o: CallOptions) => haproxy.routing(o);
  if (barman) {
    sources.barmanBackups = (o: CallOptions) => barman.listBackups(o);
    sources.barmanStatus = (o: CallOptions) => barman.status(o);
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
  if (archiveLog) sources.archiveLogTail = (member: string, lines: number, o: CallOptions) => archiveLog.tail(member, lines, o);
  return sources;
}
