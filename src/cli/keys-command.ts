import fs from 'node:fs';
import type { CommandSpec, Io } from './args.js';
import { helpText, parseCommand } from './args.js';
import { keysMarkdown, withKeysDoc } from '../keymap/keys-doc.js';

export const KEYS_SPEC: CommandSpec = {
  name: 'keys',
  summary: "The cockpit's keys as a Markdown table, generated from the keymap (the README's key list).",
  usage: 'pgcockpit keys [--update-readme FILE]',
  options: { 'update-readme': { type: 'string' } },
  optionHelp: [['--update-readme FILE', 'replace the table between the keys markers of FILE instead of printing']],
};

/** `pgcockpit keys`: print the key table, or rewrite it in place in a README. */
export function keysCommand(argv: string[], io: Io): number {
  const { values } = parseCommand(KEYS_SPEC, argv);
  if (values.help) {
    io.out(helpText(KEYS_SPEC));
    return 0;
  }
  const file = values['update-readme'];
  if (typeof file === 'string') {
    const before = fs.readFileSync(file, 'utf8');
    const after = withKeysDoc(before);
    if (after !== before) fs.writeFileSync(file, after);
    io.out(after === before ? `${file}: key table already up to date` : `${file}: key table updated`);
    return 0;
  }
  io.out(keysMarkdown());
  return 0;
}
