import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import readline from 'node:readline';
import type Docker from 'dockerode';
import { errorCode, networkError, timeoutError, withDeadline } from './errors.js';
import type { CallOptions, ExecResult, SourceName } from './types.js';
import { ServiceError } from './types.js';

/**
 * The Docker Engine API (dockerode): exec in a container with its output streamed and its exit code, a
 * container's state, stop/start, the tail of its log. Works against Docker and against Podman's
 * Docker-compatible service. Every failure is a ServiceError naming the API and the container: a missing
 * socket, a container that does not exist or is not running, an exec the engine refused.
 */

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const DEFAULT_TIMEOUT_MS = 30_000;
/** Output kept per stream of an exec; a runaway command must not eat the cockpit's memory. */
const OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024;

export type DockerEndpoint = { socketPath: string } | { host: string; port: number; protocol: 'http' | 'https' };

/**
 * Where the Docker API is: the configured socket (a path, unix:// or tcp:// URL), else DOCKER_HOST, else
 * /var/run/docker.sock. Throws a plain Error for what cannot be used (ssh://, a malformed URL).
 */
export function dockerEndpoint(socket: string | undefined, env: NodeJS.ProcessEnv = process.env): { endpoint: DockerEndpoint; label: string } {
  const raw = socket ?? (env.DOCKER_HOST || undefined) ?? DEFAULT_DOCKER_SOCKET;
  if (raw.startsWith('/')) return { endpoint: { socketPath: raw }, label: `unix://${raw}` };
  const match = /^(unix|tcp|http|https):\/\/(.*)$/.exec(raw);
  if (!match) throw new Error(`the Docker API address "${raw}" is neither a socket path nor a unix:// or tcp:// URL`);
  const scheme = match[1] as string;
  const rest = match[2] as string;
  if (scheme === 'unix') return { endpoint: { socketPath: rest }, label: raw };
  const hostPort = /^\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(rest);
  if (!hostPort) throw new Error(`the Docker API address "${raw}" has no host:port`);
  return {
    endpoint: { host: hostPort[1] as string, port: Number(hostPort[2]), protocol: scheme === 'https' ? 'https' : 'http' },
    label: raw,
  };
}

/** A container's state as the engine reports it. */
export interface ContainerState {
  container: string;
  /** created, running, paused, restarting, removing, exited, dead. */
  status: string;
  running: boolean;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  /** The engine's health check verdict, when the container has one and it ran. */
  health?: string;
  restartCount?: number;
  /** The engine's own error (e.g. an OCI runtime failure at start). */
  error?: string;
}

/** A mount of a container: a named volume or a bind mount of a host path. */
export interface ContainerMount {
  type: 'volume' | 'bind';
  /** The volume's name, or the host path of a bind mount. */
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface DockerExecOptions extends CallOptions {
  user?: string;
  env?: string[];
  /** Called for each line of stdout (the output is then not collected). */
  onLine?: (line: string) => void;
}

interface EngineError {
  statusCode?: number;
  json?: { message?: string } | null;
  reason?: string;
  message?: string;
}

function engineMessage(error: unknown): string {
  const e = error as EngineError;
  const fromJson = e.json && typeof e.json === 'object' ? e.json.message : undefined;
  return (fromJson ?? e.message ?? String(error)).replace(/^\(HTTP code \d+\)\s*/, '').split('\n')[0]?.trim() ?? '';
}

function isTimestampSet(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && !value.startsWith('0001-01-01');
}

export class DockerEngine {
  readonly label: string;
  private readonly endpoint: DockerEndpoint;
  private client: Promise<Docker> | undefined;

  constructor(
    options: { socket?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
    private readonly source: SourceName = 'docker',
  ) {
    const { endpoint, label } = dockerEndpoint(options.socket, options.env);
    this.label = label;
    this.endpoint = endpoint;
    this.defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** dockerode (and the gRPC stack it brings) is loaded on first use: a cluster without containers never pays for it. */
  private docker(): Promise<Docker> {
    this.client ??= import('dockerode').then(({ default: Dockerode }) => new Dockerode({ ...this.endpoint, timeout: this.defaultTimeoutMs }));
    return this.client;
  }

  private readonly defaultTimeoutMs: number;

  /** Translate what dockerode threw into an operator's message about this API and this container. */
  private fail(error: unknown, container: string | undefined, what: string): ServiceError {
    if (error instanceof ServiceError) return error;
    const status = (error as EngineError).statusCode;
    const where = `the Docker API at ${this.label}`;
    if (status === undefined) {
      const code = errorCode(error);
      if (code === 'ENOENT') return new ServiceError(this.source, 'unreachable', `${where} is not there (no such socket): is the engine running? (set DOCKER_HOST or the config's socket)`, this.label, { cause: error });
      if (code === 'EACCES') return new ServiceError(this.source, 'unreachable', `${where} refused this user (permission denied on the socket)`, this.label, { cause: error });
      return networkError(this.source, where, this.label, error);
    }
    const message = engineMessage(error);
    if (status === 404 && container) return new ServiceError(this.source, 'failed', `container ${container} does not exist (${where})`, this.label, { cause: error });
    if (status === 409 || (status === 500 && /not running|stopped|paused|only create exec sessions on running containers|state improper/i.test(message))) {
      return new ServiceError(this.source, 'unreachable', `container ${container ?? '?'} is not running: cannot ${what} (${message})`, this.label, { cause: error });
    }
    return new ServiceError(this.source, 'failed', `${where} refused to ${what}${container ? ` in ${container}` : ''}: HTTP ${status} ${message}`, this.label, { cause: error });
  }

  private call<T>(container: string | undefined, what: string, options: CallOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return withDeadline(
      timeoutMs,
      options.signal,
      () => timeoutError(this.source, `${what}${container ? ` (${container})` : ''} through ${this.label}`, this.label, timeoutMs),
      async (signal) => {
        try {
          return await work(signal);
        } catch (error) {
          throw this.fail(error, container, what);
        }
      },
    );
  }

  /** Is the API there (GET /_ping)? */
  async ping(options: CallOptions = {}): Promise<void> {
    await this.call(undefined, 'answer a ping', options, async () => (await this.docker()).ping());
  }

  async state(container: string, options: CallOptions = {}): Promise<ContainerState> {
    const info = await this.call(container, 'inspect the container', options, async (abortSignal) => (await this.docker()).getContainer(container).inspect({ abortSignal }));
    const s = info.State as Docker.ContainerInspectInfo['State'] & { Health?: { Status?: string }; Error?: string };
    const state: ContainerState = { container, status: s.Status, running: s.Running === true };
    if (!s.Running && typeof s.ExitCode === 'number') state.exitCode = s.ExitCode;
    if (s.Status === 'restarting' && typeof s.ExitCode === 'number') state.exitCode = s.ExitCode;
    if (isTimestampSet(s.StartedAt)) state.startedAt = s.StartedAt;
    if (isTimestampSet(s.FinishedAt) && !s.Running) state.finishedAt = s.FinishedAt;
    if (s.Health?.Status) state.health = s.Health.Status;
    if (typeof info.RestartCount === 'number') state.restartCount = info.RestartCount;
    if (s.Error) state.error = s.Error;
    return state;
  }

  /** The container's published ports: container port → host address and port (TCP only). */
  async publishedPorts(container: string, options: CallOptions = {}): Promise<Array<{ containerPort: number; hostIp: string; hostPort: number }>> {
    const info = await this.call(container, 'inspect the container', options, async (abortSignal) => (await this.docker()).getContainer(container).inspect({ abortSignal }));
    const ports = (info.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;
    const out: Array<{ containerPort: number; hostIp: string; hostPort: number }> = [];
    for (const [key, bindings] of Object.entries(ports)) {
      const [port, protocol] = key.split('/');
      if (protocol !== 'tcp' || !bindings) continue;
      for (const b of bindings) {
        if (b.HostPort) out.push({ containerPort: Number(port), hostIp: b.HostIp || '0.0.0.0', hostPort: Number(b.HostPort) });
      }
    }
    return out.sort((a, b) => a.containerPort - b.containerPort);
  }

  /** The container's image and its mounts (named volumes and bind mounts, where they are mounted). */
  async mounts(container: string, options: CallOptions = {}): Promise<{ image: string; mounts: ContainerMount[] }> {
    const info = await this.call(container, 'inspect the container', options, async (abortSignal) => (await this.docker()).getContainer(container).inspect({ abortSignal }));
    const mounts: ContainerMount[] = [];
    for (const m of (info.Mounts ?? []) as Array<{ Type?: string; Name?: string; Source?: string; Destination?: string; RW?: boolean }>) {
      if (!m.Destination) continue;
      if (m.Type === 'volume' && m.Name) mounts.push({ type: 'volume', source: m.Name, destination: m.Destination, readOnly: m.RW === false });
      else if (m.Type === 'bind' && m.Source) mounts.push({ type: 'bind', source: m.Source, destination: m.Destination, readOnly: m.RW === false });
    }
    return { image: info.Config?.Image ?? info.Image, mounts };
  }

  /**
   * Create and start a helper container: `image` with its entrypoint replaced by `sleep infinity` (commands
   * then run in it with exec), as root, without a network, with these mounts. A container of that name left
   * by an earlier run is removed first. Remove it with `remove`.
   */
  async startHelper(spec: { name: string; image: string; mounts: ContainerMount[]; labels?: Record<string, string> }, options: CallOptions = {}): Promise<void> {
    await this.remove(spec.name, options);
    await this.call(spec.name, 'create a helper container', { ...options, timeoutMs: options.timeoutMs ?? 120_000 }, async (abortSignal) => {
      const docker = await this.docker();
      const created = await docker.createContainer({
        name: spec.name,
        Image: spec.image,
        Entrypoint: ['sleep'],
        Cmd: ['infinity'],
        User: 'root',
        Labels: spec.labels ?? {},
        HostConfig: {
          NetworkMode: 'none',
          Mounts: spec.mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.destination, ReadOnly: m.readOnly })),
        },
        abortSignal,
      });
      await created.start({ abortSignal });
    });
  }

  /** Remove a container, stopping it first (SIGKILL); nothing when there is none. */
  async remove(container: string, options: CallOptions = {}): Promise<void> {
    await this.call(container, 'remove the container', { ...options, timeoutMs: options.timeoutMs ?? 120_000 }, async (abortSignal) => {
      try {
        await (await this.docker()).getContainer(container).remove({ force: true, v: false, abortSignal });
      } catch (error) {
        if ((error as EngineError).statusCode === 404) return;
        throw error;
      }
    });
  }

  /** Stop a container: SIGTERM, then SIGKILL after `graceSeconds` (0: at once, a crash). */
  async stop(container: string, graceSeconds: number, options: CallOptions = {}): Promise<void> {
    await this.call(container, 'stop the container', { ...options, timeoutMs: options.timeoutMs ?? (graceSeconds + 30) * 1000 }, async (abortSignal) => {
      try {
        await (await this.docker()).getContainer(container).stop({ t: graceSeconds, abortSignal });
      } catch (error) {
        if ((error as EngineError).statusCode === 304) return; // already stopped
        throw error;
      }
    });
  }

  async start(container: string, options: CallOptions = {}): Promise<void> {
    await this.call(container, 'start the container', options, async (abortSignal) => {
      try {
        await (await this.docker()).getContainer(container).start({ abortSignal });
      } catch (error) {
        if ((error as EngineError).statusCode === 304) return; // already running
        throw error;
      }
    });
  }

  /**
   * Run `argv` in the container and wait for it: its exit code, its output (or each stdout line to
   * `onLine`). On timeout or abort the connection is torn down; the engine gives no way to kill an exec,
   * so a command that ignores its closed output may run on in the container.
   */
  async exec(container: string, argv: string[], options: DockerExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new ServiceError(this.source, 'failed', 'no command given to the Docker transport');
    const shown = argv.join(' ');
    let teardown: (() => void) | undefined;
    const timeoutMs = options.timeoutMs ?? (options.onLine ? Number.MAX_SAFE_INTEGER / 2 : this.defaultTimeoutMs);
    return withDeadline(
      Math.min(timeoutMs, 2_147_000_000),
      options.signal,
      () => timeoutError(this.source, `${shown} in ${container}`, this.label, timeoutMs),
      async (signal) => {
        try {
          const docker = await this.docker();
          const handle = docker.getContainer(container);
          const exec = await handle.exec({
            Cmd: argv,
            AttachStdout: true,
            AttachStderr: true,
            AttachStdin: false,
            Tty: false,
            Env: ['LANG=C.UTF-8', ...(options.env ?? [])],
            ...(options.user ? { User: options.user } : {}),
            abortSignal: signal,
          });
          const stream = await exec.start({ hijack: true, stdin: false, abortSignal: signal });
          teardown = () => stream.destroy();
          const out = new PassThrough();
          const err = new PassThrough();
          let stdout = '';
          let stderr = '';
          if (options.onLine) {
            const onLine = options.onLine;
            readline.createInterface({ input: out }).on('line', (line) => {
              try {
                onLine(line);
              } catch {
                // a listener's failure doesn't stop the stream
              }
            });
          } else {
            out.on('data', (chunk: Buffer) => {
              if (stdout.length < OUTPUT_LIMIT_BYTES) stdout += chunk.toString();
            });
          }
          err.on('data', (chunk: Buffer) => {
            if (stderr.length < OUTPUT_LIMIT_BYTES) stderr += chunk.toString();
          });
          docker.modem.demuxStream(stream, out, err);
          await new Promise<void>((resolve, reject) => {
            stream.once('end', () => resolve());
            stream.once('close', () => resolve());
            stream.once('error', reject);
          });
          out.end();
          err.end();
          // The exit code is set once the engine has reaped the process: ask until it says it stopped.
          let code: number | null = null;
          for (let attempt = 0; attempt < 50 && !signal.aborted; attempt++) {
            const info = await exec.inspect({ abortSignal: signal });
            if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) {
              code = info.ExitCode;
              break;
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          if (code === null) throw new ServiceError(this.source, 'failed', `${shown} in ${container}: the engine never reported an exit code`, this.label);
          return { code, stdout, stderr };
        } catch (error) {
          if (signal.aborted) throw error;
          throw this.fail(error, container, `run ${argv[0] ?? ''}`);
        }
      },
      () => teardown?.(),
    );
  }

  /**
   * The last `lines` lines of the container's log (stdout and stderr, interleaved as written). With
   * `follow`, lines keep coming to `onLine` until the signal aborts: the engine answers a follow request only
   * when the container first writes, so the request itself is raced against the timeout.
   */
  async logs(container: string, options: CallOptions & { lines?: number; follow?: boolean; onLine?: (line: string) => void } = {}): Promise<string[]> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const tail = options.lines ?? 100;
    if (!options.follow) {
      const raw = await this.call(container, 'read the container log', options, async (abortSignal) =>
        (await this.docker()).getContainer(container).logs({ stdout: true, stderr: true, tail, follow: false, abortSignal }),
      );
      return splitLines(demuxBuffer(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))));
    }
    const onLine = options.onLine ?? (() => undefined);
    const collected: string[] = [];
    let teardown: (() => void) | undefined;
    const stream = await this.call(container, 'follow the container log', { ...options, timeoutMs }, async (abortSignal) => {
      const opened = await (await this.docker()).getContainer(container).logs({ stdout: true, stderr: true, tail, follow: true, abortSignal });
      return opened as unknown as Readable;
    });
    const out = new PassThrough();
    teardown = () => stream.destroy();
    options.signal?.addEventListener('abort', () => teardown?.(), { once: true });
    readline.createInterface({ input: out }).on('line', (line) => {
      collected.push(line);
      onLine(line);
    });
    (await this.docker()).modem.demuxStream(stream, out, out);
    await new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    teardown = undefined;
    return collected;
  }
}

/** The engine's multiplexed log format (8-byte frame headers) to text; raw text when not multiplexed (TTY). */
export function demuxBuffer(buffer: Buffer): string {
  let offset = 0;
  let text = '';
  while (offset + 8 <= buffer.length) {
    const type = buffer.readUInt8(offset);
    if (type > 2 || buffer.readUInt16BE(offset + 1) !== 0) return offset === 0 ? buffer.toString() : text + buffer.subarray(offset).toString();
    const length = buffer.readUInt32BE(offset + 4);
    text += buffer.subarray(offset + 8, offset + 8 + length).toString();
    offset += 8 + length;
  }
  return offset === 0 ? buffer.toString() : text;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
