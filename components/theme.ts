import { createContext, useContext } from 'react';

/**
 * Semantic tones instead of raw colors, so NO_COLOR is one switch: with colors off every tone is
 * undefined and components still read by their symbols and words (★ leader, ▲ lagging, ✗ broken, STALE).
 * Only the 8 basic ANSI colors: the terminal's palette keeps them readable on dark and light backgrounds.
 */
export type Tone = 'leader' | 'ok' | 'info' | 'warning' | 'critical' | 'accent';

export interface Theme {
  /** False under NO_COLOR: no color at all (bold, inverse and dim stay, they are not color). */
  color: boolean;
  tone(tone: Tone | undefined): string | undefined;
}

const TONE_COLORS: Record<Tone, string> = {
  leader: 'cyan',
  ok: 'green',
  info: 'blue',
  warning: 'yellow',
  critical: 'red',
  accent: 'magenta',
};

export const COLOR_THEME: Theme = {
  color: true,
  tone: (tone) => (tone === undefined ? undefined : TONE_COLORS[tone]),
};

export const NO_COLOR_THEME: Theme = {
  color: false,
  tone: () => undefined,
};

/** https://no-color.org: any non-empty NO_COLOR turns color off. */
export function themeFromEnv(env: Record<string, string | undefined>): Theme {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? NO_COLOR_THEME : COLOR_THEME;
}

export const ThemeContext = createContext<Theme>(COLOR_THEME);

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
