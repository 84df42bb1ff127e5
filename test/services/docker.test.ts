import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterSchema } from '../../src/config/schema.js';
import { DockerEngine, demuxBuffer, dockerEndpoint } from '../../src/services/docker.js';
import { DockerTransport } from '../../src/services/exec/docker.js';
import { createTransport } from '../../src/services/exec/transport.js';
import { BarmanAdapter } from '../../src/services/barman.js';
import { ServiceError } from '../../src/services/types.js';
import { LiveClusterStore } from '../../src/model/live-store.js';
import { createServiceSources } from '../../src/model/service-sources.js';
import { containerHost } from '../support/containers.js';

/**
 * The Docker transport's failures, against real conditions: a socket that does not exist, a container that
 * does not exist on the real Podman service, a stopped container, a command that fails or is not there.
 * Each is a ServiceError with the reason, and in the model a stale source with its message, never a crash.
 */

const MISSING_SOCKET = '/tmp/pgcockpit-test-no-such-dir/docker.sock';
const host = await containerHost();
if (!host.able) process.stderr.write(`[docker] the tests against a real engine do not run here; missing: ${host.missing.join('; ')}\n`);

describe('the Docker API address', () => {
  it('takes a socket path, unix:// and tcp:// URLs, then DOCKER_HOST, then the default socket', () => {
    expect(dockerEndpoint('/run/podman/podman.sock').endpoint).toEqual({ socketPath: '/run/podman/podman.sock' });
    expect(dockerEndpoint('unix:///run/x.sock').endpoint).toEqual({ socketPath: '/run/x.sock' });
    expect(dockerEndpoint('tcp://10.0.0.5:2375').endpoint).toEqual({ host: '10.0.0.5', port: 2375, protocol: 'http' });
    expect(dockerEndpoint(undefined, { DOCKER_HOST: 'unix:///a.sock' }).label).toBe('unix:///a.sock');
    expect(dockerEndpoint(undefined, {}).endpoint).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(() => dockerEndpoint('ssh://me@host')).toThrow(/neither a socket path nor a unix:\/\/ or tcp:\/\/ URL/);
  });

  it('reads the engine’s multiplexed log frames', () => {
    const frame = (type: number, text: string) => Buffer.concat([Buffer.from([type, 0, 0, 0, 0, 0, 0, Buffer.byteLength(text)]), Buffer.from(text)]);
    expect(demuxBuffer(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n');
    expect(demuxBuffer(Buffer.from('plain tty text\n'))).toBe('plain tty text\n');
  });
});

describe('a socket that does not exist', () => {
  it('fails every call with the reason, as a ServiceError of its source', async () => {
    const engine = new DockerEngine({ socket: MISSING_SOCKET, timeoutMs: 3000 });
    const error = await engine.state('pgcockpit-db1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).kind).toBe('unreachable');
    expect((error as ServiceError).source).toBe('docker');
    expect((error as ServiceError).message).toBe(`the Docker API at unix://${MISSING_SOCKET} is not there (no such socket): is the engine running? (set DOCKER_HOST or the config's socket)`);

    const transport = createTransport({ kind: 'docker', container: 'pgcockpit-barman', socket: MISSING_SOCKET }, { source: 'barman' });
    const execError = await transport.exec(['barman', '-f', 'json', 'list-backups', 'patroni1']).catch((e: unknown) => e);
    expect(execError).toBeInstanceOf(ServiceError);
    expect((execError as ServiceError).source).toBe('barman');
    expect((execError as ServiceError).message).toContain('is not there (no such socket)');
  });

  it('an unusable DOCKER_HOST fails the transport’s calls with the reason instead of throwing at construction', async () => {
    const previous = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'ssh://operator@docker-host';
    try {
      const transport = createTransport({ kind: 'docker', container: 'pgcockpit-barman' }, { source: 'barman' });
      await expect(transport.exec(['true'])).rejects.toThrow(/ssh:\/\/operator@docker-host.*neither a socket path/);
    } finally {
      if (previous === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = previous;
    }
  });

  it('reaches the model as stale sources with their message (containers, Barman, archive log), never a crash', async () => {
    const cluster = clusterSchema.parse({
      name: 'gone',
      scope: 'patroni1',
      // Nothing listens on these: Patroni and etcd fail too, and the members still come from the config.
      patroni: { endpoints: ['http://127.0.0.1:9'], timeoutMs: 500 },
      etcd: { endpoints: ['http://127.0.0.1:9'], timeoutMs: 500 },
      barman: { server: 'patroni1', transport: { kind: 'docker', container: 'pgcockpit-barman', socket: MISSING_SOCKET }, timeoutMs: 3000 },
      archiveLog: { path: '/var/log/postgresql/archive.log', transport: { kind: 'docker', container: 'pgcockpit-db1', socket: MISSING_SOCKET } },
      members: { db1: { container: 'pgcockpit-db1', postgres: '127.0.0.1:9', restApi: 'http://127.0.0.1:9' }, db2: { container: 'pgcockpit-db2' } },
      docker: { socket: MISSING_SOCKET, timeoutMs: 2000 },
    });
    const store = new LiveClusterStore({ cluster, sources: createServiceSources(cluster, {}), pollIntervalMs: 60_000, watchDcs: false, leaderProbeIntervalMs: 0 });
    store.start();
    try {
      await store.whenFirstComplete();
      const snapshot = store.getSnapshot();
      const source = (key: string) => snapshot.sources[key];
      for (const key of ['docker:db1', 'docker:db2', 'barman']) expect(source(key)?.error, key).toContain('is not there (no such socket)');
      const db1 = snapshot.members.find((m) => m.name === 'db1');
      expect(db1?.container).toMatchObject({ name: 'pgcockpit-db1', running: false });
      expect(db1?.container?.error).toContain(`the Docker API at unix://${MISSING_SOCKET} is not there`);
      expect(snapshot.members.map((m) => m.name)).toEqual(['db1', 'db2']);
    } finally {
      await store.stop();
    }
  });
});

describe.runIf(host.able)('against the real engine', () => {
  const name = `pgcockpit-test-docker-${process.pid}`;
  let engine: DockerEngine;

  beforeAll(async () => {
    engine = new DockerEngine({ socket: host.dockerHost, timeoutMs: 30_000 });
    // A small container of the base image, running a shell that waits (no network, no ports).
    const { default: Docker } = await import('dockerode');
    const endpoint = dockerEndpoint(host.dockerHost).endpoint;
    const docker = new Docker(endpoint);
    const container = await docker.createContainer({ name, Image: 'debian:bookworm-slim', Cmd: ['sh', '-c', 'trap "exit 0" TERM; sleep infinity & wait'], HostConfig: { NetworkMode: 'none' } });
    await container.start();
  }, 120_000);

  afterAll(async () => {
    const { default: Docker } = await import('dockerode');
    await new Docker(dockerEndpoint(host.dockerHost).endpoint).getContainer(name).remove({ force: true }).catch(() => undefined);
  }, 60_000);

  it('a container that does not exist: a ServiceError naming it', async () => {
    const error = await engine.state('pgcockpit-no-such-container').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toBe(`container pgcockpit-no-such-container does not exist (the Docker API at ${host.dockerHost})`);
    const barman = new BarmanAdapter({ server: 'patroni1', timeoutMs: 10_000 }, new DockerTransport({ container: 'pgcockpit-no-such-container', socket: host.dockerHost, source: 'barman' }));
    await expect(barman.listBackups()).rejects.toThrow(/container pgcockpit-no-such-container does not exist/);
  });

  it('runs a command: streamed lines, stderr and the exit code', async () => {
    const transport = new DockerTransport({ container: name, socket: host.dockerHost, source: 'archive-log' });
    const lines: string[] = [];
    const streamed = await transport.stream(['sh', '-c', 'for i in 1 2 3; do echo line $i; done; echo oops >&2; exit 3'], (l) => lines.push(l));
    expect(lines).toEqual(['line 1', 'line 2', 'line 3']);
    expect(streamed).toMatchObject({ code: 3, stderr: 'oops\n' });
    expect(await transport.exec(['sh', '-c', 'echo $LANG; id -un'])).toEqual({ code: 0, stdout: 'C.UTF-8\nroot\n', stderr: '' });
    const asNobody = new DockerTransport({ container: name, socket: host.dockerHost, user: 'nobody' });
    expect((await asNobody.exec(['id', '-un'])).stdout).toBe('nobody\n');
  });

  it('a command that is not there fails with the reason, not a crash', async () => {
    const transport = new DockerTransport({ container: name, socket: host.dockerHost, source: 'barman' });
    const outcome = await transport.exec(['/usr/bin/pgcockpit-no-such-command']).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    // Docker refuses the exec (ServiceError); Podman runs it and reports 127 with the runtime's message.
    if ('error' in outcome) {
      expect(outcome.error).toBeInstanceOf(ServiceError);
      expect((outcome.error as ServiceError).message).toMatch(/pgcockpit-no-such-command|executable file not found/);
    } else {
      expect(outcome.result.code).toBe(127);
    }
  });

  it('state, stop without grace, exec on a stopped container, start again', async () => {
    expect(await engine.state(name)).toMatchObject({ container: name, status: 'running', running: true });
    await engine.stop(name, 0);
    const stopped = await engine.state(name);
    expect(stopped).toMatchObject({ status: 'exited', running: false });
    expect(stopped.exitCode).toBeTypeOf('number');
    const error = await engine.exec(name, ['true']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toMatch(new RegExp(`container ${name} is not running`));
    await engine.stop(name, 0); // already stopped: not an error
    await engine.start(name);
    expect((await engine.state(name)).running).toBe(true);
  });

  it('follows the log of a container that prints nothing: the request is raced against its timeout', async () => {
    const started = Date.now();
    const outcome = await engine.logs(name, { follow: true, timeoutMs: 1500, signal: AbortSignal.timeout(4000) }).then(
      (lines) => ({ lines }),
      (error: unknown) => ({ error }),
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    if ('error' in outcome) expect((outcome.error as Error).message).toMatch(/timed out after 1500 ms/);
    else expect(outcome.lines).toEqual([]);
    expect(await engine.logs(name, { lines: 10 })).toEqual([]);
  });
});
