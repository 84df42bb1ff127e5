import { containerDetail, containerNeedsNote } from '../src/ui/container-label.js';
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { MemberView } from '../src/model/snapshot.js';
import type { SessionRow } from '../src/services/types.js';
import { EMPTY, fit, formatAge, formatDuration, formatLag, formatLsn, truncate } from '../src/ui/format.js';
import type { MemberHealth } from '../src/ui/member-health.js';
import { Pane } from './Pane.js';
import { useTheme } from './theme.js';

export interface MemberDetailProps {
  member: MemberView;
  health: MemberHealth;
  now: number;
  width: number;
  height: number;
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Box flexDirection="column" marginTop={0}>
      <Text bold underline>
        {title}
      </Text>
      {children}
    </Box>
  );
}

function sessionLine(row: SessionRow, width: number): string {
  const age = row.xactAgeSeconds ?? row.queryAgeSeconds;
  return truncate(
    `${fit(String(row.pid), 7, 'right')} ${fit(row.user ?? EMPTY, 10)} ${fit(row.database ?? EMPTY, 10)} ${fit(formatDuration(age), 8, 'right')} ${fit(row.state ?? EMPTY, 20)} ${row.waitEvent ? `[${row.waitEvent}] ` : ''}${(row.query ?? '').replace(/\s+/g, ' ')}`,
    width,
  );
}

/** Everything about one member: replication, WAL receiver, connections, long and idle transactions, locks. */
export function MemberDetail({ member, health, now, width, height }: MemberDetailProps) {
  const theme = useTheme();
  const detail = member.detail;
  const half = Math.floor((width - 1) / 2);
  const listRows = Math.max(1, Math.floor((height - 12) / 3));
  return (
    <Pane title={`Member ${member.name}`} subtitle="Esc back" focused width={width} height={height}>
      <Text wrap="truncate">
        <Text bold color={theme.tone(health.level === 'leader' ? 'leader' : health.level === 'ok' ? 'ok' : health.level)}>
          {health.symbol} {member.name}
        </Text>
        {` ${member.role} · ${member.state}${member.patroniState && member.patroniState !== member.state ? ` (Patroni: ${member.patroniState})` : ''} · TL ${member.timeline ?? EMPTY} · LSN ${formatLsn(member.lsn)}`}
        {member.role !== 'leader' ? ` · receive ${formatLag(member.receiveLagBytes, member.receiveLagSeconds)} · replay ${formatLag(member.replayLagBytes, member.replayLagSeconds, member.lagUnknown)}` : ''}
      </Text>
      <Text wrap="truncate">
        {`${member.host ?? EMPTY}:${member.port ?? EMPTY} · REST ${member.restReachable ? '✓' : member.restPending ? '… not read yet' : `✗ ${member.restError ?? ''}`} · SQL ${member.sqlReachable ? '✓' : member.sqlPending ? '… not read yet' : `✗ ${member.sqlError ?? ''}`} · Patroni ${member.patroniVersion ?? EMPTY} · PostgreSQL ${member.serverVersion ?? EMPTY}`}
      </Text>
      {member.container ? (
        <Text wrap="truncate" {...(containerNeedsNote(member.container) ? { color: theme.tone(member.container.running ? 'warning' : 'critical') } : {})}>
          {containerDetail(member.container)}
        </Text>
      ) : null}
      <Text wrap="truncate">
        tags {Object.keys(member.tags).length === 0 ? 'none' : Object.entries(member.tags).map(([k, v]) => `${k}=${String(v)}`).join(' ')}
        {health.notes.length > 0 ? ` · ${health.notes.join(', ')}` : ''}
      </Text>
      {member.pendingRestart ? (
        <Text wrap="truncate" bold color={theme.tone('warning')}>
          ⟳ pending restart:{' '}
          {member.pendingRestartReason
            ? Object.entries(member.pendingRestartReason).map(([param, change]) => `${param} ${change.oldValue} → ${change.newValue}`).join(', ')
            : 'reason not reported (Patroni < 3.3)'}
        </Text>
      ) : null}
      {!detail ? (
        <Text dimColor>no SQL detail{member.sqlReachable ? ' yet' : `: SQL unreachable${member.sqlError ? ` (${member.sqlError})` : ''}`}</Text>
      ) : (
        <>
          <Box flexDirection="row">
            <Box flexDirection="column" width={half} marginRight={1}>
              <Section title={`Replication (${detail.replication.length})`}>
                {detail.replication.length === 0 ? <Text dimColor>none</Text> : null}
                {detail.replication.slice(0, listRows).map((row) => (
                  <Text key={row.applicationName} wrap="truncate">
                    {fit(row.applicationName, 8)} {fit(row.state, 10)} {fit(row.syncState ?? EMPTY, 6)} replay {formatLsn(row.replayLsn)}{' '}
                    {formatLag(row.replayLagBytes, row.replayLagSeconds)}
                  </Text>
                ))}
              </Section>
              <Section title="WAL receiver">
                {detail.walReceiver ? (
                  <Text wrap="truncate">
                    {detail.walReceiver.status} from {detail.walReceiver.senderHost ?? EMPTY}:{detail.walReceiver.senderPort ?? EMPTY} · received{' '}
                    {formatLsn(detail.walReceiver.receivedLsn)} TL {detail.walReceiver.receivedTimeline ?? EMPTY}
                    {detail.walReceiver.lastMessageAt ? ` · last message ${formatAge(detail.walReceiver.lastMessageAt, now)} ago` : ''}
                    {detail.walReceiver.slotName ? ` · slot ${detail.walReceiver.slotName}` : ''}
                  </Text>
                ) : (
                  <Text dimColor>{member.role === 'leader' ? 'none (leader)' : '✗ none: not streaming'}</Text>
                )}
              </Section>
            </Box>
            <Box flexDirection="column" width={width - half - 1}>
              <Section title="Connections by state">
                <Text wrap="wrap">
                  {Object.entries(detail.connectionsByState).map(([state, n]) => `${state} ${n}`).join(' · ') || 'none'}
                  {detail.maxConnections !== undefined
                    ? ` (total ${Object.values(detail.connectionsByState).reduce((a, b) => a + b, 0)} of max ${detail.maxConnections})`
                    : ''}
                </Text>
              </Section>
              <Section title={`Blocked / blocking (${detail.blocking.length})`}>
                {detail.blocking.length === 0 ? <Text dimColor>none</Text> : null}
                {detail.blocking.slice(0, listRows).map((row) => (
                  <Text key={`${row.blockedPid}-${row.blockingPid}`} wrap="truncate" color={theme.tone('warning')}>
                    ▲ {row.blockedPid} waits on {row.blockingPid} for {formatDuration(row.blockedSeconds)}: {(row.blockedQuery ?? '').replace(/\s+/g, ' ')}
                  </Text>
                ))}
              </Section>
            </Box>
          </Box>
          <Section title={`Longest transactions (${detail.longestTransactions.length})`}>
            {detail.longestTransactions.length === 0 ? <Text dimColor>none</Text> : null}
            {detail.longestTransactions.slice(0, listRows).map((row) => (
              <Text key={row.pid} wrap="truncate">
                {sessionLine(row, width)}
              </Text>
            ))}
          </Section>
          <Section title={`Idle in transaction (${detail.idleInTransaction.length})`}>
            {detail.idleInTransaction.length === 0 ? <Text dimColor>none</Text> : null}
            {detail.idleInTransaction.slice(0, listRows).map((row) => (
              <Text key={row.pid} wrap="truncate" color={theme.tone('warning')}>
                {sessionLine(row, width)}
              </Text>
            ))}
          </Section>
        </>
      )}
    </Pane>
  );
}
