import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** A command's usage text and options; parsed with node:util parseArgs (strict: unknown flags are errors). */
export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** One line per option, in the order shown by --help. */
  optionHelp: Array<[string, string]>;
  allowPositionals?: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedCommand {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseCommand(spec: CommandSpec, argv: string[]): ParsedCommand {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, ...spec.options },
      allowPositionals: spec.allowPositionals ?? false,
      strict: true,
    });
    return { values: parsed.values as ParsedCommand['values'], positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError(`${spec.name}: ${(error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')}\n\n${helpText(spec)}`);
  }
}

export function helpText(spec: CommandSpec): string {
  const width = Math.max(...spec.optionHelp.map(([flag]) => flag.length), 10);
  const lines = [`${spec.summary}`, '', `Usage: ${spec.usage}`];
  if (spec.optionHelp.length) {
    lines.push('', 'Options:');
    for (const [flag, text] of [...spec.optionHelp, ['-h, --help', 'show this help'] as [string, string]]) {
      lines.push(`  ${flag.padEnd(width)}  ${text}`);
    }
  }
  return lines.join('\n');
}

/** Where a command writes: stdout/stderr in the CLI, buffers in tests. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    env: process.env,
  };
}
