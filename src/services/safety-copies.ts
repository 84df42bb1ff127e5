import type { SafetyCopy } from '../lab/restore-lab.js';
import { DockerEngine } from './docker.js';
import { JsonRegistry } from './json-registry.js';
import { ServiceError } from './types.js';

/**
 * The safety copies of a cluster rewind on members that run in containers: each member's data directory
 * moved aside inside its own volume (`<data dir>.safety-<stamp>`, a description beside it in
 * `<…>.json`). The volumes are only reachable through the engine, so the copies are also recorded here, in
 * the state directory (a JSON file beside the side restores' registry): listed from it, at once, until
 * removed (`pgcockpit restores remove ID` deletes the copy in its member's container).
 */

export const SAFETY_SUFFIX = '.safety-';

export class SafetyCopyRegistry extends JsonRegistry<SafetyCopy> {
  constructor(dir: string) {
    super(dir, 'safety-copies.json', 'copies');
  }
}

/** Delete a safety copy in its member's container (which must run), then its record. Only a path named like a safety copy is deleted. */
export async function removeContainerSafetyCopy(registry: SafetyCopyRegistry, copy: SafetyCopy): Promise<void> {
  if (!copy.container) throw new ServiceError('docker', 'failed', `safety copy ${copy.id} is not in a container`);
  const engine = new DockerEngine({ ...(copy.dockerSocket ? { socket: copy.dockerSocket } : {}), timeoutMs: 600_000 }, 'docker');
  const script = `case "$1" in *${SAFETY_SUFFIX}*) rm -rf -- "$1" "$1.json";; *) echo "not a safety copy: $1" >&2; exit 2;; esac`;
  const result = await engine.exec(copy.container, ['sh', '-c', script, 'sh', copy.path], { user: 'root' });
  if (result.code !== 0) throw new ServiceError('docker', 'failed', `removing safety copy ${copy.id} in ${copy.container}: ${result.stderr.trim() || `exit ${result.code}`}`);
  registry.remove(copy.id);
}
