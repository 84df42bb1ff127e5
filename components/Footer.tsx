import { Box, Text } from 'ink';
import type { FooterHint } from '../src/keymap/keymap.js';
import type { Tone } from './theme.js';
import { useTheme } from './theme.js';

export interface FooterMessage {
  text: string;
  tone?: Tone;
}

export interface FooterProps {
  /** Generated from the keymap: what the operator can press now. */
  hints: readonly FooterHint[];
  /** Keys of operations that exist but are disabled now (named so the operator knows to ask ?). */
  disabledOperationKeys?: readonly string[];
  /** A one-line answer to the last key (e.g. why an operation did not run). */
  message?: FooterMessage;
  /** The mode word at the left: "cockpit", "watch · read-only". */
  mode: string;
  width: number;
}

export function Footer({ hints, disabledOperationKeys = [], message, mode, width }: FooterProps) {
  const theme = useTheme();
  const hintsLength = mode.length + 2 + hints.reduce((n, h) => n + 2 + h.keys.length + h.label.length, 0);
  const opsText = `  ops ${disabledOperationKeys.join(' ')} ✗ (? why)`;
  const showOps = disabledOperationKeys.length > 0 && hintsLength + opsText.length <= width;
  return (
    <Box flexDirection="column" width={width}>
      {message ? (
        <Text wrap="truncate" bold color={theme.tone(message.tone)}>
          {message.text}
        </Text>
      ) : null}
      <Text wrap="truncate">
        <Text inverse>{` ${mode} `}</Text>
        {hints.map((hint) => (
          <Text key={hint.id}>
            {' '}
            <Text bold>{hint.keys}</Text> {hint.label}
          </Text>
        ))}
        {showOps ? <Text dimColor>{opsText}</Text> : null}
      </Text>
    </Box>
  );
}
