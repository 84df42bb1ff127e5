import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DockerEngine, dockerEndpoint } from '../../src/services/docker.js';
import { waitUntil } from '../../src/ops/wait.js';
import { packageRoot } from '../../src/util/package-root.js';

/**
 * Helpers of the suites that need a container engine: can this machine host the compose stack (a Docker
 * API that answers, docker-compose, the base image), and the stack's own handles (its .env, its members).
 * `bash scripts/setup-containers.sh` (run by scripts/setup.sh, so by `npm test` and .ci/run) makes a
 * Debian machine able: Podman serving the Docker API on /run/podman/podman.sock.
 */

export const PODMAN_SOCKET = '/run/podman/podman.sock';
export const COMPOSE_DIR = path.join(packageRoot(), 'compose');
export const COMPOSE_FILE = path.join(COMPOSE_DIR, 'docker-compose.yml');
export const COMPOSE_CONFIG = path.join(COMPOSE_DIR, 'pgcockpit.yaml');

/** DOCKER_HOST when set, else Podman's socket when it is there, else Docker's default socket. */
export function dockerHost(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  if (fs.existsSync(PODMAN_SOCKET)) return `unix://${PODMAN_SOCKET}`;
  return 'unix:///var/run/docker.sock';
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, cwd: options.cwd }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 127) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() || (error && !stderr ? error.message : '') });
    });
  });
}

export interface ContainerHost {
  able: boolean;
  /** What is missing, in words (empty when able). */
  missing: string[];
  dockerHost: string;
}

/** Can this machine host the compose stack? Each missing piece named, with how to get it. */
export async function containerHost(env: NodeJS.ProcessEnv = process.env): Promise<ContainerHost> {
  const host = dockerHost(env);
  const missing: string[] = [];
  let engine: DockerEngine | undefined;
  try {
    dockerEndpoint(host, env);
    engine = new DockerEngine({ socket: host, timeoutMs: 5000 });
    await engine.ping();
  } catch (error) {
    missing.push(`a Docker API at ${host} (${(error as Error).message}; run: sudo bash scripts/setup-containers.sh)`);
    engine = undefined;
  }
  const compose = await run('docker-compose', ['version', '--short'], { timeoutMs: 20_000 });
  if (compose.code !== 0) missing.push('docker-compose (apt-get install docker-compose; or run scripts/setup-containers.sh)');
  if (engine) {
    const image = await run('curl', ['-fsS', '--max-time', '5', '--unix-socket', host.replace(/^unix:\/\//, ''), 'http://d/images/debian:bookworm-slim/json'], { timeoutMs: 10_000 });
    if (image.code !== 0) missing.push('the base image debian:bookworm-slim (scripts/setup-containers.sh builds it with debootstrap)');
  }
  return { able: missing.length === 0, missing, dockerHost: host };
}

/** compose/.env as a map (documented defaults; the stack's credentials). */
export function composeEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(COMPOSE_DIR, '.env'), 'utf8').split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1]) out[m[1]] = m[2] as string;
  }
  return out;
}

export interface ComposeStack {
  project: string;
  env: NodeJS.ProcessEnv;
  engine: DockerEngine;
  password: string;
  compose(args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function composeStack(project: string, host: string): ComposeStack {
  const values = composeEnv();
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: host, POSTGRES_PASSWORD: values.POSTGRES_PASSWORD as string };
  return {
    project,
    env,
    engine: new DockerEngine({ socket: host, timeoutMs: 30_000 }),
    password: values.POSTGRES_PASSWORD as string,
    compose: (args, timeoutMs = 600_000) => run('docker-compose', ['-p', project, '-f', COMPOSE_FILE, ...args], { env, timeoutMs, cwd: COMPOSE_DIR }),
  };
}

/**
 * Tear the stack down whatever state it is in: `down -v`, then whatever a restart policy brought back
 * meanwhile (Podman may restart a container that `down` had just stopped) removed by the project's label,
 * and a rewind's helper container left by a rewind that was stopped half-way,
 * then `down -v` again for the volumes and the network.
 */
export async function teardownStack(stack: ComposeStack): Promise<string[]> {
  const said: string[] = [];
  const down = await stack.compose(['down', '-v', '--remove-orphans', '-t', '5'], 300_000);
  said.push(`down: exit ${down.code}`);
  const host = stack.env.DOCKER_HOST as string;
  const socket = host.replace(/^unix:\/\//, '');
  // The project's containers, and a rewind's helper container (not the project's: the cockpit starts it).
  const leftovers: Array<{ Id: string; Names: string[] }> = [];
  for (const label of [`com.docker.compose.project=${stack.project}`, 'pgcockpit.rewind']) {
    const filter = encodeURIComponent(JSON.stringify({ label: [label] }));
    const listed = await run('curl', ['-fsS', '--max-time', '20', '--unix-socket', socket, `http://d/containers/json?all=true&filters=${filter}`]);
    if (listed.code === 0) leftovers.push(...(JSON.parse(listed.stdout) as Array<{ Id: string; Names: string[] }>));
  }
  for (const c of leftovers) {
    await run('curl', ['-fsS', '--max-time', '60', '--unix-socket', socket, '-X', 'DELETE', `http://d/containers/${c.Id}?force=true&v=true`]);
    said.push(`removed leftover ${c.Names.join(',')}`);
  }
  if (leftovers.length) {
    const again = await stack.compose(['down', '-v', '--remove-orphans', '-t', '5'], 300_000);
    said.push(`down again: exit ${again.code}`);
  }
  return said;
}

/** The names of the engine's containers (running or not) that carry this label. */
export async function containersLabelled(stack: ComposeStack, label: string): Promise<string[]> {
  const socket = (stack.env.DOCKER_HOST as string).replace(/^unix:\/\//, '');
  const filter = encodeURIComponent(JSON.stringify({ label: [label] }));
  const listed = await run('curl', ['-fsS', '--max-time', '20', '--unix-socket', socket, `http://d/containers/json?all=true&filters=${filter}`]);
  if (listed.code !== 0) throw new Error(`listing containers labelled ${label}: ${listed.stderr}`);
  return (JSON.parse(listed.stdout) as Array<{ Names: string[] }>).flatMap((c) => c.Names);
}

/** Run a command in one of the stack's containers (as `user`); throws with its output when it fails. */
export async function inContainer(stack: ComposeStack, container: string, argv: string[], user?: string): Promise<string> {
  const result = await stack.engine.exec(container, argv, { timeoutMs: 120_000, ...(user ? { user } : {}) });
  if (result.code !== 0) throw new Error(`${argv.join(' ')} in ${container} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}

export interface PatronictlMember {
  Member: string;
  Host: string;
  Role: string;
  State: string;
  TL?: number;
  'Lag in MB'?: number | string;
}

export async function patronictlList(stack: ComposeStack, container = 'pgcockpit-db1'): Promise<PatronictlMember[]> {
  return JSON.parse(await inContainer(stack, container, ['patronictl', '-c', '/etc/patroni/patroni.yml', 'list', '-f', 'json'], 'postgres')) as PatronictlMember[];
}

export const COMPOSE_PG_PORTS: Record<string, number> = { db1: 15431, db2: 15432, db3: 15433, db4: 15434 };
export const COMPOSE_WRITE_PORT = 5551;

export async function composeQuery<T extends pg.QueryResultRow>(stack: ComposeStack, port: number, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: stack.password, database: 'postgres', connectionTimeoutMillis: 5000, query_timeout: 30_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Wait until Patroni lists a leader and three running/streaming replicas, all on the leader's timeline. */
export async function waitComposeHealthy(stack: ComposeStack, timeoutMs = 240_000): Promise<{ leader: string; members: PatronictlMember[] }> {
  return waitUntil(
    'a leader and 3 running replicas on its timeline (patronictl list in pgcockpit-db1)',
    async () => {
      const members = await patronictlList(stack);
      const leader = members.find((m) => m.Role === 'Leader' && m.State === 'running');
      const replicas = members.filter((m) => m.Role === 'Replica' && (m.State === 'running' || m.State === 'streaming') && m.TL === leader?.TL);
      return leader && replicas.length === 3 ? { leader: leader.Member, members } : undefined;
    },
    { signal: AbortSignal.timeout(timeoutMs + 1000), timeoutMs, intervalMs: 1000 },
  );
}
