import { Box, Text } from 'ink';
import type { SafetyCopy } from '../src/lab/restore-lab.js';
import { useTheme } from './theme.js';
import { safetyCopyLocation } from '../src/lab/restore-lab.js';

/** One side restore as listed: its URI (never a password), where it comes from. */
export interface RestoreRow {
  id: string;
  status: string;
  uri: string;
  backupId: string;
  target: string;
}

export interface OperationRestoresProps {
  restores: readonly RestoreRow[];
  safetyCopies: readonly SafetyCopy[];
  /** Show the safety copies (the rewind's review), or only their count. */
  showSafetyCopies?: boolean;
  error?: string;
}

/**
 * The side restores (kept until `pgcockpit restores remove ID`), each with its status, URI, backup and
 * target; and the safety copies the rewinds left. Presentational.
 */
export function OperationRestores({ restores, safetyCopies, showSafetyCopies = false, error }: OperationRestoresProps) {
  const theme = useTheme();
  return (
    <Box flexDirection="column">
      <Text bold>
        Side restores: {restores.length === 0 ? <Text dimColor>none</Text> : restores.length}
        {restores.length > 0 ? <Text dimColor> (remove: pgcockpit restores remove ID)</Text> : null}
      </Text>
      {restores.map((r) => (
        <Text key={r.id} wrap="truncate">
          {'  '}
          <Text color={theme.tone(r.status === 'running' ? 'ok' : r.status === 'failed' ? 'critical' : 'warning')}>{r.status.padEnd(10)}</Text> {r.id} {r.uri} <Text dimColor>backup {r.backupId} → {r.target}</Text>
        </Text>
      ))}
      {showSafetyCopies ? (
        <>
          <Text bold>Safety copies from earlier rewinds: {safetyCopies.length === 0 ? <Text dimColor>none</Text> : safetyCopies.length}</Text>
          {safetyCopies.map((c) => (
            <Text key={c.id} wrap="truncate" dimColor>
              {`  ${c.id}  ${safetyCopyLocation(c)}${c.reason ? `  (${c.reason})` : ''}`}
            </Text>
          ))}
        </>
      ) : safetyCopies.length > 0 ? (
        <Text dimColor>Safety copies from earlier rewinds: {safetyCopies.length}</Text>
      ) : null}
      {error ? <Text color={theme.tone('warning')}>▲ {error}</Text> : null}
    </Box>
  );
}
