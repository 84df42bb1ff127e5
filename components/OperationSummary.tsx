import { Box, Text } from 'ink';
import type { OperationPlan } from '../src/ops/types.js';
import { useTheme } from './theme.js';

export interface OperationSummaryProps {
  plan: OperationPlan;
  /** The Preview: the exact requests it would make and how the result will be verified. */
  showPreview: boolean;
  /** The keys that show the Preview now (Tab only while a name is typed). */
  previewKeys?: string;
}

function bodyText(body: unknown): string {
  if (body === undefined) return '';
  return ` ${typeof body === 'string' ? body : JSON.stringify(body)}`;
}

/** What will happen: the one-line summary, blockers (✗) and warnings (▲), and the Preview on demand. */
export function OperationSummary({ plan, showPreview, previewKeys = 'p/Tab' }: OperationSummaryProps) {
  const theme = useTheme();
  const { blockers, warnings } = plan.checks;
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        {plan.summary}
      </Text>
      {blockers.map((b, i) => (
        <Text key={`b${i}`} color={theme.tone('critical')} wrap="wrap">
          ✗ {b.message}
        </Text>
      ))}
      {warnings.map((w, i) => (
        <Text key={`w${i}`} color={theme.tone('warning')} wrap="wrap">
          ▲ {w.message}
        </Text>
      ))}
      {blockers.length === 0 && warnings.length === 0 ? <Text color={theme.tone('ok')}>✓ every precondition holds</Text> : null}
      {showPreview ? (
        <Box flexDirection="column">
          <Text bold>Preview: the requests, in order</Text>
          {plan.requests.length === 0 ? <Text dimColor> (no state-changing request)</Text> : null}
          {plan.requests.map((r, i) => (
            <Text key={`r${i}`} wrap="truncate">
              {`  ${i + 1}. ${r.method} ${r.url}${bodyText(r.body)}`}
              <Text dimColor> — {r.purpose}</Text>
            </Text>
          ))}
          {plan.verification.length > 0 ? <Text bold>Verified by</Text> : null}
          {plan.verification.map((v, i) => (
            <Text key={`v${i}`} wrap="truncate" dimColor>
              {`  · ${v}`}
            </Text>
          ))}
        </Box>
      ) : (
        <Text dimColor>Preview hidden ({plan.requests.length} request{plan.requests.length === 1 ? '' : 's'}): {previewKeys} shows it</Text>
      )}
    </Box>
  );
}
