import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { useTheme } from './theme.js';

export interface PaneProps {
  title: string;
  /** Extra words after the title (counts, the threshold, a scroll position). */
  subtitle?: string;
  focused: boolean;
  width: number;
  height: number;
  children?: ReactNode;
}

/**
 * A titled section without a border (a border costs two rows and two columns we don't have at 80×24).
 * Focus reads without color: a ▶ marker and an inverse title.
 */
export function Pane({ title, subtitle, focused, width, height, children }: PaneProps) {
  const theme = useTheme();
  const head = `${focused ? '▶ ' : '  '}${title}`;
  const tail = subtitle ? ` ${subtitle} ` : ' ';
  const rule = '─'.repeat(Math.max(0, width - head.length - tail.length - 1));
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <Text wrap="truncate">
        <Text inverse={focused} bold color={focused ? theme.tone('accent') : undefined}>
          {head}
        </Text>
        <Text dimColor>
          {tail}
          {rule}
        </Text>
      </Text>
      {children}
    </Box>
  );
}
