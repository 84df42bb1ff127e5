import { spawn } from 'node:child_process';
import { parseHaproxyStatsCsv } from '../services/haproxy.js';
import type { RunAs } from './processes.js';
import { DAEMON_PATH } from './processes.js';
import type { LabTopology } from './topology.js';

/** GET a JSON document with a timeout; undefined when unreachable or not JSON. */
export async function getJson(url: string, timeoutMs = 1500): Promise<unknown> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok && response.status !== 503) return undefined;
    return (await response.json()) as unknown;
  } catch {
    return undefined;
  }
}

export async function getText(url: string, timeoutMs = 1500): Promise<string | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    return await response.text();
  } catch {
    return undefined;
  }
}

export interface HaproxyServerRow {
  proxy: string;
  server: string;
  status: string;
}

/** Parse HAProxy's stats CSV (`GET /;csv`): one row per frontend, backend and server (the services' parser). */
export function parseHaproxyCsv(csv: string): HaproxyServerRow[] {
  return parseHaproxyStatsCsv(csv).map((row) => ({ proxy: row.pxname ?? '', server: row.svname ?? '', status: row.status ?? '' }));
}

export interface LabReadiness {
  etcdHealthy: string[];
  etcdUnhealthy: string[];
  leader?: string;
  members: Array<{ name: string; role: string; state: string; timeline?: number }>;
  /** Replicas the leader reports with replication state "streaming". */
  streaming: string[];
  haproxyWriteUp: string[];
  haproxyReadUp: string[];
  problems: string[];
  ready: boolean;
}

interface ClusterMember {
  name?: string;
  role?: string;
  state?: string;
  timeline?: number;
}

/**
 * Look at the lab the way an operator would: etcd health, Patroni's view, the leader's replication
 * state (Patroni 3.0 reports a replica as "running" before it streams), and HAProxy's routing.
 */
export async function probeLab(topology: LabTopology): Promise<LabReadiness> {
  const host = topology.host;
  const etcdResults = await Promise.all(
    topology.etcd.map(async (e) => {
      const health = (await getJson(`http://${host}:${e.clientPort}/health`)) as { health?: string } | undefined;
      return { name: e.name, healthy: health?.health === 'true' };
    }),
  );
  const problems: string[] = [];
  const etcdHealthy = etcdResults.filter((r) => r.healthy).map((r) => r.name);
  const etcdUnhealthy = etcdResults.filter((r) => !r.healthy).map((r) => r.name);
  if (etcdUnhealthy.length) problems.push(`etcd not healthy: ${etcdUnhealthy.join(', ')}`);

  let members: LabReadiness['members'] = [];
  for (const m of topology.members) {
    const cluster = (await getJson(`http://${host}:${m.restPort}/cluster`)) as { members?: ClusterMember[] } | undefined;
    if (cluster?.members) {
      members = cluster.members.map((c) => ({
        name: c.name ?? '?',
        role: c.role ?? '?',
        state: c.state ?? '?',
        ...(c.timeline === undefined ? {} : { timeline: c.timeline }),
      }));
      break;
    }
  }
  if (members.length === 0) problems.push('no Patroni REST API answers /cluster');
  const leaders = members.filter((m) => m.role === 'leader' || m.role === 'standby_leader');
  const leader = leaders.length === 1 ? leaders[0]?.name : undefined;
  if (members.length && leaders.length === 0) problems.push('no leader yet');
  if (leaders.length > 1) problems.push(`more than one leader: ${leaders.map((l) => l.name).join(', ')}`);
  const missing = topology.members.filter((t) => !members.some((m) => m.name === t.name)).map((t) => t.name);
  if (members.length && missing.length) problems.push(`not registered in the DCS yet: ${missing.join(', ')}`);

  let streaming: string[] = [];
  if (leader) {
    const leaderSpec = topology.members.find((m) => m.name === leader);
    const patroni = leaderSpec
      ? ((await getJson(`http://${host}:${leaderSpec.restPort}/patroni`)) as
          | { replication?: Array<{ application_name?: string; state?: string }> }
          | undefined)
      : undefined;
    streaming = (patroni?.replication ?? [])
      .filter((r) => r.state === 'streaming' && r.application_name)
      .map((r) => r.application_name as string)
      .sort();
    const notStreaming = topology.members
      .filter((m) => m.name !== leader && !streaming.includes(m.name))
      .map((m) => m.name);
    if (notStreaming.length) problems.push(`not streaming from ${leader} yet: ${notStreaming.join(', ')}`);
  }

  let haproxyWriteUp: string[] = [];
  let haproxyReadUp: string[] = [];
  const csv = await getText(`http://${host}:${topology.haproxy.statsPort}/;csv`);
  if (csv === undefined) {
    problems.push('HAProxy stats do not answer');
  } else {
    const rows = parseHaproxyCsv(csv).filter((r) => r.server !== 'FRONTEND' && r.server !== 'BACKEND');
    haproxyWriteUp = rows.filter((r) => r.proxy === 'write' && r.status.startsWith('UP')).map((r) => r.server);
    haproxyReadUp = rows.filter((r) => r.proxy === 'read' && r.status.startsWith('UP')).map((r) => r.server);
    if (leader && (haproxyWriteUp.length !== 1 || haproxyWriteUp[0] !== leader)) {
      problems.push(`HAProxy write port routes to [${haproxyWriteUp.join(', ')}], not only to the leader ${leader}`);
    }
    const replicas = topology.members.filter((m) => m.name !== leader).map((m) => m.name);
    const readMissing = replicas.filter((r) => !haproxyReadUp.includes(r));
    if (leader && readMissing.length) problems.push(`HAProxy read port does not route to: ${readMissing.join(', ')}`);
  }
  const result: LabReadiness = {
    etcdHealthy,
    etcdUnhealthy,
    members,
    streaming,
    haproxyWriteUp,
    haproxyReadUp,
    problems,
    ready: problems.length === 0,
  };
  if (leader) result.leader = leader;
  return result;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command to completion (as another account when given), with a timeout. */
export function runCommand(
  command: string,
  args: string[],
  options: { runAs?: RunAs; timeoutMs: number; env?: Record<string, string>; input?: string },
): Promise<CommandResult> {
  let cmd = command;
  let argv = args;
  if (options.runAs) {
    cmd = 'setpriv';
    argv = [
      `--reuid=${options.runAs.uid}`,
      `--regid=${options.runAs.gid}`,
      `--groups=${options.runAs.groups.join(',')}`,
      '--',
      command,
      ...args,
    ];
  }
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, {
      env: {
        PATH: DAEMON_PATH,
        LANG: 'C.UTF-8',
        HOME: options.runAs?.home ?? process.env.HOME ?? '/',
        ...options.env,
      },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('error', (error) => resolve({ code: 127, stdout, stderr: stderr + error.message }));
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\nkilled by ${signal} (timeout ${options.timeoutMs} ms)` : stderr }),
    );
  });
}
