import { Box, Text } from 'ink';
import type { PaletteItem } from '../src/keymap/keymap.js';
import { fit } from '../src/ui/format.js';
import { useTheme } from './theme.js';

export interface CommandPaletteProps {
  query: string;
  items: readonly PaletteItem[];
  selectedIndex: number;
  width: number;
  height: number;
}

/** `:` — the keymap's commands, fuzzy-filtered by what is typed; a disabled one shows why. */
export function CommandPalette({ query, items, selectedIndex, width, height }: CommandPaletteProps) {
  const theme = useTheme();
  const rows = Math.max(1, height - 2);
  const start = Math.min(Math.max(0, selectedIndex - rows + 1), Math.max(0, items.length - rows));
  const shown = items.slice(start, start + rows);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold color={theme.tone('accent')}>
          :
        </Text>
        {query}
        <Text inverse> </Text>
        <Text dimColor>{`  ${items.length} command${items.length === 1 ? '' : 's'} · ↑↓ choose · Enter run · Esc close`}</Text>
      </Text>
      {items.length === 0 ? <Text dimColor>  no command matches</Text> : null}
      {shown.map((item, index) => {
        const selected = start + index === selectedIndex;
        return (
          <Text key={item.id} wrap="truncate" inverse={selected} dimColor={!selected && item.disabledReason !== undefined}>
            {selected ? '›' : ' '} {fit(item.keys, 12)} {item.description}
            {item.disabledReason ? ` ✗ ${item.disabledReason}` : ''}
          </Text>
        );
      })}
    </Box>
  );
}
