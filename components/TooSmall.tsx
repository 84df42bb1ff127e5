import { Box, Text } from 'ink';

export interface TooSmallProps {
  columns: number;
  rows: number;
  minColumns: number;
  minRows: number;
}

/** Instead of a broken layout: what is needed and what there is. Resize and the cockpit comes back. */
export function TooSmall({ columns, rows, minColumns, minRows }: TooSmallProps) {
  return (
    <Box flexDirection="column" width={columns}>
      <Text bold wrap="wrap">
        terminal too small (need {minColumns}×{minRows})
      </Text>
      <Text wrap="wrap">
        now {columns}×{rows} · enlarge the window, or q to quit
      </Text>
    </Box>
  );
}
