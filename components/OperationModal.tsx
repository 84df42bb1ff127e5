import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { Tone } from './theme.js';
import { useTheme } from './theme.js';

export interface ModalHint {
  keys: string;
  label: string;
}

export interface OperationModalProps {
  /** "Switchover", "Failover (may lose data)". */
  title: string;
  /** Where the dialog is: "choose a candidate", "confirm", "running", "done". */
  stage: string;
  tone?: Tone;
  /** The dialog's keys, generated from the keymap by the caller. */
  hints: readonly ModalHint[];
  width: number;
  height: number;
  children?: ReactNode;
}

/** The frame of an operation's dialog: a titled, bordered box with its keys at the bottom. Presentational. */
export function OperationModal({ title, stage, tone = 'accent', hints, width, height, children }: OperationModalProps) {
  const theme = useTheme();
  return (
    <Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor={theme.tone(tone)} paddingX={1} overflowY="hidden">
      <Text wrap="truncate" bold color={theme.tone(tone)}>
        {title} <Text dimColor>· {stage}</Text>
      </Text>
      <Box flexDirection="column" flexGrow={1} overflowY="hidden">
        {children}
      </Box>
      <Text wrap="truncate" dimColor>
        {hints.map((h) => `${h.keys} ${h.label}`).join('  ')}
      </Text>
    </Box>
  );
}
