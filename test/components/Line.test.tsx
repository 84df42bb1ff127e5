import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { Box } from 'ink';
import { Line, layoutLine } from '../../components/Line.js';
import { NO_COLOR_THEME } from '../../components/theme.js';
import { renderInk } from '../support/ink.js';

afterEach(() => cleanup());

describe('Line: one styled line, measured by its known width', () => {
  it('cuts to the width with …, counting ★ ✓ ▁ as one column each', () => {
    expect(layoutLine([{ text: '★ db1 ' }, { text: '▁▂▃▄' }], 20, NO_COLOR_THEME)).toEqual({ text: '★ db1 ▁▂▃▄', columns: 10 });
    expect(layoutLine([{ text: '★ db1 ' }, { text: '▁▂▃▄▅▆' }], 8, NO_COLOR_THEME)).toEqual({ text: '★ db1 ▁…', columns: 8 });
    expect(layoutLine([{ text: 'abc' }, { text: 'def' }], 3, NO_COLOR_THEME)).toEqual({ text: 'abc', columns: 3 });
    expect(layoutLine([{ text: 'abcd' }, { text: 'ef' }], 3, NO_COLOR_THEME)).toEqual({ text: 'ab…', columns: 3 });
  });

  it('wide characters (CJK) count two columns, as the terminal draws them', () => {
    expect(layoutLine([{ text: '東京db' }], 10, NO_COLOR_THEME).columns).toBe(6);
  });

  it('draws in place of its stand-in, side by side with other boxes', async () => {
    const ui = renderInk(
      <Box flexDirection="column" width={30}>
        <Line spans={[{ text: '▶ Members', bold: true }, { text: ' 3 · threshold', dim: true }]} width={30} />
        <Line spans={[{ text: '✓ db2 ' }, { text: '▁▂▃█', tone: 'ok' }, { text: ' 12 kB' }]} width={12} />
      </Box>,
    );
    await ui.waitForFrame('▶ Members 3 · threshold');
    expect(ui.frame()).toContain('✓ db2 ▁▂▃█ …');
  });
});
