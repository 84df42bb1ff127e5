import { Box, Text } from 'ink';
import type { OperationRun } from '../src/ops/runner.js';
import { formatStepTime, StepList } from './OperationProgress.js';
import type { Tone } from './theme.js';
import { useTheme } from './theme.js';

const STATUS: Record<OperationRun['status'], { word: string; tone: Tone }> = {
  running: { word: 'running', tone: 'accent' },
  done: { word: 'done', tone: 'ok' },
  refused: { word: 'refused', tone: 'warning' },
  failed: { word: 'failed', tone: 'critical' },
  aborted: { word: 'aborted', tone: 'warning' },
};

export interface OperationResultProps {
  run: OperationRun;
  /** Lines that follow the result (a side restore's connection string, how to stop and remove it). */
  details?: readonly string[];
}

/** How it ended, and why: stays on screen until the operator dismisses it. */
export function OperationResult({ run, details = [] }: OperationResultProps) {
  const theme = useTheme();
  const { word, tone } = STATUS[run.status];
  const end = run.endedAt ?? run.startedAt;
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        <Text inverse color={theme.tone(tone)}>{` ${run.operation} ${word} `}</Text>
        {run.durationMs !== undefined ? ` in ${formatStepTime(run.durationMs)}` : ''}
        {run.result ? ` — ${run.result.summary}` : ''}
      </Text>
      {(run.reasons ?? []).map((r, i) => (
        <Text key={`r${i}`} color={theme.tone('critical')} wrap="wrap">
          ✗ {r.message}
        </Text>
      ))}
      {run.error ? (
        <Text color={theme.tone('critical')} wrap="wrap">
          {run.error}
        </Text>
      ) : null}
      {run.status === 'refused' ? <Text dimColor>Nothing was changed.</Text> : null}
      {details.map((line, i) => (
        <Text key={`d${i}`} wrap="truncate" bold={i === 0}>
          {line}
        </Text>
      ))}
      <StepList run={run} now={end} />
      {run.warnings.map((w, i) => (
        <Text key={`w${i}`} wrap="truncate" color={theme.tone('warning')}>
          ▲ {w}
        </Text>
      ))}
    </Box>
  );
}
