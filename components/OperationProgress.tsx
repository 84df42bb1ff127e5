import { Box, Text } from 'ink';
import type { OperationRun } from '../src/ops/runner.js';
import type { ProgressEvent, StepEvent } from '../src/ops/types.js';
import { formatBytes } from '../src/ui/format.js';
import type { Tone } from './theme.js';
import { useTheme } from './theme.js';

const STEP_MARK: Record<StepEvent['status'], { mark: string; tone: Tone | undefined }> = {
  started: { mark: '…', tone: 'accent' },
  done: { mark: '✓', tone: 'ok' },
  failed: { mark: '✗', tone: 'critical' },
  skipped: { mark: '-', tone: undefined },
};

/** "1.2 s" / "340 ms": a step's time as the operator reads it. */
export function formatStepTime(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A text progress bar: "[██████░░░░] 60%". */
export function progressBar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.round(f * 100)}%`;
}

function lastProgress(run: OperationRun): Map<string, ProgressEvent> {
  const latest = new Map<string, ProgressEvent>();
  for (const event of run.events) if (event.type === 'progress') latest.set(event.stepId, event);
  return latest;
}

function progressText(p: ProgressEvent): string {
  const fraction = p.fraction ?? (p.bytes !== undefined && p.totalBytes ? p.bytes / p.totalBytes : undefined);
  const parts: string[] = [];
  if (fraction !== undefined) parts.push(progressBar(fraction));
  if (p.bytes !== undefined) parts.push(p.totalBytes ? `${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)}` : formatBytes(p.bytes));
  if (p.message) parts.push(p.message);
  return parts.join(' ');
}

export interface StepListProps {
  run: OperationRun;
  now: number;
}

/** Each step with its time (running ones count up), and a progress bar under the steps that report one. */
export function StepList({ run, now }: StepListProps) {
  const theme = useTheme();
  const progress = lastProgress(run);
  return (
    <Box flexDirection="column">
      {run.steps.map((step) => {
        const { mark, tone } = STEP_MARK[step.status];
        const ms = step.durationMs ?? now - step.startedAt;
        const p = step.status === 'started' ? progress.get(step.id) : undefined;
        return (
          <Box key={step.id} flexDirection="column">
            <Text wrap="truncate">
              <Text color={theme.tone(tone)}>{mark}</Text> {step.title.padEnd(40)} <Text dimColor>{formatStepTime(ms)}</Text>
              {step.detail ? <Text dimColor> {step.detail}</Text> : null}
            </Text>
            {p ? <Text wrap="truncate">{`    ${progressText(p)}`}</Text> : null}
          </Box>
        );
      })}
    </Box>
  );
}

export interface OperationProgressProps {
  run: OperationRun;
  now: number;
  /** Log and warning lines kept on screen (the newest). */
  maxLogLines?: number;
}

/** The live run: steps with per-step timing, progress bars, and the newest log and warning lines. */
export function OperationProgress({ run, now, maxLogLines = 4 }: OperationProgressProps) {
  const theme = useTheme();
  const lines = run.events.filter((e) => e.type === 'log' || e.type === 'warning').slice(-maxLogLines);
  return (
    <Box flexDirection="column">
      <Text>
        running for {formatStepTime(now - run.startedAt)} <Text dimColor>(a aborts; before the request nothing changes)</Text>
      </Text>
      <StepList run={run} now={now} />
      {lines.map((e, i) => (
        <Text key={i} wrap="truncate" color={e.type === 'warning' ? theme.tone('warning') : undefined} dimColor={e.type === 'log'}>
          {e.type === 'warning' ? '▲ ' : '  '}
          {e.type === 'log' || e.type === 'warning' ? e.message : ''}
        </Text>
      ))}
    </Box>
  );
}
