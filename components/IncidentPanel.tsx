import { Box, Text } from 'ink';
import { predictedLeaders } from '../src/model/incident.js';
import type { IncidentCandidate, IncidentView } from '../src/model/snapshot.js';
import { formatBytes, formatClock } from '../src/ui/format.js';
import { useTheme } from './theme.js';

/** Whole seconds as the incident line says them: "4 s". */
function secs(ms: number): string {
  return `${Math.max(0, Math.floor(ms / 1000))} s`;
}

/** "27.4 s": an observed RTO wants a decimal. */
function secsPrecise(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

function candidateText(c: IncidentCandidate): string {
  const lag = `replay lag ${c.replayLagBytes === undefined ? '?' : formatBytes(c.replayLagBytes)}, ${c.replayLagSeconds === undefined ? '?' : `${Math.round(c.replayLagSeconds)} s`}`;
  return `${c.name} (${lag})`;
}

/** The lease countdown: "leader lease expires in 17 s", or "expired". */
export function leaseText(incident: IncidentView, now: number): string | undefined {
  if (incident.leaseExpiredAt !== undefined) return `leader lease expired ${secs(now - incident.leaseExpiredAt)} ago`;
  if (!incident.lease) return undefined;
  const left = incident.lease.expiresAt - now;
  return left > 0 ? `leader lease expires in ${Math.ceil(left / 1000)} s` : 'leader lease expired';
}

/** Who Patroni will promote: "db2 (…)", or on a tie "one of: db2 (…), db3 (…)". */
export function promotionText(incident: IncidentView): string {
  if (!incident.autoFailover) return 'Patroni will promote nobody (maintenance mode)';
  const names = predictedLeaders(incident.candidates);
  const chosen = names.map((n) => incident.candidates.find((c) => c.name === n)).filter((c): c is IncidentCandidate => c !== undefined);
  if (chosen.length === 0) return 'Patroni has no eligible replica to promote';
  return `Patroni will promote ${chosen.length > 1 ? 'one of: ' : ''}${chosen.map(candidateText).join(', ')}`;
}

/** The one line an operator reads first. */
export function incidentHeadline(incident: IncidentView, now: number): string {
  const parts: string[] = [];
  if (incident.newLeader !== undefined && incident.newLeaderAt !== undefined) {
    parts.push(`${incident.oldLeader} lost; new leader ${incident.newLeader} after ${secsPrecise(incident.newLeaderAt - incident.firstSeenAt)}`);
    parts.push(incident.writesAt !== undefined ? `writes after ${secsPrecise(incident.writesAt - incident.firstSeenAt)} (RTO as observed)` : 'writes through the write port: not yet');
    return parts.join(' · ');
  }
  if (incident.recoveredWithoutFailover) return `${incident.oldLeader} came back without a failover after ${secs(now - incident.firstSeenAt)}`;
  parts.push(`${incident.oldLeader} unreachable for ${secs(now - incident.firstSeenAt)}`);
  const lease = leaseText(incident, now);
  if (lease) parts.push(lease);
  parts.push(promotionText(incident));
  return parts.join(' · ');
}

export interface IncidentPanelProps {
  incident: IncidentView;
  now: number;
  width: number;
  /** The wallboard's larger letters: more space between items. */
  large?: boolean;
}

/**
 * Rows `text` takes in `width` columns when Ink wraps it (wrap="wrap": wrap-ansi, words kept whole, spaces
 * kept, a word longer than the row broken hard). Counted the same way, so the panel's height is exact and
 * nothing is cut off — the countdown and the candidates matter most at 80×24.
 */
export function wrappedRows(text: string, width: number): number {
  let rows = 1;
  let length = 0;
  text.split(' ').forEach((word, index) => {
    const w = [...word].length;
    if (index > 0) {
      if (length >= width) {
        rows += 1;
        length = 0;
      }
      length += 1;
    }
    if (w > width) {
      const breaksHere = 1 + Math.floor((w - (width - length) - 1) / width);
      const breaksOnNext = Math.floor((w - 1) / width);
      if (breaksOnNext < breaksHere) {
        rows += 1;
        length = 0;
      }
      for (let k = 0; k < w; k++) {
        if (length >= width) {
          rows += 1;
          length = 0;
        }
        length += 1;
      }
      return;
    }
    if (length + w > width && length > 0 && w > 0) {
      rows += 1;
      length = 0;
    }
    length += w;
  });
  return rows;
}

function panelTitle(incident: IncidentView): string {
  if (incident.newLeader === undefined && incident.recoveredWithoutFailover !== true) return '◆ LEADER LOST ';
  return incident.phase === 'recovered' ? '◆ INCIDENT OVER ' : '◆ INCIDENT ';
}

/** The checklist after a failover as one line: "✓ writes through the write port · ○ old leader back …". */
function checklistText(incident: IncidentView, gap: string): string {
  return incident.checklist.map((item) => `${item.done ? '✓' : '○'} ${item.label}`).join(gap);
}

/** Rows the panel takes (for the screen's layout). */
export function incidentPanelHeight(incident: IncidentView, now: number, width: number, large = false): number {
  let rows = 2; // the border
  const inner = Math.max(10, width - 4);
  rows += wrappedRows(panelTitle(incident) + incidentHeadline(incident, now), inner); // the headline wraps
  if (!incident.autoFailover) rows += 1;
  if (incident.quorumLost) rows += 1;
  if (incident.newLeader === undefined && incident.candidates.some((c) => !c.eligible)) rows += 1;
  if (incident.witnesses.length > 0) rows += 1;
  if (incident.checklist.length > 0) rows += wrappedRows(checklistText(incident, large ? '   ' : ' · '), inner); // the checklist wraps too
  return rows;
}

/**
 * Incident mode (issue 8): the leader loss as it unfolds — how long the leader has been unreachable, a live
 * countdown to its lease's expiry, whom Patroni will promote and why the others are passed over, the
 * witnesses, maintenance mode and quorum loss said loudly; after the failover the observed RTO and the
 * checklist ticking as the model confirms each item. Presentational: the clock comes in as `now`.
 */
export function IncidentPanel({ incident, now, width, large = false }: IncidentPanelProps) {
  const theme = useTheme();
  const resolved = incident.newLeader !== undefined || incident.recoveredWithoutFailover === true;
  const title = panelTitle(incident);
  const tone = resolved ? 'warning' : 'critical';
  const passedOver = incident.candidates.filter((c) => !c.eligible);
  const gap = large ? '   ' : ' · ';
  return (
    <Box flexDirection="column" width={width} borderStyle="double" borderColor={theme.tone(tone)} paddingX={1}>
      <Text bold wrap="wrap" color={theme.tone(tone)}>
        {title}
        <Text>{incidentHeadline(incident, now)}</Text>
      </Text>
      {!incident.autoFailover ? (
        <Text bold inverse wrap="truncate" color={theme.tone('critical')}>
          {' MAINTENANCE MODE: no automatic failover will happen — the cluster is paused (resume with p, or failover with f) '}
        </Text>
      ) : null}
      {incident.quorumLost ? (
        <Text bold wrap="truncate" color={theme.tone('critical')}>
          etcd quorum lost: Patroni keeps the leader read-write only while it can renew its key; at ttl it demotes it, and nobody can be elected until quorum returns
        </Text>
      ) : null}
      {!resolved && passedOver.length > 0 ? (
        <Text wrap="truncate" dimColor>
          passed over: {passedOver.map((c) => `${c.name} (${c.reason ?? 'ineligible'})`).join(', ')}
        </Text>
      ) : null}
      {incident.witnesses.length > 0 ? (
        <Text wrap="truncate">
          witnesses: {incident.witnesses.map((w) => `${w.detail} (first seen ${formatClock(w.at)})`).join(gap)}
        </Text>
      ) : null}
      {incident.checklist.length > 0 ? (
        <Text wrap="wrap">
          {incident.checklist.map((item, index) => (
            <Text key={item.id}>
              {index > 0 ? gap : ''}
              <Text color={theme.tone(item.done ? 'ok' : undefined)} dimColor={!item.done}>
                {item.done ? '✓ ' : '○ '}
                {item.label}
              </Text>
            </Text>
          ))}
        </Text>
      ) : null}
    </Box>
  );
}
