import type { Io } from '../cli/args.js';
import type { GlobalOptions } from '../cli/global-options.js';
import { ConfigError, loadConfig, resolveConfigPath } from '../config/load.js';
import type { ClusterConfig, PgcockpitConfig } from '../config/schema.js';
import { EventLogFile } from './event-log.js';
import { LiveClusterStore } from './live-store.js';
import type { SourceSelection } from './source-selection.js';
import { createServiceSources } from './service-sources.js';

export interface OpenedCluster {
  configPath: string;
  config: PgcockpitConfig;
  cluster: ClusterConfig;
  store: LiveClusterStore;
}

/** Pick a cluster of the config by name (default: the first). */
export function selectCluster(config: PgcockpitConfig, name: string | undefined, file: string): ClusterConfig {
  if (name === undefined) return config.clusters[0] as ClusterConfig;
  const found = config.clusters.find((c) => c.name === name);
  if (!found) {
    throw new ConfigError(file, [`no cluster named "${name}" (the config has: ${config.clusters.map((c) => c.name).join(', ')})`]);
  }
  return found;
}

/**
 * Load the config and build the live store of the chosen cluster (not started). On a config problem it
 * says which file, which key and what is wrong, and returns the exit code instead.
 */
export function openCluster(
  globals: GlobalOptions,
  io: Io,
  options: { watchDcs?: boolean; leaderProbe?: boolean; eventLog?: boolean; barman?: boolean; only?: SourceSelection; patroniFirstMs?: number; othersAfter?: Promise<void> } = {},
): OpenedCluster | number {
  const { path: configPath, origin } = resolveConfigPath(globals.config, io.env);
  let config: PgcockpitConfig;
  let cluster: ClusterConfig;
  try {
    config = loadConfig(configPath);
    cluster = selectCluster(config, globals.cluster, configPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`pgcockpit: config ${origin === '--config' ? '' : `(${origin}) `}${error.message}`);
      return 2;
    }
    throw error;
  }
  let sources;
  try {
    // barman: false — no Barman reads in the store (a command that reads Barman itself, at its own time).
    const { barman: _barman, ...withoutBarman } = cluster;
    sources = createServiceSources(options.barman === false ? withoutBarman : cluster, io.env);
  } catch (error) {
    io.err(`pgcockpit: cluster ${cluster.name}: ${(error as Error).message}`);
    return 2;
  }
  const store = new LiveClusterStore({
    cluster,
    sources,
    pollIntervalMs: config.pollIntervalMs,
    ...(options.watchDcs === undefined ? {} : { watchDcs: options.watchDcs }),
    leaderProbeIntervalMs: options.leaderProbe === false ? 0 : config.leaderProbeIntervalMs,
    ...(options.patroniFirstMs ? { patroniFirstMs: options.patroniFirstMs } : {}),
    ...(options.othersAfter ? { othersAfter: options.othersAfter } : {}),
    ...(options.only ? { only: options.only } : {}),
    ...(options.eventLog ? { eventLog: new EventLogFile(EventLogFile.pathFor(cluster.name, config.eventLogDir, io.env)) } : {}),
  });
  return { configPath, config, cluster, store };
}
