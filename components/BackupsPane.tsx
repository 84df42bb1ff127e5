import { memo } from 'react';
import { Text } from 'ink';
import type { BackupsView } from '../src/model/snapshot.js';
import type { BarmanBackup } from '../src/services/types.js';
import { EMPTY, fit, formatAge, formatBytes, formatDateTime, formatDuration, formatShortDateTime, toEpochMs } from '../src/ui/format.js';
import { Line } from './Line.js';
import { Pane } from './Pane.js';
import type { Tone } from './theme.js';
import { useTheme } from './theme.js';

export interface BackupsPaneProps {
  backups: BackupsView;
  now: number;
  /** How many of the newest backups are scrolled past. */
  scroll: number;
  focused: boolean;
  width: number;
  height: number;
}

const STATUS_SYMBOL: Record<string, string> = { DONE: '✓', FAILED: '✗', STARTED: '⟳', WAITING_FOR_WALS: '…' };

function durationOf(backup: BarmanBackup, now: number): number | undefined {
  if (backup.durationSeconds !== undefined) return backup.durationSeconds;
  const begin = toEpochMs(backup.beginTime);
  if (begin === undefined) return undefined;
  const end = toEpochMs(backup.endTime) ?? (backup.status === 'STARTED' ? now : undefined);
  return end === undefined ? undefined : (end - begin) / 1000;
}

/** Barman: recovery window, newest backup's age, a running backup as RUNNING, then the backups newest first. */
function BackupsPaneView({ backups, now, scroll, focused, width, height }: BackupsPaneProps) {
  const theme = useTheme();
  const window = backups.recoveryWindow;
  const running = backups.running;
  const rows = Math.max(0, height - 3 - (running ? 1 : 0));
  const newestFirst = [...backups.backups].reverse();
  const offset = Math.min(Math.max(0, scroll), Math.max(0, newestFirst.length - rows));
  const shown = newestFirst.slice(offset, offset + rows);
  const age = backups.newestDoneAgeSeconds;
  return (
    <Pane title="Backups" subtitle={`${backups.backups.length} in Barman${offset > 0 ? ` (${offset} newer above)` : ''}`} focused={focused} width={width} height={height}>
      <Text wrap="truncate">
        recovery window{' '}
        {window ? (
          <Text bold>
            {formatDateTime(window.from)} → {formatDateTime(window.to)}
          </Text>
        ) : (
          <Text bold color={theme.tone('warning')}>
            ▲ none (no usable backup)
          </Text>
        )}
        {' · newest backup '}
        <Text bold>{age === undefined ? EMPTY : `${formatDuration(age)} old`}</Text>
      </Text>
      {running ? (
        <Text wrap="truncate" bold color={theme.tone('info')}>
          ⟳ RUNNING {running.id} started {running.beginTime ? `${formatAge(running.beginTime, now)} ago` : EMPTY}
          {running.sizeBytes !== undefined ? ` · ${formatBytes(running.sizeBytes)} so far` : ''}
        </Text>
      ) : null}
      <Text wrap="truncate" bold dimColor>
        {'  '}
        {fit('ID', 16)} {fit('STATUS', 8)} {fit('BEGIN', 11)} {fit('END', 11)} {fit('DURATION', 8, 'right')} {fit('SIZE', 9, 'right')} {fit('WAL', 9, 'right')}
      </Text>
      {shown.length === 0 ? <Text dimColor>  no backups</Text> : null}
      {shown.map((backup) => {
        const isRunning = backup.status === 'STARTED' || backup.id === running?.id;
        const status = isRunning ? 'RUNNING' : backup.status;
        const tone: Tone | undefined = backup.status === 'FAILED' ? 'critical' : isRunning ? 'info' : backup.status === 'DONE' ? undefined : 'warning';
        return (
          <Line
            key={backup.id}
            spans={[
              { text: `${isRunning ? '⟳' : (STATUS_SYMBOL[backup.status] ?? '?')} ${fit(backup.id, 16)} ${fit(status, 8)}`, tone, bold: tone !== undefined },
              {
                text: ` ${fit(formatShortDateTime(backup.beginTime), 11)} ${fit(isRunning ? 'running' : formatShortDateTime(backup.endTime), 11)} ${fit(formatDuration(durationOf(backup, now)), 8, 'right')} ${fit(formatBytes(backup.sizeBytes), 9, 'right')} ${fit(formatBytes(backup.walSizeBytes), 9, 'right')}${backup.error ? ` ${backup.error}` : ''}`,
              },
            ]}
            width={width}
          />
        );
      })}
    </Pane>
  );
}

/** Memoized: a frame where only other panes changed (or only the clock, for panes without ages) skips it. */
export const BackupsPane = memo(BackupsPaneView);
