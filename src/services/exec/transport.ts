import type { ExecTransportConfig } from '../../config/schema.js';
import type { ExecTransport, SourceName } from '../types.js';
import { ServiceError } from '../types.js';
import { LocalTransport } from './local.js';
import { SshTransport } from './ssh.js';

/** The exec transport a config section asks for: local (optionally as another account) or ssh. */
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
      throw new ServiceError(
        source,
        'failed',
        `the Docker exec transport (container ${config.container}) is not available yet: it comes with the compose stack (issue 7); use kind: local or kind: ssh for now`,
        `docker ${config.container}`,
      );
  }
}
