import { Text } from 'ink';
import { useTheme } from './theme.js';

export interface FilterInputProps {
  value: string;
  /** Typing now (a cursor is shown), or applied (the filter stays visible until Esc). */
  editing: boolean;
  /** Counts after filtering, so an empty result is obvious. */
  matchedMembers: number;
  matchedEvents: number;
}

export function FilterInput({ value, editing, matchedMembers, matchedEvents }: FilterInputProps) {
  const theme = useTheme();
  return (
    <Text wrap="truncate">
      <Text bold color={theme.tone('accent')}>
        /
      </Text>
      {value}
      {editing ? <Text inverse> </Text> : null}
      <Text dimColor>
        {`  ${matchedMembers} member${matchedMembers === 1 ? '' : 's'}, ${matchedEvents} event${matchedEvents === 1 ? '' : 's'} match`}
        {editing ? ' · Enter apply · Esc clear' : ' · / edit · Esc clear'}
      </Text>
    </Text>
  );
}
