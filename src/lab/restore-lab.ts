import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readLabState, writeLabState } from './lab-state.js';
import { labAccounts, postmasterPid } from './lab.js';
import { isOurProcessAlive, spawnDaemon, stopProcess } from './processes.js';
import type { LabTopology } from './topology.js';
import { waitFor } from '../util/wait.js';

/**
 * What a cluster rewind needs of the native lab, beyond lab up/down: stop and start one member's Patroni
 * by its recorded pid, move data directories aside as named safety copies (and list and remove them),
 * and wipe the scope's keys in etcd so that Patroni starts from a fresh cluster state.
 */

/** Stop one member: its Patroni (SIGTERM, by recorded pid), then a postmaster left without it (fast shutdown). */
export async function stopLabMember(topology: LabTopology, name: string): Promise<void> {
  const member = topology.members.find((m) => m.name === name);
  if (!member) throw new Error(`no member ${name} in the lab`);
  const record = readLabState(topology.paths.stateFile)?.processes[name];
  if (record) await stopProcess(record.pid, record.marker, 60_000);
  const orphan = postmasterPid(member);
  if (orphan) {
    process.kill(orphan, 'SIGINT');
    await waitFor(`PostgreSQL of ${name} to stop`, () => (isOurProcessAlive(orphan, member.dataDir) ? undefined : true), { timeoutMs: 120_000, intervalMs: 100 });
  }
}

export function labMemberRunning(topology: LabTopology, name: string): boolean {
  const member = topology.members.find((m) => m.name === name);
  const record = readLabState(topology.paths.stateFile)?.processes[name];
  return (record !== undefined && isOurProcessAlive(record.pid, record.marker)) || (member !== undefined && postmasterPid(member) !== undefined);
}

/** Start one member's Patroni as the lab does (same account, log and marker), recorded in lab.json. */
export function startLabMember(topology: LabTopology, name: string): number {
  const member = topology.members.find((m) => m.name === name);
  if (!member) throw new Error(`no member ${name} in the lab`);
  const accounts = labAccounts();
  const pid = spawnDaemon({ name, command: '/usr/bin/patroni', args: [member.configFile], logFile: member.logFile, cwd: member.dir, ...(accounts.postgres ? { runAs: accounts.postgres } : {}) });
  const state = readLabState(topology.paths.stateFile);
  if (state) {
    state.processes[name] = { name, kind: 'patroni', pid, marker: member.configFile, startedAt: new Date().toISOString() };
    writeLabState(topology.paths.stateFile, state);
  }
  return pid;
}

/** The archive_command the lab gives a member (configs/archive-wal.sh into Barman's incoming directory). */
export function labArchiveCommand(topology: LabTopology, name: string): string {
  const member = topology.members.find((m) => m.name === name);
  if (!member) throw new Error(`no member ${name} in the lab`);
  return [topology.paths.archiveScript, '%p', '%f', topology.barman.spoolDir, topology.barman.incomingDir, member.archiveLog].join(' ');
}

function etcdctl(topology: LabTopology, args: string[]): Promise<string> {
  const endpoints = topology.etcd.map((e) => `http://${topology.host}:${e.clientPort}`).join(',');
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/etcdctl', [`--endpoints=${endpoints}`, ...args], { env: { ETCDCTL_API: '3', PATH: '/usr/bin:/bin' }, timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`etcdctl ${args.join(' ')}: ${stderr.trim() || error.message}`)) : resolve(stdout),
    );
  });
}

export function scopeKeyPrefix(topology: LabTopology): string {
  return `${topology.namespace.replace(/\/+$/, '')}/${topology.scope}/`;
}

/** The scope's keys (names only). */
export async function dcsScopeKeys(topology: LabTopology): Promise<string[]> {
  const out = await etcdctl(topology, ['get', '--prefix', '--keys-only', scopeKeyPrefix(topology)]);
  return out.split('\n').filter((l) => l.trim());
}

/** Delete every key of the scope (patronictl remove, through etcd): Patroni then starts a fresh cluster state. */
export async function wipeDcsScope(topology: LabTopology): Promise<number> {
  const out = await etcdctl(topology, ['del', '--prefix', scopeKeyPrefix(topology)]);
  return Number(out.trim()) || 0;
}

// ------------------------------------------------------------------ safety copies

export interface SafetyCopy {
  id: string;
  member: string;
  path: string;
  /** The data directory it was moved from (and can be moved back to). */
  from: string;
  createdAt: string;
  /** Why it was made: "rewind to time …". */
  reason: string;
  /** A copy in a member's container (compose rewind): `path` and `from` are paths in that container. */
  container?: string;
  /** The volume (or host path of the bind mount) that holds it, and where the member mounts it. */
  volume?: string;
  mountedAt?: string;
  /** The cluster it belongs to, and the Docker API it was made through (default DOCKER_HOST). */
  cluster?: string;
  dockerSocket?: string;
}

/** Where a safety copy is: its path, prefixed by its container (`db1:/var/lib/…`) when it is in one. */
export function safetyCopyLocation(copy: Pick<SafetyCopy, 'container' | 'path'>): string {
  return `${copy.container ? `${copy.container}:` : ''}${copy.path}`;
}

const SAFETY_PREFIX = 'data.safety-';

function metaFile(copyPath: string): string {
  return `${copyPath}.json`;
}

/** Move a member's data directory aside (same file system: a rename) and describe it beside it. */
export function moveDataAside(topology: LabTopology, name: string, stamp: string, reason: string): SafetyCopy {
  const member = topology.members.find((m) => m.name === name);
  if (!member) throw new Error(`no member ${name} in the lab`);
  const target = path.join(member.dir, `${SAFETY_PREFIX}${stamp}`);
  if (fs.existsSync(target)) throw new Error(`${target} exists already`);
  if (!fs.existsSync(member.dataDir)) throw new Error(`${member.dataDir} does not exist`);
  fs.renameSync(member.dataDir, target);
  const copy: SafetyCopy = { id: `${name}-${stamp}`, member: name, path: target, from: member.dataDir, createdAt: new Date().toISOString(), reason };
  fs.writeFileSync(metaFile(target), `${JSON.stringify(copy, null, 2)}\n`, { mode: 0o644 });
  return copy;
}

/** Every safety copy of the lab, oldest first. */
export function listSafetyCopies(topology: LabTopology): SafetyCopy[] {
  const copies: SafetyCopy[] = [];
  for (const member of topology.members) {
    let entries: string[];
    try {
      entries = fs.readdirSync(member.dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.startsWith(SAFETY_PREFIX) || entry.endsWith('.json')) continue;
      const copyPath = path.join(member.dir, entry);
      let copy: SafetyCopy = { id: `${member.name}-${entry.slice(SAFETY_PREFIX.length)}`, member: member.name, path: copyPath, from: member.dataDir, createdAt: '', reason: '' };
      try {
        copy = { ...copy, ...(JSON.parse(fs.readFileSync(metaFile(copyPath), 'utf8')) as Partial<SafetyCopy>) };
      } catch {
        copy.createdAt = fs.statSync(copyPath).mtime.toISOString();
      }
      copies.push(copy);
    }
  }
  return copies.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export function removeSafetyCopy(topology: LabTopology, id: string): SafetyCopy | undefined {
  const copy = listSafetyCopies(topology).find((c) => c.id === id);
  if (!copy) return undefined;
  fs.rmSync(copy.path, { recursive: true, force: true });
  fs.rmSync(metaFile(copy.path), { force: true });
  return copy;
}

/** A shell command that drops `pause` from Patroni's cache of the dynamic config in a data directory (python3: Patroni's own interpreter). */
export const UNPAUSE_CACHE = (dataDir: string): string =>
  `if [ -f ${dataDir}/patroni.dynamic.json ]; then python3 -c "import json,sys; p=sys.argv[1]; d=json.load(open(p)); d.pop(\\"pause\\", None); json.dump(d, open(p, \\"w\\"))" ${dataDir}/patroni.dynamic.json; fi`;

/** How to go back to the safety copies, as shell lines the operator can run. */
export function undoInstructions(topology: LabTopology, copies: SafetyCopy[]): string[] {
  const dir = topology.options.dir;
  const endpoints = topology.etcd.map((e) => `http://${topology.host}:${e.clientPort}`).join(',');
  return [
    `pgcockpit lab down --dir ${dir}`,
    // The copies were taken from a paused cluster: Patroni's cache of the dynamic config says so, and with an empty DCS it would stay paused.
    ...copies.map((c) => `rm -rf ${c.from} && mv ${c.path} ${c.from} && rm -f ${metaFile(c.path)} && ${UNPAUSE_CACHE(c.from)}`),
    `ETCDCTL_API=3 etcdctl --endpoints=${endpoints} del --prefix ${scopeKeyPrefix(topology)}`,
    `pgcockpit lab up --dir ${dir} --port-base ${topology.options.portBase} --members ${topology.options.members}`,
  ];
}
