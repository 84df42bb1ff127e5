import { memo } from 'react';
import { Text } from 'ink';
import type { ArchivingView } from '../src/model/snapshot.js';
import { EMPTY, formatAge, formatClock } from '../src/ui/format.js';
import { Pane } from './Pane.js';
import { useTheme } from './theme.js';

export interface ArchivePaneProps {
  archiving: ArchivingView;
  now: number;
  focused: boolean;
  width: number;
  height: number;
}

/** pg_stat_archiver of the leader (last archived WAL and its age, failures, backlog) and the archive.log tail. */
function ArchivePaneView({ archiving, now, focused, width, height }: ArchivePaneProps) {
  const theme = useTheme();
  const status = archiving.status;
  const tailRows = Math.max(0, height - 5);
  const tail = archiving.logTail.slice(-tailRows);
  return (
    <Pane title="Archive" subtitle={archiving.member ? `pg_stat_archiver on ${archiving.member}` : 'no leader to read'} focused={focused} width={width} height={height}>
      {status ? (
        <>
          <Text wrap="truncate">
            last archived <Text bold>{status.lastArchivedWal ?? EMPTY}</Text>
            {status.lastArchivedAt ? ` ${formatAge(status.lastArchivedAt, now)} ago (${formatClock(status.lastArchivedAt)})` : ''}
            {` · ${status.archivedCount} archived`}
          </Text>
          <Text wrap="truncate">
            {status.failing ? (
              <Text bold inverse color={theme.tone('critical')}>
                {' ✗ FAILING '}
              </Text>
            ) : (
              <Text color={theme.tone('ok')}>✓ ok</Text>
            )}
            {` failed ${status.failedCount}`}
            {status.lastFailedWal
              ? ` · last failure ${status.lastFailedWal}${status.lastFailedAt ? ` ${formatAge(status.lastFailedAt, now)} ago` : ''}`
              : ''}
          </Text>
          <Text wrap="truncate">
            backlog{' '}
            <Text bold={(status.readyBacklog ?? 0) > 0} color={(status.readyBacklog ?? 0) > 0 ? theme.tone('warning') : undefined}>
              {status.readyBacklog === undefined ? EMPTY : `${status.readyBacklog} segment${status.readyBacklog === 1 ? '' : 's'} waiting`}
            </Text>
          </Text>
        </>
      ) : (
        <Text dimColor>no pg_stat_archiver yet (leader SQL not read)</Text>
      )}
      <Text wrap="truncate" dimColor>
        archive.log{archiving.logMember ? ` on ${archiving.logMember}` : ''}:{tail.length === 0 ? ' (empty)' : ''}
      </Text>
      {tail.map((line, index) => (
        <Text key={index} wrap="truncate">
          {line}
        </Text>
      ))}
    </Pane>
  );
}

/** Memoized: a frame where only other panes changed (or only the clock, for panes without ages) skips it. */
export const ArchivePane = memo(ArchivePaneView);
