import { Box, Text } from 'ink';
import type { HelpEntry } from '../src/keymap/keymap.js';
import { fit } from '../src/ui/format.js';
import { useTheme } from './theme.js';

export interface HelpOverlayProps {
  /** Generated from the keymap (helpEntries), every binding, in category order. */
  entries: readonly HelpEntry[];
  width: number;
  height: number;
}

type HelpLine =
  | { kind: 'category'; text: string }
  | { kind: 'entry'; entry: HelpEntry; showReason: boolean }
  | { kind: 'reason'; text: string };

/**
 * Lines per category. When every command of a category is disabled for the same reason (all operations
 * before the operations layer, all of them in read-only mode) the reason is said once under the heading.
 */
export function helpLines(entries: readonly HelpEntry[]): HelpLine[][] {
  const blocks: HelpLine[][] = [];
  let current: HelpEntry[] = [];
  const flush = () => {
    const first = current[0];
    if (!first) return;
    const reasons = new Set(current.map((e) => e.disabledReason));
    const shared = reasons.size === 1 && first.disabledReason !== undefined ? first.disabledReason : undefined;
    const block: HelpLine[] = [{ kind: 'category', text: first.category }];
    if (shared) block.push({ kind: 'reason', text: `✗ ${shared}` });
    for (const entry of current) block.push({ kind: 'entry', entry, showReason: shared === undefined });
    blocks.push(block);
    current = [];
  };
  for (const entry of entries) {
    if (current[0] && current[0].category !== entry.category) flush();
    current.push(entry);
  }
  flush();
  return blocks;
}

function compactDialogBlock(block: HelpLine[]): HelpLine[] {
  const head = block[0];
  if (head?.kind !== 'category' || head.text !== 'Operation dialog') return block;
  const keys = block.flatMap((line) => (line.kind === 'entry' ? [line.entry.keys] : []));
  return [head, { kind: 'reason', text: ` ${keys.join(' ')}` }];
}

/** Split blocks into `count` columns of about equal height, keeping each block whole. */
function columnsOf(blocks: HelpLine[][], count: number): HelpLine[][] {
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const target = Math.ceil(total / count);
  const columns: HelpLine[][] = [[]];
  for (const block of blocks) {
    let column = columns[columns.length - 1] ?? [];
    if (column.length > 0 && column.length + block.length > target && columns.length < count) {
      column = [];
      columns.push(column);
    }
    column.push(...block);
  }
  return columns;
}

/** `?` — every binding of the keymap with what it does; a key that does nothing now says why. */
export function HelpOverlay({ entries, width, height }: HelpOverlayProps) {
  const theme = useTheme();
  let blocks = helpLines(entries);
  // Short of rows (80×24): the operation dialog's keys on one line (the dialog shows them too).
  if (blocks.reduce((n, b) => n + b.length, 0) > height - 2) blocks = blocks.map(compactDialogBlock);
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const count = total <= height - 2 || width < 70 ? 1 : 2;
  const columns = columnsOf(blocks, count);
  const columnWidth = Math.floor((width - (count - 1) * 2) / count);
  const keyWidth = 16;
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <Text wrap="truncate" bold inverse>
        {fit(' Keys — ? or Esc closes · ✗ = not available now, with the reason', width)}
      </Text>
      <Box flexDirection="row" columnGap={2}>
        {columns.map((lines, columnIndex) => (
          <Box key={columnIndex} flexDirection="column" width={columnWidth}>
            {lines.map((line, index) => {
              if (line.kind === 'category') {
                return (
                  <Text key={index} bold underline color={theme.tone('accent')}>
                    {line.text}
                  </Text>
                );
              }
              if (line.kind === 'reason') {
                return (
                  <Text key={index} wrap="wrap" color={theme.tone('warning')}>
                    {line.text}
                  </Text>
                );
              }
              const { entry } = line;
              const disabled = entry.disabledReason !== undefined;
              return (
                <Text key={index} wrap="truncate">
                  <Text bold={!disabled} dimColor={disabled}>
                    {disabled ? '✗' : ' '}
                    {fit(entry.keys, keyWidth - 1)}
                  </Text>
                  {entry.description}
                  {entry.dangerous ? <Text color={theme.tone('critical')}> !</Text> : null}
                  {line.showReason && disabled ? <Text color={theme.tone('warning')}> — {entry.disabledReason}</Text> : null}
                </Text>
              );
            })}
          </Box>
        ))}
      </Box>
    </Box>
  );
}
