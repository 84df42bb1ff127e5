import { memo } from 'react';
import { Box, Text } from 'ink';
import type { ClusterEvent } from '../src/model/snapshot.js';
import type { TimelineHistoryEntry } from '../src/services/types.js';
import { EMPTY, fit, formatClock, formatLsn, formatShortDateTime } from '../src/ui/format.js';
import { Line } from './Line.js';
import { Pane } from './Pane.js';
import type { Tone } from './theme.js';

export interface TimelinePaneProps {
  history: readonly TimelineHistoryEntry[];
  /** The event log, oldest first (as the store keeps it); shown newest first. */
  events: readonly ClusterEvent[];
  /** How many of the newest events are scrolled past. */
  scroll: number;
  focused: boolean;
  width: number;
  height: number;
  /** Shown in the title when a filter is applied. */
  filter?: string;
  totalEvents?: number;
}

const EVENT_SYMBOL: Record<string, string> = { critical: '✗', warning: '▲', info: '·' };
const EVENT_TONE: Record<string, Tone> = { critical: 'critical', warning: 'warning', info: 'info' };

/** Below this width the history sits above the events (side by side, event messages would be cut short). */
export const TIMELINE_SIDE_BY_SIDE_MIN_WIDTH = 100;

/**
 * Patroni's timeline history (newest first) and the model's event log (newest first, scrollable): side by
 * side when the pane is wide, else the history (a few rows) above the events at full width.
 */
function TimelinePaneView({ history, events, scroll, focused, width, height, filter, totalEvents }: TimelinePaneProps) {
  const sideBySide = width >= TIMELINE_SIDE_BY_SIDE_MIN_WIDTH;
  const leftWidth = sideBySide ? Math.min(64, Math.floor(width * 0.5)) : width;
  const rightWidth = sideBySide ? width - leftWidth - 1 : width;
  const bodyRows = Math.max(0, height - 1);
  // Stacked: the history gets its header and up to a third of the rows (at least one entry), the events the rest.
  const historyRows = sideBySide ? bodyRows - 1 : Math.min(Math.max(1, history.length), Math.max(1, Math.floor(bodyRows / 3) - 1));
  const eventRows = sideBySide ? bodyRows - 1 : Math.max(0, bodyRows - historyRows - 2);
  const newestHistory = history.slice(-historyRows).reverse();
  const maxScroll = Math.max(0, events.length - eventRows);
  const offset = Math.min(Math.max(0, scroll), maxScroll);
  const newestEvents: ClusterEvent[] = [];
  for (let i = events.length - 1 - offset; i >= 0 && newestEvents.length < eventRows; i -= 1) {
    const event = events[i];
    if (event) newestEvents.push(event);
  }
  const eventCount =
    totalEvents !== undefined && totalEvents !== events.length ? `${events.length} of ${totalEvents}` : `${events.length}`;
  const subtitle = `${history.length} switches · events ${eventCount}${offset > 0 ? ` (${offset} newer above)` : ''}${filter ? ` · filter "${filter}"` : ''}`;
  return (
    <Pane title="Timeline" subtitle={subtitle} focused={focused} width={width} height={height}>
      <Box flexDirection={sideBySide ? 'row' : 'column'}>
        <Box flexDirection="column" width={leftWidth} {...(sideBySide ? { marginRight: 1 } : {})}>
          <Text wrap="truncate" bold dimColor>
            {fit('TL', 3, 'right')} {fit('LSN', 11)} {fit('LEADER', 8)} {fit('TIME', 11)} REASON
          </Text>
          {newestHistory.length === 0 ? <Text dimColor>no switch yet (timeline 1)</Text> : null}
          {newestHistory.map((entry) => (
            <Line
              key={`${entry.timeline}`}
              spans={[{ text: `${fit(String(entry.timeline), 3, 'right')} ${fit(formatLsn(entry.lsnText), 11)} ${fit(entry.newLeader ?? EMPTY, 8)} ${fit(formatShortDateTime(entry.at), 11)} ${entry.reason}` }]}
              width={leftWidth}
            />
          ))}
        </Box>
        <Box flexDirection="column" width={rightWidth}>
          <Text wrap="truncate" bold dimColor>
            {fit('TIME', 8)}   EVENT
          </Text>
          {newestEvents.length === 0 ? <Text dimColor>{filter ? 'no event matches the filter' : 'no events yet'}</Text> : null}
          {newestEvents.map((event, index) => {
            const severity = event.severity ?? 'info';
            return (
              <Line
                key={`${event.at}-${index}`}
                spans={[{ text: `${formatClock(event.at)} ` }, { text: EVENT_SYMBOL[severity] ?? '·', tone: EVENT_TONE[severity] }, { text: ` ${event.message}` }]}
                width={rightWidth}
              />
            );
          })}
        </Box>
      </Box>
    </Pane>
  );
}

/** Memoized: a frame where only other panes changed (or only the clock, for panes without ages) skips it. */
export const TimelinePane = memo(TimelinePaneView);
