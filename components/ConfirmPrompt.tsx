import { Text } from 'ink';
import { useTheme } from './theme.js';

export type ConfirmPromptProps =
  | { kind: 'yes-no'; question: string; blocked?: boolean }
  | { kind: 'type-name'; question: string; name: string; typed: string; nameError?: string; blocked?: boolean };

/**
 * The confirmation, in proportion to the danger: "Proceed? y/N", or the name typed letter by letter
 * (STYLE rule 6). When a blocker stands, there is nothing to confirm: it says so.
 */
export function ConfirmPrompt(props: ConfirmPromptProps) {
  const theme = useTheme();
  if (props.blocked) {
    return (
      <Text bold color={theme.tone('critical')}>
        Cannot run now (see ✗ above). Esc closes; nothing was changed.
      </Text>
    );
  }
  if (props.kind === 'yes-no') {
    return (
      <Text bold color={theme.tone('warning')}>
        {props.question} [y/N]
      </Text>
    );
  }
  return (
    <>
      {props.nameError ? (
        <Text bold color={theme.tone('critical')}>
          {props.nameError}
        </Text>
      ) : null}
      <Text bold color={theme.tone('critical')}>
        {props.question} Type <Text inverse>{props.name}</Text> to confirm, Enter:{' '}
        <Text color={theme.tone('accent')}>{props.typed}</Text>
        <Text inverse> </Text>
      </Text>
    </>
  );
}
