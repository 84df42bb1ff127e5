import type {
  BarmanBackup,
  BarmanServerStatus,
  CallOptions,
  DcsView,
  DcsWatchEvent,
  EtcdClusterHealth,
  HaproxyRouting,
  PatroniCluster,
  PatroniDynamicConfig,
  PatroniMemberStatus,
  PostgresMemberStatus,
  TimelineHistoryEntry,
} from '../services/types.js';
import type { ContainerState } from '../services/docker.js';

/**
 * What the model reads from, as small capabilities (k9s' dao): one method per fact. The live
 * implementation is built from the service adapters (src/model/service-sources.ts); component tests use
 * fakes. A capability that the cluster's config doesn't provide (no HAProxy, no Barman) is undefined.
 */
export interface ClusterSources {
  patroniCluster(options: CallOptions): Promise<PatroniCluster>;
  patroniHistory(options: CallOptions): Promise<TimelineHistoryEntry[]>;
  patroniConfig(options: CallOptions): Promise<PatroniDynamicConfig>;
  /** `GET /patroni` of one member, by its REST URL. */
  memberStatus(apiUrl: string, options: CallOptions): Promise<PatroniMemberStatus>;
  dcs(options: CallOptions): Promise<DcsView>;
  /**
   * Watch the scope's keys; calls back on every change with what changed (the key and a put's value) and when
   * the watch connects or breaks. Called without an event: something changed (read everything again).
   */
  watchDcs?(onChange: (event?: DcsWatchEvent) => void, onError: (error: Error) => void): () => void;
  etcdHealth(options: CallOptions): Promise<EtcdClusterHealth>;
  postgres(member: { name: string; host: string; port: number }, options: CallOptions): Promise<PostgresMemberStatus>;
  haproxy?(options: CallOptions): Promise<HaproxyRouting>;
  barmanBackups?(options: CallOptions): Promise<BarmanBackup[]>;
  barmanStatus?(options: CallOptions): Promise<BarmanServerStatus>;
  /** One backup in full (begin time, LSNs, timeline): list-backups does not give them. */
  barmanShowBackup?(id: string, options: CallOptions): Promise<BarmanBackup>;
  archiveLogTail?(member: string, lines: number, options: CallOptions): Promise<string[]>;
  /** A cheap `SELECT 1` on a member (the leader probe of incident mode). */
  pingPostgres?(member: { name: string; host: string; port: number }, options: CallOptions): Promise<void>;
  /** The container of each member (member → container name), when the config names them. */
  containerNames?: Record<string, string>;
  /** One member's container state (Docker Engine API). */
  containerState?(member: string, options: CallOptions): Promise<ContainerState>;
  /** Through the HAProxy write port: which server answers, and is it a primary. */
  writeProbe?(options: CallOptions): Promise<{ port: number; inRecovery: boolean }>;
  close(): Promise<void>;
}
