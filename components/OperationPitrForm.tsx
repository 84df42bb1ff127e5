import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { ChoicePicker } from './CandidatePicker.js';
import type { ChoiceItem } from './CandidatePicker.js';
import { useTheme } from './theme.js';

export interface OperationPitrFormProps {
  step: 'kind' | 'value' | 'backup' | 'mode';
  /** The kinds of target, in order (the first is offered first). */
  kinds: readonly ChoiceItem[];
  /** The kind chosen, as the operator reads it ("a time, with its time zone"), and how to write it. */
  kindLabel: string;
  example: string;
  value: string;
  /** The target as parsed so far ("time 2026-11-21 21:00:00.000 UTC (… local)"), or why it does not parse yet. */
  echo: { ok: boolean; text: string };
  /** Now, in UTC and local: what a time target is compared with. */
  nowText: string;
  /** "valid window: … → …" from Barman's data. */
  windowText: string;
  /** The runner's reasons for refusing the target typed last. */
  refusal?: readonly string[];
  backups: readonly ChoiceItem[];
  modes: readonly ChoiceItem[];
  onKind: (value: string) => void;
  onBackup: (value: string) => void;
  onMode: (value: string) => void;
  /** The side restores and safety copies (shown on the first step). */
  listing?: ReactNode;
  /** False in tests that only look. */
  isFocused?: boolean;
}

/**
 * The PITR dialog before the review, one step at a time: the kind of target, the target typed (echoed
 * as parsed: a time in UTC and local), the backup, side restore or cluster rewind. The recovery window
 * stays in view; a refused target shows the runner's reasons and stays on its step. Presentational.
 */
export function OperationPitrForm(props: OperationPitrFormProps) {
  const theme = useTheme();
  const { step, isFocused = true } = props;
  return (
    <Box flexDirection="column">
      <Text wrap="truncate">
        Recovery window: <Text bold>{props.windowText.replace(/^valid window: /, '')}</Text>
      </Text>
      <Text wrap="truncate" dimColor>
        now {props.nowText}
      </Text>
      {step === 'kind' ? (
        <>
          <ChoicePicker prompt="Recover to:" items={props.kinds} onSelect={props.onKind} isFocused={isFocused} />
          {props.listing}
        </>
      ) : null}
      {step === 'value' ? (
        <>
          <Text>
            Target ({props.kindLabel}): <Text color={theme.tone('accent')}>{props.value}</Text>
            <Text inverse> </Text>
          </Text>
          <Text dimColor wrap="truncate">
            {'  '}
            {props.example}
          </Text>
          <Text wrap="truncate" color={props.echo.ok ? theme.tone('ok') : undefined} dimColor={!props.echo.ok}>
            {props.echo.ok ? '  → ' : '  … '}
            {props.echo.text}
          </Text>
          {(props.refusal ?? []).map((r, i) => (
            <Text key={i} color={theme.tone('critical')} wrap="wrap">
              ✗ refused: {r}
            </Text>
          ))}
          {props.refusal?.length ? <Text dimColor>Nothing was changed. Correct the target and press Enter again.</Text> : null}
        </>
      ) : null}
      {step === 'backup' || step === 'mode' ? (
        <>
          <Text wrap="truncate" color={theme.tone('ok')}>
            → {props.echo.text}
          </Text>
          {step === 'backup' ? (
            <ChoicePicker key="backup" prompt="Restore from the backup:" items={props.backups} onSelect={props.onBackup} isFocused={isFocused} />
          ) : (
            <ChoicePicker key="mode" prompt="How:" items={props.modes} onSelect={props.onMode} isFocused={isFocused} />
          )}
        </>
      ) : null}
    </Box>
  );
}
