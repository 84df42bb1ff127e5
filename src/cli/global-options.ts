import { UsageError } from './args.js';

/** Options every command takes, before or after the command name: `pgcockpit --read-only status`. */
export interface GlobalOptions {
  config?: string;
  cluster?: string;
  readOnly: boolean;
}

const WITH_VALUE = new Set(['--config', '--cluster']);

export const GLOBAL_OPTION_HELP: Array<[string, string]> = [
  ['--config FILE', 'config file (default: $PGCOCKPIT_CONFIG, ~/.config/pgcockpit/config.yaml, else the native lab)'],
  ['--cluster NAME', 'which cluster of the config (default: the first)'],
  ['--read-only', 'refuse every operation (the wallboard mode)'],
];

/** Take the global options out of argv, wherever they stand; the rest goes to the command. */
export function extractGlobalOptions(argv: string[]): { globals: GlobalOptions; rest: string[] } {
  const globals: GlobalOptions = { readOnly: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--read-only') {
      globals.readOnly = true;
      continue;
    }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (WITH_VALUE.has(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) {
        throw new UsageError(`${flag} needs a value`);
      }
      if (flag === '--config') globals.config = value;
      else globals.cluster = value;
      continue;
    }
    rest.push(arg);
  }
  return { globals, rest };
}
