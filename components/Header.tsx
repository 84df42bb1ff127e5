import { memo } from 'react';
import { Box, Text } from 'ink';
import type { ClusterSnapshot } from '../src/model/snapshot.js';
import { formatClock, formatDuration, truncate } from '../src/ui/format.js';
import { alertCounts, staleSources } from '../src/ui/member-health.js';
import { Line } from './Line.js';
import type { Tone } from './theme.js';
import { useTheme } from './theme.js';

export interface HeaderProps {
  snapshot: ClusterSnapshot;
  /** Epoch ms the ages are computed against (the app's clock; a fixed value in tests). */
  now: number;
  width: number;
  /** Wallboard: wider gaps between facts. */
  large?: boolean;
  /** At most this many STALE lines; the rest are named on the last one. */
  maxStaleLines?: number;
}

interface Span {
  text: string;
  tone?: Tone;
  bold?: boolean;
  inverse?: boolean;
  dim?: boolean;
  /** Columns the span takes when the header is wrapped, if more than its text (an age that grows and shrinks). */
  reserve?: number;
}

type Segment = Span[];

/**
 * Columns kept for the update's age in the header's wrapping: whole seconds up to "59s", so the layout stays
 * put as it ticks (a header that wraps and unwraps with the age redraws every row under it).
 */
const AGE_COLUMNS = 3;

function segments(snapshot: ClusterSnapshot, now: number): Segment[] {
  const out: Segment[] = [];
  const leaderMember = snapshot.members.find((m) => m.name === snapshot.leader);
  out.push([
    { text: ` ${snapshot.cluster}${snapshot.scope !== snapshot.cluster ? ` · scope ${snapshot.scope}` : ''} `, bold: true, inverse: true },
  ]);
  out.push(
    snapshot.leader
      ? [
          { text: 'leader ' },
          { text: `★ ${snapshot.leader}`, bold: true, tone: 'leader' },
          { text: leaderMember?.timeline !== undefined ? ` TL ${leaderMember.timeline}` : '' },
        ]
      : [{ text: ' ✗ NO LEADER ', bold: true, inverse: true, tone: 'critical' }],
  );
  const etcd = snapshot.etcd;
  if (etcd) {
    const healthy = etcd.members.filter((m) => m.healthy).length;
    const tone: Tone = etcd.quorum === 'healthy' ? 'ok' : etcd.quorum === 'degraded' ? 'warning' : 'critical';
    const symbol = etcd.quorum === 'healthy' ? '✓' : etcd.quorum === 'degraded' ? '▲' : '✗';
    out.push([
      { text: 'etcd ' },
      { text: `${symbol} quorum ${etcd.quorum}`, tone, bold: etcd.quorum !== 'healthy' },
      { text: ` ${healthy}/${etcd.members.length}` },
    ]);
  } else {
    out.push([{ text: 'etcd ?', dim: true }]);
  }
  const haproxy = snapshot.haproxy;
  if (haproxy) {
    const writeOk = haproxy.writeTargets.length === 1 && haproxy.writeTargets[0] === snapshot.leader;
    out.push([
      { text: 'HAProxy write→' },
      {
        text: `${haproxy.writeTargets.length ? haproxy.writeTargets.join(',') : 'none'}${writeOk ? '' : ' ✗'}`,
        bold: true,
        tone: writeOk ? 'ok' : 'critical',
      },
      { text: ` read→${readTargetsText(haproxy.readTargets)}` },
    ]);
  } else {
    out.push([{ text: 'HAProxy ?', dim: true }]);
  }
  if (snapshot.paused) out.push([{ text: ' ⏸ PAUSED: no automatic failover ', bold: true, inverse: true, tone: 'warning' }]);
  const scheduled = snapshot.scheduledSwitchover;
  if (scheduled) {
    out.push([
      {
        text: `⏲ switchover at ${formatClock(scheduled.at)}${scheduled.from ? ` ${scheduled.from}` : ''}${scheduled.to ? `→${scheduled.to}` : ''}`,
        bold: true,
        tone: 'warning',
      },
    ]);
  }
  const counts = alertCounts(snapshot.alerts);
  out.push([
    { text: 'alerts ' },
    { text: `✗${counts.critical} crit`, bold: counts.critical > 0, ...(counts.critical > 0 ? { tone: 'critical' as const } : {}) },
    { text: ' ' },
    { text: `▲${counts.warning} warn`, bold: counts.warning > 0, ...(counts.warning > 0 ? { tone: 'warning' as const } : {}) },
    { text: ` ·${counts.info} info` },
  ]);
  const age = formatDuration(Math.floor(Math.max(0, now - snapshot.updatedAt) / 1000));
  const updated = `updated ${formatClock(snapshot.updatedAt)} (${age} ago)`;
  out.push([{ text: updated, dim: true, reserve: Array.from(updated).length - Array.from(age).length + AGE_COLUMNS }]);
  return out;
}

function readTargetsText(targets: readonly string[]): string {
  if (targets.length === 0) return 'none';
  if (targets.length <= 4) return targets.join(',');
  return `${targets.length} members (${targets.slice(0, 3).join(',')},…)`;
}

function segmentLength(segment: Segment): number {
  return segment.reduce((n, span) => n + Math.max(Array.from(span.text).length, span.reserve ?? 0), 0);
}

/** Greedy wrap of segments into lines of `width`, `gap` spaces between segments. */
function wrapSegments(all: Segment[], width: number, gap: number): Segment[][] {
  const lines: Segment[][] = [];
  let line: Segment[] = [];
  let used = 0;
  for (const segment of all) {
    const length = segmentLength(segment);
    if (line.length > 0 && used + gap + length > width) {
      lines.push(line);
      line = [];
      used = 0;
    }
    used += (line.length > 0 ? gap : 0) + length;
    line.push(segment);
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

function staleLines(snapshot: ClusterSnapshot, now: number, maxLines: number): string[] {
  const stale = staleSources(snapshot.sources, now);
  const limit = Math.max(1, maxLines);
  const shown = stale.length > limit ? stale.slice(0, limit - 1) : stale;
  const hidden = stale.slice(shown.length);
  const lines = shown.map(
    (s) =>
      ` STALE ${s.key}: data ${s.ageSeconds === undefined ? 'never read' : `${formatDuration(s.ageSeconds)} old`}${s.error ? ` — ${s.error}` : ''} `,
  );
  if (hidden.length > 0) {
    lines.push(
      ` STALE also: ${hidden.map((s) => `${s.key}${s.ageSeconds === undefined ? '' : ` ${formatDuration(s.ageSeconds)}`}`).join(', ')} `,
    );
  }
  return lines;
}

/** How many rows the header takes at this width (the layout sizes the panes below with it). */
export function headerHeight(snapshot: ClusterSnapshot, now: number, width: number, options: { large?: boolean; maxStaleLines?: number } = {}): number {
  const gap = options.large ? 3 : 2;
  return wrapSegments(segments(snapshot, now), width, gap).length + staleLines(snapshot, now, options.maxStaleLines ?? 2).length;
}

/**
 * The one-glance lines: who leads, can the DCS elect, where HAProxy sends writes and reads, is automatic
 * failover paused, what is scheduled, how many alerts, how fresh the data is — and a STALE line with the
 * data's age per failing source.
 */
function HeaderView({ snapshot, now, width, large = false, maxStaleLines = 2 }: HeaderProps) {
  const theme = useTheme();
  const gap = large ? 3 : 2;
  const lines = wrapSegments(segments(snapshot, now), width, gap);
  const stale = staleLines(snapshot, now, maxStaleLines);
  return (
    <Box flexDirection="column" width={width}>
      {lines.map((line, lineIndex) => (
        <Line key={lineIndex} spans={line.flatMap((segment, segmentIndex) => (segmentIndex > 0 ? [{ text: ' '.repeat(gap) }, ...segment] : segment))} width={width} />
      ))}
      {stale.map((line, index) => (
        <Text key={`stale-${index}`} wrap="truncate" bold inverse color={theme.tone('critical')}>
          {truncate(line, width)}
        </Text>
      ))}
    </Box>
  );
}

/** Memoized: a frame where only other panes changed (or only the clock, for panes without ages) skips it. */
export const Header = memo(HeaderView);
