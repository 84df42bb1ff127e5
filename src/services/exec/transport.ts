import type { ExecTransportConfig } from '../../config/schema.js';
import type { ExecTransport, SourceName } from '../types.js';
import { ServiceError } from '../types.js';
import { DockerTransport } from './docker.js';
import { LocalTransport } from './local.js';
import { SshTransport } from './ssh.js';

/** The exec transport a config section asks for: local (optionally as another account), ssh, or a Docker container. */
export function createTransport(config: ExecTransportConfig, options: { source?: SourceName; timeoutMs?: number } = {}): ExecTransport {
  const source = options.source ?? 'barman';
  switch (config.kind) {
    case 'local':
      return new LocalTransport({
        source,
        ...(config.user ? { user: config.user } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
    case 'ssh':
      return new SshTransport({
        source,
        host: config.host,
        ...(config.port ? { port: config.port } : {}),
        ...(config.options ? { options: config.options } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
    case 'docker':
      try {
        return new DockerTransport({
          source,
          container: config.container,
          ...(config.socket ? { socket: config.socket } : {}),
          ...(config.user ? { user: config.user } : {}),
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        });
      } catch (error) {
        // An unusable DOCKER_HOST (ssh://, no port): every call fails with the reason, nothing crashes.
        return failingTransport(source, `docker ${config.container}`, error instanceof Error ? error.message : String(error));
      }
  }
}

function failingTransport(source: SourceName, description: string, message: string): ExecTransport {
  const fail = () => Promise.reject(new ServiceError(source, 'unreachable', message, description));
  return { description, exec: fail, stream: fail };
}
