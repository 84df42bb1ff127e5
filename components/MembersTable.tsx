import { memo } from 'react';
import { Text } from 'ink';
import type { Alert, MemberDisplayState, MemberView } from '../src/model/snapshot.js';
import type { PatroniRole } from '../src/services/types.js';
import { EMPTY, fit, formatLag, formatLsn } from '../src/ui/format.js';
import type { HealthLevel, MemberHealth } from '../src/ui/member-health.js';
import { memberHealth } from '../src/ui/member-health.js';
import type { Span } from './Line.js';
import { Line } from './Line.js';
import { Pane } from './Pane.js';
import type { Tone } from './theme.js';


export interface MembersTableProps {
  members: readonly MemberView[];
  leader?: string;
  alerts?: readonly Alert[];
  /** Replay lag above this many bytes marks a replica as lagging (maximum_lag_on_failover). */
  thresholdBytes: number;
  selectedMember?: string;
  focused: boolean;
  width: number;
  height: number;
  /** Shown in the title when a filter hides members ("2 of 50"). */
  totalCount?: number;
}

type ColumnKey = 'marker' | 'name' | 'role' | 'state' | 'tl' | 'lsn' | 'recv' | 'replay' | 'reach' | 'notes';

export interface MemberColumn {
  key: ColumnKey;
  title: string;
  width: number;
  align: 'left' | 'right';
}

const ROLE_LABEL: Record<PatroniRole, string> = {
  leader: 'leader',
  standby_leader: 'stby-ldr',
  replica: 'replica',
  sync_standby: 'sync',
  unknown: '?',
};

const SHORT_STATE: Partial<Record<MemberDisplayState, string>> = {
  'archive recovery': 'archive rec',
  'creating replica': 'creating',
};

/**
 * The columns that fit `width`: LSN only from 96 columns, REST/SQL as two words only from 110, state in
 * full from 110; NOTES takes the rest (at 80 columns about 14).
 */
export function memberColumns(width: number, nameWidth: number): MemberColumn[] {
  const wide = width >= 110;
  const columns: MemberColumn[] = [
    { key: 'marker', title: '', width: 2, align: 'left' },
    { key: 'name', title: 'NAME', width: nameWidth, align: 'left' },
    { key: 'role', title: 'ROLE', width: 8, align: 'left' },
    { key: 'state', title: 'STATE', width: wide ? 16 : 11, align: 'left' },
    { key: 'tl', title: 'TL', width: 3, align: 'right' },
  ];
  if (width >= 96) columns.push({ key: 'lsn', title: 'LSN', width: 11, align: 'left' });
  columns.push(
    { key: 'recv', title: 'RECEIVE LAG', width: 14, align: 'left' },
    { key: 'replay', title: 'REPLAY LAG', width: 14, align: 'left' },
    wide ? { key: 'reach', title: 'REST SQL', width: 8, align: 'left' } : { key: 'reach', title: 'A/S', width: 3, align: 'left' },
  );
  const used = columns.reduce((sum, c) => sum + c.width + 1, 0);
  columns.push({ key: 'notes', title: 'NOTES', width: Math.max(0, width - used - 1), align: 'left' });
  return columns;
}

const LEVEL_TONE: Record<HealthLevel, Tone | undefined> = {
  leader: 'leader',
  ok: 'ok',
  info: 'info',
  warning: 'warning',
  critical: 'critical',
};

function cellText(
  key: ColumnKey,
  member: MemberView,
  health: MemberHealth,
  selected: boolean,
  wide: boolean,
): string {
  switch (key) {
    case 'marker':
      return `${selected ? '›' : ' '}${health.symbol}`;
    case 'name':
      return member.name;
    case 'role':
      return ROLE_LABEL[member.role];
    case 'state':
      return wide ? member.state : (SHORT_STATE[member.state] ?? member.state);
    case 'tl':
      return member.timeline === undefined ? EMPTY : String(member.timeline);
    case 'lsn':
      return formatLsn(member.lsn);
    case 'recv':
      return health.level === 'leader' ? '' : formatLag(member.receiveLagBytes, member.receiveLagSeconds);
    case 'replay':
      return health.level === 'leader'
        ? ''
        : formatLag(member.replayLagBytes, member.replayLagSeconds, member.lagUnknown);
    case 'reach': {
      // … not read yet (start-up), ✗ asked and failed.
      const rest = member.restReachable ? '✓' : member.restPending ? '…' : '✗';
      const sql = member.sqlReachable ? '✓' : member.sqlPending ? '…' : '✗';
      return wide ? `${rest}    ${sql}` : `${rest} ${sql}`;
    }
    case 'notes':
      // At 80 columns the notes cell is ~13 wide: say "lagging" and let the title carry the threshold.
      return (wide ? health.notes : health.notes.map((n) => (n.startsWith('lagging') ? 'lagging' : n))).join(', ');
  }
}

/**
 * A row as few styled spans as possible: adjacent cells with the same styling are one span (a nested
 * <Text> per cell costs layout time; 50 members × 10 cells is most of a frame otherwise).
 */
function rowSpans(
  columns: readonly MemberColumn[],
  member: MemberView,
  health: MemberHealth,
  selected: boolean,
  wide: boolean,
): Array<{ text: string; colored: boolean }> {
  const spans: Array<{ text: string; colored: boolean }> = [];
  columns.forEach((column, index) => {
    const text = (index > 0 ? ' ' : '') + fit(cellText(column.key, member, health, selected, wide), column.width, column.align);
    const colored =
      column.key === 'marker' ||
      column.key === 'name' ||
      (column.key === 'state' && health.broken) ||
      (column.key === 'replay' && health.lagging) ||
      (column.key === 'notes' && health.level !== 'ok' && health.level !== 'leader');
    const last = spans[spans.length - 1];
    if (last && last.colored === colored) last.text += text;
    else spans.push({ text, colored });
  });
  return spans;
}

/** Rows to show so that the selected one is visible. */
export function visibleWindow(count: number, selectedIndex: number, rows: number): { start: number; end: number } {
  if (rows <= 0) return { start: 0, end: 0 };
  if (count <= rows) return { start: 0, end: count };
  const start = Math.min(Math.max(0, selectedIndex - Math.floor(rows / 2)), count - rows);
  return { start, end: start + rows };
}

/**
 * The members table. The leader reads as ★ and bold; a lagging replica as ▲ with its lag and
 * "lagging > 1.0 MB"; a broken member as ✗ with the word (stopped, unreachable, REST down). Color only
 * repeats what the symbols and words say.
 */
function MembersTableView({
  members,
  leader,
  alerts,
  thresholdBytes,
  selectedMember,
  focused,
  width,
  height,
  totalCount,
}: MembersTableProps) {
  const nameWidth = Math.min(16, Math.max(4, ...members.map((m) => m.name.length)));
  const columns = memberColumns(width, nameWidth);
  const wide = width >= 110;
  const selectedIndex = Math.max(
    0,
    members.findIndex((m) => m.name === selectedMember),
  );
  const bodyRows = Math.max(0, height - 2);
  const window = visibleWindow(members.length, selectedIndex, bodyRows);
  const shown = members.slice(window.start, window.end);
  const count =
    totalCount !== undefined && totalCount !== members.length
      ? `${members.length} of ${totalCount}`
      : `${members.length}`;
  const scroll = members.length > bodyRows && bodyRows > 0 ? ` rows ${window.start + 1}-${window.end}` : '';

  return (
    <Pane title="Members" subtitle={`${count}${scroll} · lag threshold ${formatLag(thresholdBytes, undefined)}`} focused={focused} width={width} height={height}>
      <Text wrap="truncate" bold dimColor>
        {columns.map((c) => fit(c.title, c.width, c.align)).join(' ')}
      </Text>
      {members.length === 0 ? <Text dimColor>  no members known yet (waiting for Patroni)</Text> : null}
      {shown.map((member) => {
        const health = memberHealth(member, { thresholdBytes, ...(leader === undefined ? {} : { leader }), ...(alerts === undefined ? {} : { alerts }) });
        const selected = member.name === selectedMember;
        const tone = LEVEL_TONE[health.level];
        const inverse = selected && focused;
        const bold = health.level === 'leader';
        const spans: Span[] = rowSpans(columns, member, health, selected, wide).map((span) => ({ text: span.text, tone: span.colored ? tone : undefined, bold, inverse }));
        return <Line key={member.name} spans={spans} width={width} />;
      })}
    </Pane>
  );
}

/** Memoized: a frame where only other panes changed (or only the clock, for panes without ages) skips it. */
export const MembersTable = memo(MembersTableView);
