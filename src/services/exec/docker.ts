import type { ContainerState } from '../docker.js';
import { DockerEngine } from '../docker.js';
import type { CallOptions, ExecResult, ExecTransport, SourceName } from '../types.js';

/**
 * Run commands in a container through the Docker Engine API (Barman's commands in the Barman container,
 * the archive log's tail in a member's container). The output streams line by line; the exit code is the
 * command's own. A missing socket, a missing or stopped container, an exec the engine refuses: each is a
 * ServiceError of the transport's source with the reason, so the cockpit shows that source as stale.
 */
export interface DockerTransportOptions {
  container: string;
  /** Socket path or unix:// / tcp:// URL; default DOCKER_HOST, then /var/run/docker.sock. */
  socket?: string;
  /** Run as this account inside the container (its name or uid). */
  user?: string;
  source?: SourceName;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export class DockerTransport implements ExecTransport {
  readonly description: string;
  readonly engine: DockerEngine;

  constructor(private readonly options: DockerTransportOptions) {
    this.engine = new DockerEngine(
      { ...(options.socket ? { socket: options.socket } : {}), ...(options.env ? { env: options.env } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) },
      options.source ?? 'barman',
    );
    this.description = `docker ${options.container}${options.user ? ` (as ${options.user})` : ''}`;
  }

  exec(argv: string[], options: CallOptions = {}): Promise<ExecResult> {
    return this.engine.exec(this.options.container, argv, { ...options, ...(this.options.user ? { user: this.options.user } : {}) });
  }

  stream(argv: string[], onLine: (line: string) => void, options: CallOptions = {}): Promise<ExecResult> {
    return this.engine.exec(this.options.container, argv, { ...options, onLine, ...(this.options.user ? { user: this.options.user } : {}) });
  }

  state(options: CallOptions = {}): Promise<ContainerState> {
    return this.engine.state(this.options.container, options);
  }
}
