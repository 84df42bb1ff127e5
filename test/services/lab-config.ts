import path from 'node:path';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ClusterConfig } from '../../src/config/schema.js';
import { PatroniClient } from '../../src/services/patroni.js';
import { ServiceError } from '../../src/services/types.js';
import { waitFor } from '../../src/util/wait.js';

/** The test lab's cluster config, as the lab wrote it (<labDir>/pgcockpit.yaml). */
export function testLabCluster(): ClusterConfig {
  const config = loadConfig(path.join(inject('labDir'), 'pgcockpit.yaml'));
  const cluster = config.clusters[0];
  if (!cluster) throw new Error('the test lab config has no cluster');
  return cluster;
}

/**
 * Wait until the cluster is healthy: exactly one leader in /cluster, and every other member streaming per the
 * leader's own /patroni. Returns the leader's name.
 */
export async function waitForHealthyCluster(cluster: ClusterConfig, timeoutMs = 90_000): Promise<string> {
  const patroni = PatroniClient.fromConfig(cluster.patroni);
  let last = 'nothing yet';
  try {
    return await waitFor(
      'a healthy cluster (one leader, all replicas streaming)',
      async () => {
        try {
          const c = await patroni.getCluster();
          const leaders = c.members.filter((m) => m.role === 'leader');
          const leader = leaders[0];
          if (leaders.length !== 1 || !leader?.apiUrl) {
            last = `leaders: [${leaders.map((l) => l.name).join(', ')}]`;
            return undefined;
          }
          const status = await patroni.getMemberStatus(leader.apiUrl);
          const streaming = status.replication.filter((r) => r.state === 'streaming').map((r) => r.applicationName);
          const missing = c.members.filter((m) => m.name !== leader.name && !streaming.includes(m.name)).map((m) => m.name);
          if (status.role !== 'leader' || missing.length) {
            last = `leader ${leader.name} (${status.rawRole}); not streaming: ${missing.join(', ')}`;
            return undefined;
          }
          return leader.name;
        } catch (error) {
          last = (error as Error).message;
          return undefined;
        }
      },
      { timeoutMs, intervalMs: 300, describeFailure: () => last },
    );
  } finally {
    await patroni.close();
  }
}

/** The ServiceError a call must fail with (a call that succeeds, or throws anything else, fails the test). */
export async function caught(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected a ServiceError, the call succeeded');
}
