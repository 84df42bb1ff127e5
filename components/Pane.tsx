import type { ReactNode } from 'react';
import { Box } from 'ink';
import { Line } from './Line.js';

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
  const head = `${focused ? '▶ ' : '  '}${title}`;
  const tail = subtitle ? ` ${subtitle} ` : ' ';
  // The rule is a border, not text: Ink measures every text line with string-width on each frame, and a
  // line of 150 '─' takes its slow (non-ASCII) path, half a millisecond a pane; a border is drawn as is.
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <Box flexDirection="row" height={1} width={width}>
        <Line
          spans={[
            { text: head, inverse: focused, bold: true, tone: focused ? 'accent' : undefined },
            { text: tail, dim: true },
          ]}
          width={width}
        />
        <Box flexGrow={1} flexShrink={1} marginRight={1} borderStyle="single" borderTop borderBottom={false} borderLeft={false} borderRight={false} borderDimColor />
      </Box>
      {children}
    </Box>
  );
}
