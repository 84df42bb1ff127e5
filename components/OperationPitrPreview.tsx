import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { useTheme } from './theme.js';

export interface OperationPitrPreviewProps {
  mode: 'side' | 'rewind';
  /** The target as validated ("time 2026-11-21 21:00:00.000 UTC (… local)"). */
  target: string;
  /** The backup it restores ("20261121T210000 (automatic: the newest that ends before the target)"). */
  backup: string;
  windowText: string;
  /** The members whose data directories a rewind moves aside. */
  members: readonly string[];
  cluster: string;
  /** The side restores and safety copies listing. */
  listing?: ReactNode;
}

/**
 * What a PITR will do, validated: the target, the backup, the recovery window; a side restore changes
 * nothing in the cluster, a rewind stops every member and keeps a safety copy of each data directory
 * (listed). Presentational.
 */
export function OperationPitrPreview({ mode, target, backup, windowText, members, cluster, listing }: OperationPitrPreviewProps) {
  const theme = useTheme();
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        Target: <Text bold>{target}</Text>
      </Text>
      <Text wrap="truncate">
        Backup: <Text bold>{backup}</Text>
      </Text>
      <Text wrap="truncate">Recovery window: {windowText.replace(/^valid window: /, '')}</Text>
      {mode === 'side' ? (
        <Text color={theme.tone('ok')} wrap="truncate">
          Side restore: a new directory and a throwaway PostgreSQL on a free port; nothing in cluster {cluster} changes.
        </Text>
      ) : (
        <>
          <Text bold color={theme.tone('critical')} wrap="wrap">
            Cluster rewind: every member of {cluster} stops; writes after the target remain only in the safety copies.
          </Text>
          <Text wrap="wrap">
            Safety copies to be made (moved aside, kept until removed): {members.map((m) => `${m}/data`).join(', ')}
          </Text>
        </>
      )}
      {listing}
    </Box>
  );
}
