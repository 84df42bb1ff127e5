import { Box, Text } from 'ink';
import { Footer } from '../../components/Footer.js';
import { Header, headerHeight } from '../../components/Header.js';
import { HelpOverlay } from '../../components/HelpOverlay.js';
import { IncidentPanel, incidentPanelHeight } from '../../components/IncidentPanel.js';
import { LagPane } from '../../components/LagPane.js';
import { Line } from '../../components/Line.js';
import { MemberDetail } from '../../components/MemberDetail.js';
import { MembersTable } from '../../components/MembersTable.js';
import type { Tone } from '../../components/theme.js';
import { useTheme } from '../../components/theme.js';
import { footerHints, helpEntries } from '../keymap/keymap.js';
import type { Alert, ClusterSnapshot } from '../model/snapshot.js';
import type { CockpitView } from './cockpit-view.js';
import { EMPTY, fit, formatAge, formatClock, formatDuration } from './format.js';
import { memberHealth, staleSources } from './member-health.js';
import type { TerminalSize } from './use-terminal-size.js';

export interface WatchScreenProps {
  view: CockpitView;
  size: TerminalSize;
  now: number;
}

export interface ClusterVerdict {
  level: 'ok' | 'warning' | 'critical' | 'stale';
  word: string;
  reasons: string[];
}

/** The wallboard's one word: STALE beats everything (the rest may be a lie), then CRITICAL, DEGRADED, OK. */
export function clusterVerdict(snapshot: ClusterSnapshot, now: number, thresholdBytes: number): ClusterVerdict {
  const stale = staleSources(snapshot.sources, now);
  if (stale.length > 0) {
    return {
      level: 'stale',
      word: 'STALE',
      reasons: stale.map((s) => `${s.key} ${s.ageSeconds === undefined ? 'never read' : `${formatDuration(s.ageSeconds)} old`}`),
    };
  }
  const reasons: string[] = [];
  let level: ClusterVerdict['level'] = 'ok';
  if (!snapshot.leader) {
    level = 'critical';
    reasons.push('no leader');
  }
  if (snapshot.etcd?.quorum === 'lost') {
    level = 'critical';
    reasons.push('etcd quorum lost');
  }
  for (const alert of snapshot.alerts) {
    if (alert.severity === 'critical') level = 'critical';
    else if (alert.severity === 'warning' && level === 'ok') level = 'warning';
  }
  for (const member of snapshot.members) {
    const health = memberHealth(member, { thresholdBytes, ...(snapshot.leader === undefined ? {} : { leader: snapshot.leader }) });
    if (health.level === 'critical') level = 'critical';
    else if (health.level === 'warning' && level === 'ok') level = 'warning';
    if (health.level === 'critical' || health.level === 'warning') reasons.push(`${member.name} ${health.notes[0] ?? ''}`.trim());
  }
  if (snapshot.paused) {
    if (level === 'ok') level = 'warning';
    reasons.push('paused');
  }
  return { level, word: level === 'ok' ? 'OK' : level === 'warning' ? 'DEGRADED' : 'CRITICAL', reasons };
}

const VERDICT_TONE: Record<ClusterVerdict['level'], Tone> = { ok: 'ok', warning: 'warning', critical: 'critical', stale: 'critical' };
const VERDICT_SYMBOL: Record<ClusterVerdict['level'], string> = { ok: '✓', warning: '▲', critical: '✗', stale: '✗' };

/** A three-row bar across the whole screen: readable from across the room, also without color (inverse). */
function Banner({ verdict, snapshot, width }: { verdict: ClusterVerdict; snapshot: ClusterSnapshot; width: number }) {
  const theme = useTheme();
  const tone = theme.tone(VERDICT_TONE[verdict.level]);
  const word = verdict.word.split('').join(' ');
  const text = `  ${VERDICT_SYMBOL[verdict.level]}  ${word}   ${snapshot.scope}${verdict.reasons.length ? `  —  ${verdict.reasons.join(' · ')}` : ''}`;
  const blank = ' '.repeat(width);
  return (
    <Box flexDirection="column" width={width}>
      <Text inverse color={tone}>
        {blank}
      </Text>
      <Text inverse bold color={tone}>
        {fit(text, width)}
      </Text>
      <Text inverse color={tone}>
        {blank}
      </Text>
    </Box>
  );
}

const SEVERITY_TONE: Record<Alert['severity'], Tone> = { critical: 'critical', warning: 'warning', info: 'info' };
const SEVERITY_SYMBOL: Record<Alert['severity'], string> = { critical: '✗', warning: '▲', info: '·' };
const SEVERITY_ORDER: Record<Alert['severity'], number> = { critical: 0, warning: 1, info: 2 };

function AlertList({ alerts, now, width, rows }: { alerts: readonly Alert[]; now: number; width: number; rows: number }) {
  const theme = useTheme();
  const sorted = [...alerts].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.since - b.since);
  const shown = sorted.slice(0, rows);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold underline>
        ALERTS ({alerts.length})
      </Text>
      {alerts.length === 0 ? <Text color={theme.tone('ok')}>✓ none</Text> : null}
      {shown.map((alert) => (
        <Text key={alert.id} wrap="truncate">
          <Text bold inverse={alert.severity === 'critical'} color={theme.tone(SEVERITY_TONE[alert.severity])}>
            {` ${SEVERITY_SYMBOL[alert.severity]} ${alert.severity.toUpperCase()} `}
          </Text>{' '}
          <Text bold>{alert.message}</Text>
          <Text dimColor> since {formatAge(alert.since, now)}</Text>
        </Text>
      ))}
      {sorted.length > shown.length ? <Text dimColor>… {sorted.length - shown.length} more</Text> : null}
    </Box>
  );
}

/**
 * The wallboard (`pgcockpit watch`): one verdict bar, the header, alerts first, members, lag, the last
 * events and the backup/archive facts. Read-only: no operation key is offered anywhere on it.
 */
export function WatchScreen({ view, size, now }: WatchScreenProps) {
  const { snapshot, ui } = view;
  const width = size.columns;
  const verdict = clusterVerdict(snapshot, now, view.thresholdBytes);
  const headerRows = headerHeight(snapshot, now, width, { large: true, maxStaleLines: 4 });
  const incident = snapshot.incident;
  const chromeRows = 3 + headerRows + 1 + (ui.message ? 1 : 0);
  const incidentRows = incident && ui.overlay !== 'help' ? Math.min(incidentPanelHeight(incident, now, width), Math.max(0, size.rows - chromeRows - 6)) : 0;
  const bodyRows = Math.max(0, size.rows - chromeRows - incidentRows);
  const context = view.keymapContext;
  const footer = (
    <Footer
      hints={footerHints(context, { detailOpen: view.detail !== undefined || ui.overlay !== undefined })}
      mode="watch · read-only"
      width={width}
      {...(ui.message ? { message: ui.message } : {})}
    />
  );
  let body;
  if (ui.overlay === 'help') {
    body = <HelpOverlay entries={helpEntries(context)} width={width} height={bodyRows} />;
  } else if (view.detail) {
    body = <MemberDetail member={view.detail.member} health={view.detail.health} now={now} width={width} height={bodyRows} />;
  } else {
    const alertRows = Math.min(Math.max(1, snapshot.alerts.length), Math.max(3, Math.floor(bodyRows * 0.25)));
    const alertHeight = alertRows + 1 + (snapshot.alerts.length > alertRows ? 1 : 0);
    const rest = bodyRows - alertHeight - 1;
    const membersRows = Math.min(view.members.length + 2, Math.max(5, Math.floor(rest * 0.5)));
    const lagRows = Math.min(view.lagSeries.length + 1, Math.max(2, rest - membersRows - 3));
    const eventRows = Math.max(0, rest - membersRows - lagRows - 2);
    const backups = snapshot.backups;
    const archiver = snapshot.archiving.status;
    const recentEvents = view.events.slice(-eventRows).reverse();
    body = (
      <>
        <AlertList alerts={snapshot.alerts} now={now} width={width} rows={alertRows} />
        <Text> </Text>
        <MembersTable
          members={view.members}
          totalCount={view.totalMembers}
          alerts={snapshot.alerts}
          thresholdBytes={view.thresholdBytes}
          focused={false}
          width={width}
          height={membersRows}
          {...(snapshot.leader === undefined ? {} : { leader: snapshot.leader })}
        />
        <LagPane series={view.lagSeries} thresholdBytes={view.thresholdBytes} focused={false} width={width} height={lagRows} />
        <Text wrap="truncate" bold>
          {`backups: newest ${backups.newestDoneAgeSeconds === undefined ? EMPTY : `${formatDuration(backups.newestDoneAgeSeconds)} old`}`}
          {backups.running ? ` · ⟳ RUNNING ${backups.running.id}` : ''}
          {` · archiving: ${archiver ? (archiver.failing ? '✗ FAILING' : '✓ ok') : EMPTY}`}
          {archiver?.lastArchivedAt ? ` · last WAL ${formatAge(archiver.lastArchivedAt, now)} ago` : ''}
          {archiver?.readyBacklog ? ` · backlog ${archiver.readyBacklog}` : ''}
        </Text>
        <Text wrap="truncate" bold underline>
          EVENTS
        </Text>
        {recentEvents.map((event, index) => (
          <Line
            key={`${event.at}-${index}`}
            spans={[{ text: `${formatClock(event.at)} ${event.severity === 'critical' ? '✗' : event.severity === 'warning' ? '▲' : '·'} ${event.message}` }]}
            width={width}
          />
        ))}
      </>
    );
  }
  return (
    <Box flexDirection="column" width={width} height={size.rows} overflowY="hidden">
      <Banner verdict={verdict} snapshot={snapshot} width={width} />
      <Header snapshot={snapshot} now={now} width={width} large maxStaleLines={4} />
      {incidentRows > 0 && incident ? (
        <Box height={incidentRows} overflowY="hidden">
          <IncidentPanel incident={incident} now={now} width={width} large />
        </Box>
      ) : null}
      <Box flexDirection="column" height={bodyRows} overflowY="hidden">
        {body}
      </Box>
      {footer}
    </Box>
  );
}
