import type { ContainerView } from '../model/snapshot.js';

/**
 * A member's container in the operator's words: "running", "exited (137)", "restarting (exit 1)",
 * "running, unhealthy"; while the engine cannot be read, why. Short enough for the members table's notes.
 */
export function containerLabel(container: ContainerView): string {
  if (!container.status) return container.error ? `state unknown (${container.error})` : 'state unknown';
  const exit = container.exitCode !== undefined ? container.exitCode : undefined;
  let text = container.status;
  if (container.status === 'restarting') text += exit !== undefined ? ` (exit ${exit})` : '';
  else if (!container.running && exit !== undefined) text += ` (${exit})`;
  if (container.running && container.health && container.health !== 'healthy') text += `, ${container.health}`;
  return text;
}

/** Does the container's state deserve a note in the members table (anything but a plain running container)? */
export function containerNeedsNote(container: ContainerView | undefined): container is ContainerView {
  if (!container) return false;
  return container.error !== undefined || !container.running || container.status === 'restarting' || container.health === 'unhealthy';
}

/** The member detail's line: name, state, health, restarts, and the engine's or the source's error. */
export function containerDetail(container: ContainerView): string {
  const parts = [`container ${container.name || '?'}: ${containerLabel(container)}`];
  if (container.status && container.health && container.running) parts.push(`health ${container.health}`);
  if (container.restartCount) parts.push(`${container.restartCount} restarts`);
  if (container.running && container.startedAt) parts.push(`up since ${container.startedAt.replace(/\.\d+/, '')}`);
  if (!container.running && container.finishedAt) parts.push(`stopped at ${container.finishedAt.replace(/\.\d+/, '')}`);
  if (container.engineError) parts.push(`engine: ${container.engineError}`);
  if (container.error && container.status) parts.push(`stale: ${container.error}`);
  return parts.join(' · ');
}
