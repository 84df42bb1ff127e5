import { memo } from 'react';
import { Text } from 'ink';
import type { LagSample } from '../src/model/store.js';
import { fit, formatBytes, formatDuration, formatLag, sparkline } from '../src/ui/format.js';
import type { Span } from './Line.js';
import { Line } from './Line.js';
import { Pane } from './Pane.js';


export interface LagSeries {
  member: string;
  /** Replay lag samples, oldest first. */
  samples: readonly LagSample[];
  currentBytes?: number;
  currentSeconds?: number;
  lagUnknown?: boolean;
}

export interface LagPaneProps {
  series: readonly LagSeries[];
  thresholdBytes: number;
  selectedMember?: string;
  focused: boolean;
  width: number;
  height: number;
}

/**
 * Per replica: a sparkline of replay lag (a full block means at or over the threshold), the current lag in
 * bytes and seconds, and the threshold it is judged against; ▲ OVER when above it.
 */
function LagPaneView({ series, thresholdBytes, selectedMember, focused, width, height }: LagPaneProps) {
  const nameWidth = Math.min(16, Math.max(4, ...series.map((s) => s.member.length)));
  const valueWidth = 15;
  const tailWidth = 17; // " / 1.0 MB ▲ OVER"
  const sparkWidth = Math.max(4, width - nameWidth - valueWidth - tailWidth - 5);
  const span = spanOf(series);
  const rows = Math.max(0, height - 1);
  const selectedIndex = Math.max(0, series.findIndex((s) => s.member === selectedMember));
  const start = series.length <= rows ? 0 : Math.min(Math.max(0, selectedIndex - Math.floor(rows / 2)), series.length - rows);
  const shown = series.slice(start, start + rows);
  return (
    <Pane
      title="Lag"
      subtitle={`replay lag${span ? `, last ${span}` : ''} · threshold ${formatBytes(thresholdBytes)}`}
      focused={focused}
      width={width}
      height={height}
    >
      {series.length === 0 ? <Text dimColor>  no replicas</Text> : null}
      {shown.map((s) => {
        const over = s.currentBytes !== undefined && s.currentBytes > thresholdBytes;
        const selected = s.member === selectedMember;
        const line = sparkline(
          s.samples.map((sample) => sample.replayLagBytes),
          sparkWidth,
          thresholdBytes,
        );
        const inverse = selected && focused;
        const spans: Span[] = [
          { text: `${selected ? '›' : ' '}${fit(s.member, nameWidth)} `, inverse },
          { text: line, tone: over ? 'warning' : 'ok', inverse },
          { text: ' ', inverse },
          { text: fit(formatLag(s.currentBytes, s.currentSeconds, s.lagUnknown), valueWidth, 'right'), bold: over, inverse },
          { text: ` / ${fit(formatBytes(thresholdBytes), 8)}`, dim: true, inverse },
          ...(over ? [{ text: '▲ OVER', tone: 'warning' as const, bold: true, inverse }] : []),
        ];
        return <Line key={s.member} spans={spans} width={width} />;
      })}
    </Pane>
  );
}

function spanOf(series: readonly LagSeries[]): string | undefined {
  let first: number | undefined;
  let last: number | undefined;
  for (const s of series) {
    const a = s.samples[0]?.at;
    const b = s.samples[s.samples.length - 1]?.at;
    if (a !== undefined && (first === undefined || a < first)) first = a;
    if (b !== undefined && (last === undefined || b > last)) last = b;
  }
  if (first === undefined || last === undefined || last <= first) return undefined;
  return formatDuration((last - first) / 1000);
}

/** Memoized: a frame where only other panes changed (or only the clock, for panes without ages) skips it. */
export const LagPane = memo(LagPaneView);
