import { Box, Text } from 'ink';
import SelectInput from 'ink-select-input';
import type { CandidateOption } from '../src/ops/checks.js';
import { formatLag } from '../src/ui/format.js';
import { useTheme } from './theme.js';

export interface CandidatePickerProps {
  options: readonly CandidateOption[];
  /** The best candidate, offered first (marked "best"). */
  best?: string;
  onSelect: (member: string) => void;
  /** False in tests that only look; true lets ink-select-input take ↑/↓/j/k/Enter/1-9. */
  isFocused?: boolean;
}

function optionLabel(option: CandidateOption, best: string | undefined): string {
  const lag = formatLag(option.replayLagBytes, option.replayLagSeconds, true);
  return `${option.member.padEnd(8)} ${option.state.padEnd(10)} lag ${lag}${option.member === best ? '  (best)' : ''}`;
}

/**
 * Choose the candidate: eligible replicas in an ink-select-input list (best first), each with its state and
 * replay lag; ineligible ones below it, not selectable, each with the runner's reason.
 */
export function CandidatePicker({ options, best, onSelect, isFocused = true }: CandidatePickerProps) {
  const theme = useTheme();
  const eligible = [...options.filter((o) => o.eligible)].sort((a, b) => Number(b.member === best) - Number(a.member === best));
  const ineligible = options.filter((o) => !o.eligible);
  const items = eligible.map((o) => ({ key: o.member, label: optionLabel(o, best), value: o.member }));
  return (
    <Box flexDirection="column">
      {items.length > 0 ? (
        <>
          <Text>Choose the new leader:</Text>
          <SelectInput items={items} isFocused={isFocused} onSelect={(item) => onSelect(item.value)} />
        </>
      ) : (
        <Text bold color={theme.tone('critical')}>
          No eligible candidate.
        </Text>
      )}
      {ineligible.map((o) => (
        <Text key={o.member} wrap="truncate" dimColor>
          {'  ✗ '}
          {optionLabel(o, undefined)} — {o.reasons.map((r) => r.message).join('; ')}
        </Text>
      ))}
    </Box>
  );
}

export interface ChoiceItem {
  value: string;
  label: string;
}

/** A plain choice (the restart's targets: the selected member, or every member with a pending restart). */
export function ChoicePicker({ prompt, items, onSelect, isFocused = true }: { prompt: string; items: readonly ChoiceItem[]; onSelect: (value: string) => void; isFocused?: boolean }) {
  return (
    <Box flexDirection="column">
      <Text>{prompt}</Text>
      <SelectInput items={items.map((i) => ({ key: i.value, label: i.label, value: i.value }))} isFocused={isFocused} onSelect={(item) => onSelect(item.value)} />
    </Box>
  );
}
