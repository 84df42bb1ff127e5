import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Io } from '../../src/cli/args.js';
import { labSuperuserPassword } from '../../src/lab/lab.js';
import type { LabTopology } from '../../src/lab/topology.js';
import { openCluster } from '../../src/model/open.js';
import { AuditLog } from '../../src/ops/audit.js';
import { createOpsContext } from '../../src/ops/context.js';
import type { OperationRequest } from '../../src/ops/operations.js';
import type { OperationRun } from '../../src/ops/runner.js';
import { OperationRunner } from '../../src/ops/runner.js';
import type { OperationEvent } from '../../src/ops/types.js';
import { labQuery } from '../support/lab.js';

/** Helpers of the backup and PITR suites: an in-process runner on a lab, and "nothing changed" fingerprints. */

export function quietIo(): Io {
  return { out: () => undefined, err: () => undefined, isTTY: false, env: process.env };
}

/** Run one operation through the real runner on a lab's cockpit config; every event collected. */
export async function runOnLab(topology: LabTopology, request: OperationRequest): Promise<{ run: OperationRun; events: OperationEvent[] }> {
  const opened = openCluster({ config: topology.paths.cockpitConfig, readOnly: false }, quietIo(), { watchDcs: false });
  if (typeof opened === 'number') throw new Error(`cannot open ${topology.paths.cockpitConfig}`);
  const { store, cluster } = opened;
  store.start();
  await store.whenFirstComplete();
  const context = createOpsContext(cluster, store);
  const auditDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-backup-audit-'));
  const runner = new OperationRunner({ context, readOnly: false, audit: new AuditLog(path.join(auditDir, 'audit.log')), lockDir: auditDir });
  const events: OperationEvent[] = [];
  try {
    const run = await runner.run(request, { onEvent: (event) => events.push(event) });
    await runner.whenIdle();
    return { run, events };
  } finally {
    await context.close();
    await store.stop();
    fs.rmSync(auditDir, { recursive: true, force: true });
  }
}

/** The scope's keys in etcd, with the values that define the cluster (leader, initialize, config). */
export function dcsFingerprint(topology: LabTopology): { keys: string[]; leader: string; initialize: string } {
  const endpoints = topology.etcd.map((e) => `http://${topology.host}:${e.clientPort}`).join(',');
  const get = (args: string[]) => execFileSync('/usr/bin/etcdctl', [`--endpoints=${endpoints}`, 'get', ...args], { env: { ETCDCTL_API: '3', PATH: '/usr/bin:/bin' } }).toString();
  const prefix = `${topology.namespace}/${topology.scope}/`;
  const keys = get(['--prefix', '--keys-only', prefix])
    .split('\n')
    .filter((l) => l.trim())
    // Members' keys are rewritten every loop (their xlog position); their names are what must not change.
    .sort();
  return { keys, leader: get(['--print-value-only', `${prefix}leader`]).trim(), initialize: get(['--print-value-only', `${prefix}initialize`]).trim() };
}

/** Every member directory's entries, and each data directory's postmaster.pid (a restart would change it). */
export function dataDirFingerprint(topology: LabTopology): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of topology.members) {
    out[m.name] = {
      entries: fs.readdirSync(m.dir).sort(),
      dataEntries: fs.readdirSync(m.dataDir).filter((e) => e !== 'postmaster.opts').sort(),
      postmaster: fs.readFileSync(path.join(m.dataDir, 'postmaster.pid'), 'utf8').split('\n').slice(0, 3).join(' '),
    };
  }
  return out;
}

export async function serverNow(topology: LabTopology): Promise<string> {
  const rows = await labQuery<{ now: string }>(topology, topology.haproxy.writePort, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS now");
  return rows[0]?.now as string;
}

export function loadTarget(topology: LabTopology) {
  return { host: topology.host, port: topology.haproxy.writePort, user: 'postgres', password: labSuperuserPassword(topology), database: 'postgres' };
}
