import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Io } from '../../src/cli/args.js';
import { probeLab } from '../../src/lab/probe.js';
import type { LabReadiness } from '../../src/lab/probe.js';
import type { LabTopology } from '../../src/lab/topology.js';
import type { ClusterSnapshot } from '../../src/model/snapshot.js';
import { openCluster } from '../../src/model/open.js';
import type { LiveClusterStore } from '../../src/model/live-store.js';
import { AuditLog, clusterSecrets } from '../../src/ops/audit.js';
import type { OpsContext } from '../../src/ops/context.js';
import { createOpsContext } from '../../src/ops/context.js';
import { OperationRunner } from '../../src/ops/runner.js';
import { waitFor } from '../../src/util/wait.js';
import { afterAll, afterEach, beforeAll, beforeEach, expect, inject } from 'vitest';
import { labQuery, testLab } from '../support/lab.js';

/** Helpers of the operations' lab tests: a config with its own audit log, the ops stack, health waits. */

export interface OpsWorkspace {
  dir: string;
  config: string;
  auditLog: string;
}

/** A temp dir with a copy of the lab's cockpit config that writes its audit log there (and nowhere shared). */
export function opsWorkspace(labDir: string, edit: (yaml: string) => string = (y) => y): OpsWorkspace {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-ops-'));
  const auditLog = path.join(dir, 'audit.log');
  const config = path.join(dir, 'pgcockpit.yaml');
  const labConfig = fs.readFileSync(path.join(labDir, 'pgcockpit.yaml'), 'utf8');
  // The lab's config may name its own audit log (top level): replace it with this workspace's.
  const withoutAudit = edit(labConfig).replace(/^auditLog: .*$\n?/m, '');
  fs.writeFileSync(config, `${withoutAudit}\nauditLog: ${auditLog}\n`);
  return { dir, config, auditLog };
}

export function silentIo(): Io {
  return { out: () => undefined, err: () => undefined, isTTY: false, env: process.env };
}

export interface OpsStack {
  store: LiveClusterStore;
  context: OpsContext;
  runner: OperationRunner;
  close: () => Promise<void>;
}

/** The store (started, first reading complete), the ops context and a runner, as the cockpit builds them. */
export async function openOps(workspace: OpsWorkspace, options: { readOnly?: boolean } = {}): Promise<OpsStack> {
  const opened = await openCluster({ config: workspace.config, readOnly: options.readOnly ?? false }, silentIo());
  if (typeof opened === 'number') throw new Error(`openCluster failed with ${opened}`);
  const { store, cluster } = opened;
  store.start();
  await store.whenFirstComplete();
  const context = createOpsContext(cluster, store);
  const runner = new OperationRunner({
    context,
    readOnly: options.readOnly ?? false,
    audit: new AuditLog(workspace.auditLog, clusterSecrets(cluster)),
    lockDir: path.dirname(workspace.auditLog),
  });
  return {
    store,
    context,
    runner,
    close: async () => {
      await runner.whenIdle();
      await context.close();
      await store.stop();
    },
  };
}

/** Healthy as the brief defines it: a leader, every replica streaming per the leader's /patroni, HAProxy routing to it. */
export async function waitHealthy(topology: LabTopology, timeoutMs = 240_000): Promise<LabReadiness> {
  let last: LabReadiness | undefined;
  return waitFor(
    'the lab to be healthy (a leader, every replica streaming, HAProxy routing writes to the leader)',
    async () => {
      last = await probeLab(topology);
      return last.ready ? last : undefined;
    },
    { timeoutMs, intervalMs: 250, describeFailure: () => (last ? last.problems.join('; ') : 'no answer') },
  );
}

/** Wait until the store's snapshot satisfies a condition (woken by the store, not by the clock). */
export function waitForSnapshot(store: LiveClusterStore, what: string, predicate: (s: ClusterSnapshot) => boolean, timeoutMs = 60_000): Promise<ClusterSnapshot> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const snapshot = store.getSnapshot();
      if (!predicate(snapshot)) return false;
      cleanup();
      resolve(snapshot);
      return true;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for the store to show ${what}`));
    }, timeoutMs);
    const unsubscribe = store.subscribe(() => void check());
    const cleanup = () => {
      clearTimeout(timer);
      unsubscribe();
    };
    check();
  });
}

/** What a fresh connection through the HAProxy write port reaches. */
export async function writePortTarget(topology: LabTopology): Promise<{ member: string | undefined; inRecovery: boolean }> {
  const rows = await labQuery<{ in_recovery: boolean; port: number }>(topology, topology.haproxy.writePort, 'SELECT pg_is_in_recovery() AS in_recovery, inet_server_port() AS port');
  const row = rows[0];
  return { member: topology.members.find((m) => m.pgPort === row?.port)?.name, inRecovery: row?.in_recovery ?? true };
}

export function memberOf(topology: LabTopology, name: string): LabTopology['members'][number] {
  const found = topology.members.find((m) => m.name === name);
  if (!found) throw new Error(`no lab member ${name}`);
  return found;
}

/** Secrets of the lab that must never reach an audit line. */
export function labSecrets(topology: LabTopology): string[] {
  return fs
    .readdirSync(topology.paths.secretsDir)
    .filter((f) => f.endsWith('.password'))
    .map((f) => fs.readFileSync(path.join(topology.paths.secretsDir, f), 'utf8').trim())
    .filter((s) => s.length > 0);
}

/** What a suite on the shared lab works with: the lab's topology and a workspace of its own. */
export interface LabOpsSuite {
  readonly topology: LabTopology;
  readonly workspace: OpsWorkspace;
}

/**
 * Registers the hooks an operations suite on the shared lab needs: the topology and a fresh workspace
 * before all (once the lab is healthy), the workspace removed after all; with `healthyAroundEach`, every
 * test starts on a healthy lab and must leave it healthy (tests that break it restore it).
 */
export function labOpsSuite(options: { healthyAroundEach?: boolean } = {}): LabOpsSuite {
  let topology: LabTopology | undefined;
  let workspace: OpsWorkspace | undefined;
  const suite: LabOpsSuite = {
    get topology() {
      if (!topology) throw new Error('the lab suite is not set up yet (use it inside tests and hooks)');
      return topology;
    },
    get workspace() {
      if (!workspace) throw new Error('the lab suite is not set up yet (use it inside tests and hooks)');
      return workspace;
    },
  };
  beforeAll(async () => {
    topology = testLab();
    workspace = opsWorkspace(inject('labDir'));
    await waitHealthy(topology);
  });
  if (options.healthyAroundEach) {
    beforeEach(async () => {
      await waitHealthy(suite.topology);
    });
    afterEach(async () => {
      expect((await waitHealthy(suite.topology)).ready).toBe(true);
    });
  }
  afterAll(() => {
    if (workspace) fs.rmSync(workspace.dir, { recursive: true, force: true });
  });
  return suite;
}
