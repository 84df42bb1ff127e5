import type { Key } from 'ink';

/**
 * Every key binding of the cockpit, declared once (gemini-cli's keyBindings, k9s KeyActions, lazygit
 * disabled reasons). The help overlay, the footer hints, the command palette and the README key list are
 * generated from KEYMAP; components never compare raw input themselves, they get a CommandId from
 * matchKey().
 */

export type CommandId =
  | 'cursor.up'
  | 'cursor.down'
  | 'cursor.pageUp'
  | 'cursor.pageDown'
  | 'cursor.top'
  | 'cursor.bottom'
  | 'focus.next'
  | 'focus.prev'
  | 'view.detail'
  | 'view.back'
  | 'view.help'
  | 'view.filter'
  | 'view.palette'
  | 'input.accept'
  | 'input.cancel'
  | 'input.deleteChar'
  | 'op.switchover'
  | 'op.failover'
  | 'op.reinit'
  | 'op.restart'
  | 'op.reload'
  | 'op.pause'
  | 'op.backup'
  | 'op.pitr'
  | 'op.drill'
  | 'export.timeline'
  | 'modal.preview'
  | 'modal.confirm'
  | 'modal.decline'
  | 'modal.accept'
  | 'modal.cancel'
  | 'modal.abort'
  | 'app.quit';

export type CommandCategory = 'Navigation' | 'View' | 'Text input' | 'Operations' | 'Operation dialog' | 'Export' | 'Application';

/**
 * Where a binding applies. `global`: anywhere, also while typing (only non-printable keys such as ctrl+c).
 * `list`: moving in the focused pane. `cockpit`: the main screen when not typing. `members`: acts on the
 * selected member. `input`: while typing in the filter or the command palette. `modal`: while an operation's
 * dialog is open (picker, summary, confirmation, progress, result).
 */
export type CommandScope = 'global' | 'list' | 'cockpit' | 'members' | 'input' | 'modal';

/** The normalized name of a key: a printable character ('j', 'R', '?'), or 'up', 'enter', 'shift+tab', 'ctrl+c'… */
export type KeyName = string;

export type PaneId = 'members' | 'lag' | 'timeline' | 'archive' | 'backups';

/** What a disabled-reason check may look at. Built by the app from its state; pure data. */
export interface KeymapContext {
  /** Watch mode, or the operator asked for read-only: every dangerous command is refused. */
  readOnly: boolean;
  /** False until the operations layer exists in this build. */
  operationsAvailable: boolean;
  focusedPane: PaneId;
  selectedMember?: string;
  /** Reserved for the operations layer: a pure precondition check ("switchover running", "db3 lags 12 MB"). */
  precondition?: (command: CommandId) => string | undefined;
  /** True when the cockpit can write a timeline export (the event log and audit log are known). */
  timelineExportAvailable?: boolean;
}

export interface CommandBinding {
  id: CommandId;
  keys: readonly KeyName[];
  description: string;
  /** A one-word label for the footer; commands without one are not hinted there. */
  footerLabel?: string;
  category: CommandCategory;
  scope: CommandScope;
  /** Changes the cluster: refused in read-only mode, and confirmed before it runs. */
  dangerous: boolean;
  /** How a dangerous command is confirmed: by typing the member or cluster name (STYLE rule 6), or y/n. */
  confirm?: 'type-name' | 'yes-no';
  /** Why the command cannot run now, or undefined when it can. */
  disabledReason?: (context: KeymapContext) => string | undefined;
}

export const READ_ONLY_REASON = 'read-only (watch mode)';
export const OPERATIONS_NOT_AVAILABLE_REASON = 'not available yet: operations come with the operations layer';
export const EXPORT_NOT_AVAILABLE_REASON = 'no event log here (pgcockpit timeline)';
export const SELECT_MEMBER_REASON = 'select a member first (Members pane)';

/** Shared check for everything that changes the cluster. Read-only comes first: it holds even once operations exist. */
function operationReason(id: CommandId, needsMember: boolean) {
  return (context: KeymapContext): string | undefined => {
    if (context.readOnly) return READ_ONLY_REASON;
    if (!context.operationsAvailable) return OPERATIONS_NOT_AVAILABLE_REASON;
    if (needsMember && !context.selectedMember) return SELECT_MEMBER_REASON;
    return context.precondition?.(id);
  };
}

function exportReason(context: KeymapContext): string | undefined {
  return context.timelineExportAvailable ? undefined : EXPORT_NOT_AVAILABLE_REASON;
}

function detailReason(context: KeymapContext): string | undefined {
  if (context.focusedPane !== 'members' && context.focusedPane !== 'lag') return 'member detail opens from the Members or Lag pane';
  if (!context.selectedMember) return 'no member selected';
  return undefined;
}

export const KEYMAP: readonly CommandBinding[] = [
  // Navigation
  { id: 'cursor.up', keys: ['k', 'up'], description: 'Move up in the focused pane', footerLabel: 'move', category: 'Navigation', scope: 'list', dangerous: false },
  { id: 'cursor.down', keys: ['j', 'down'], description: 'Move down in the focused pane', category: 'Navigation', scope: 'list', dangerous: false },
  { id: 'cursor.pageUp', keys: ['pageup', 'ctrl+u'], description: 'Page up', category: 'Navigation', scope: 'list', dangerous: false },
  { id: 'cursor.pageDown', keys: ['pagedown', 'ctrl+d'], description: 'Page down', category: 'Navigation', scope: 'list', dangerous: false },
  { id: 'cursor.top', keys: ['g', 'home'], description: 'Go to the first row', category: 'Navigation', scope: 'list', dangerous: false },
  { id: 'cursor.bottom', keys: ['G', 'end'], description: 'Go to the last row', category: 'Navigation', scope: 'list', dangerous: false },
  { id: 'focus.next', keys: ['tab'], description: 'Next pane', footerLabel: 'pane', category: 'Navigation', scope: 'cockpit', dangerous: false },
  { id: 'focus.prev', keys: ['shift+tab'], description: 'Previous pane', category: 'Navigation', scope: 'cockpit', dangerous: false },
  { id: 'view.detail', keys: ['enter'], description: 'Open the selected member’s detail', footerLabel: 'detail', category: 'Navigation', scope: 'members', dangerous: false, disabledReason: detailReason },
  { id: 'view.back', keys: ['escape'], description: 'Back: close the detail, overlay or filter', footerLabel: 'back', category: 'Navigation', scope: 'cockpit', dangerous: false },
  // View
  { id: 'view.help', keys: ['?'], description: 'Help: every key, and why a key does nothing now', footerLabel: 'help', category: 'View', scope: 'cockpit', dangerous: false },
  { id: 'view.filter', keys: ['/'], description: 'Filter members and events', footerLabel: 'filter', category: 'View', scope: 'cockpit', dangerous: false },
  { id: 'view.palette', keys: [':'], description: 'Command palette', footerLabel: 'command', category: 'View', scope: 'cockpit', dangerous: false },
  // Text input (filter and palette)
  { id: 'input.accept', keys: ['enter'], description: 'Apply the filter / run the chosen command', category: 'Text input', scope: 'input', dangerous: false },
  { id: 'input.cancel', keys: ['escape'], description: 'Cancel: clear the filter / close the palette', category: 'Text input', scope: 'input', dangerous: false },
  { id: 'input.deleteChar', keys: ['backspace'], description: 'Delete the last character', category: 'Text input', scope: 'input', dangerous: false },
  // Operations
  { id: 'op.switchover', keys: ['s'], description: 'Switchover to a healthy replica', category: 'Operations', scope: 'cockpit', dangerous: true, confirm: 'yes-no', disabledReason: operationReason('op.switchover', false) },
  { id: 'op.failover', keys: ['f'], description: 'Failover (no healthy leader)', category: 'Operations', scope: 'cockpit', dangerous: true, confirm: 'type-name', disabledReason: operationReason('op.failover', false) },
  { id: 'op.reinit', keys: ['i'], description: 'Reinitialize the selected replica', category: 'Operations', scope: 'members', dangerous: true, confirm: 'type-name', disabledReason: operationReason('op.reinit', true) },
  { id: 'op.restart', keys: ['r'], description: 'Restart PostgreSQL on the selected member', category: 'Operations', scope: 'members', dangerous: true, confirm: 'yes-no', disabledReason: operationReason('op.restart', true) },
  { id: 'op.reload', keys: ['R'], description: 'Reload the configuration of the selected member', category: 'Operations', scope: 'members', dangerous: true, confirm: 'yes-no', disabledReason: operationReason('op.reload', true) },
  { id: 'op.pause', keys: ['p'], description: 'Pause / resume automatic failover', category: 'Operations', scope: 'cockpit', dangerous: true, confirm: 'yes-no', disabledReason: operationReason('op.pause', false) },
  { id: 'op.backup', keys: ['b'], description: 'Start a Barman backup', category: 'Operations', scope: 'cockpit', dangerous: true, confirm: 'yes-no', disabledReason: operationReason('op.backup', false) },
  { id: 'op.pitr', keys: ['t'], description: 'Point-in-time recovery from Barman', category: 'Operations', scope: 'cockpit', dangerous: true, confirm: 'type-name', disabledReason: operationReason('op.pitr', false) },
  { id: 'op.drill', keys: ['x'], description: 'Failover drill (kill the leader, measure the takeover)', category: 'Operations', scope: 'cockpit', dangerous: true, confirm: 'type-name', disabledReason: operationReason('op.drill', false) },
  // Export
  { id: 'export.timeline', keys: ['T'], description: 'Export the timeline history and event log', category: 'Export', scope: 'cockpit', dangerous: false, disabledReason: exportReason },
  // Operation dialog (the modal's own keys; the modal shows them as hints)
  { id: 'modal.preview', keys: ['p', 'tab'], description: 'Show / hide the Preview: the exact requests', category: 'Operation dialog', scope: 'modal', dangerous: false },
  { id: 'modal.confirm', keys: ['y'], description: 'Yes: run the operation (y/N confirmations)', category: 'Operation dialog', scope: 'modal', dangerous: false },
  { id: 'modal.decline', keys: ['n'], description: 'No: close without changing anything', category: 'Operation dialog', scope: 'modal', dangerous: false },
  { id: 'modal.accept', keys: ['enter'], description: 'Choose / confirm the typed name / dismiss the result', category: 'Operation dialog', scope: 'modal', dangerous: false },
  { id: 'modal.cancel', keys: ['escape'], description: 'Cancel before the request (nothing changed) / dismiss the result', category: 'Operation dialog', scope: 'modal', dangerous: false },
  { id: 'modal.abort', keys: ['a'], description: 'Abort the running operation', category: 'Operation dialog', scope: 'modal', dangerous: false },
  // Application
  { id: 'app.quit', keys: ['q', 'ctrl+c'], description: 'Quit (restores the terminal)', footerLabel: 'quit', category: 'Application', scope: 'global', dangerous: false },
];

/** Help order: what every operator needs first; operations last, where their shared reason is said once. */
export const CATEGORY_ORDER: readonly CommandCategory[] = ['Navigation', 'View', 'Text input', 'Application', 'Operations', 'Operation dialog', 'Export'];

const BY_ID = new Map<CommandId, CommandBinding>(KEYMAP.map((binding) => [binding.id, binding]));

export function binding(id: CommandId): CommandBinding {
  const found = BY_ID.get(id);
  if (!found) throw new Error(`no binding for command ${id}`);
  return found;
}

/** Why `id` cannot run in `context`, or undefined when it can. */
export function disabledReason(id: CommandId, context: KeymapContext): string | undefined {
  return binding(id).disabledReason?.(context);
}

/**
 * Ink's useInput (input, key) → one normalized key name, or undefined for what we don't bind
 * (a bare modifier, a kitty key release).
 */
export function keyName(input: string, key: Key): KeyName | undefined {
  if (key.eventType === 'release') return undefined;
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  if (key.escape) return 'escape';
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl && input) return `ctrl+${input.toLowerCase()}`;
  if (key.meta && input) return `meta+${input}`;
  if (input.length === 1) return input;
  return undefined;
}

/** True for a key that types a character (the filter and the palette take those as text). */
export function isPrintableKey(name: KeyName): boolean {
  return Array.from(name).length === 1 && name >= ' ';
}

/**
 * Map Ink's (input, key) to the command bound to it among `scopes` (in KEYMAP order), or undefined.
 * The one place that compares keys.
 */
export function matchKey(input: string, key: Key, scopes?: readonly CommandScope[]): CommandId | undefined {
  const name = keyName(input, key);
  if (name === undefined) return undefined;
  return commandForKey(name, scopes);
}

export function commandForKey(name: KeyName, scopes?: readonly CommandScope[]): CommandId | undefined {
  for (const candidate of KEYMAP) {
    if (scopes && !scopes.includes(candidate.scope)) continue;
    if (candidate.keys.includes(name)) return candidate.id;
  }
  return undefined;
}

const KEY_LABELS: Record<string, string> = {
  up: '↑',
  down: '↓',
  left: '←',
  right: '→',
  enter: 'Enter',
  escape: 'Esc',
  tab: 'Tab',
  'shift+tab': 'Shift-Tab',
  backspace: 'Backspace',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  home: 'Home',
  end: 'End',
};

/** How a key is written for an operator: 'ctrl+c' → 'Ctrl-C', 'up' → '↑'. */
export function formatKey(name: KeyName): string {
  const label = KEY_LABELS[name];
  if (label) return label;
  if (name.startsWith('ctrl+')) return `Ctrl-${name.slice(5).toUpperCase()}`;
  if (name.startsWith('meta+')) return `Alt-${name.slice(5)}`;
  return name;
}

export function formatKeys(keys: readonly KeyName[]): string {
  return keys.map(formatKey).join('/');
}

export interface HelpEntry {
  id: CommandId;
  keys: string;
  description: string;
  category: CommandCategory;
  dangerous: boolean;
  disabledReason?: string;
}

/** The help overlay's content: every binding, grouped in CATEGORY_ORDER, with its reason when disabled now. */
export function helpEntries(context: KeymapContext): HelpEntry[] {
  const entries: HelpEntry[] = [];
  for (const category of CATEGORY_ORDER) {
    for (const command of KEYMAP) {
      if (command.category !== category) continue;
      const reason = command.disabledReason?.(context);
      entries.push({
        id: command.id,
        keys: formatKeys(command.keys),
        description: command.description,
        category,
        dangerous: command.dangerous,
        ...(reason === undefined ? {} : { disabledReason: reason }),
      });
    }
  }
  return entries;
}

export interface FooterHint {
  id: CommandId;
  keys: string;
  label: string;
}

/**
 * The footer: commands with a footer label that can run now (disabled ones are left out: the help says
 * why), in KEYMAP order. Read-only mode shows no operation key at all.
 */
export function footerHints(context: KeymapContext, options: { detailOpen?: boolean } = {}): FooterHint[] {
  const hints: FooterHint[] = [];
  for (const command of KEYMAP) {
    if (!command.footerLabel) continue;
    if (command.id === 'view.back' && !options.detailOpen) continue;
    if (command.disabledReason?.(context) !== undefined) continue;
    if (context.readOnly && command.dangerous) continue;
    const keys = command.id === 'cursor.up' ? 'j/k' : formatKey(command.keys[0] ?? '');
    hints.push({ id: command.id, keys, label: command.footerLabel });
  }
  return hints;
}

/** The keys of the operations that exist but cannot run now (for a compact "ops: s f i … (? why)" hint). */
export function disabledOperationKeys(context: KeymapContext): string[] {
  if (context.readOnly) return [];
  return KEYMAP.filter((c) => c.category === 'Operations' && c.disabledReason?.(context) !== undefined).map((c) =>
    formatKeys(c.keys),
  );
}

export interface PaletteItem {
  id: CommandId;
  keys: string;
  description: string;
  disabledReason?: string;
  /** Fuzzy score of the query against the description, id and keys (higher is better). */
  score: number;
}

/** Commands the palette offers: everything an operator can invoke (not text editing, not the palette itself). */
export function paletteCommands(): CommandBinding[] {
  return KEYMAP.filter((c) => c.scope !== 'input' && c.scope !== 'modal' && c.id !== 'view.palette');
}

/**
 * Fuzzy match of `query` against `text` (subsequence, case-insensitive). Higher is better; undefined when
 * the query is not a subsequence. Consecutive runs and word starts score more.
 */
export function fuzzyScore(query: string, text: string): number | undefined {
  const q = query.trim().toLowerCase();
  if (q === '') return 0;
  const t = text.toLowerCase();
  let score = 0;
  let position = -1;
  let run = 0;
  for (const char of q) {
    if (char === ' ') continue;
    const found = t.indexOf(char, position + 1);
    if (found === -1) return undefined;
    run = found === position + 1 ? run + 1 : 0;
    const wordStart = found === 0 || t[found - 1] === ' ' || t[found - 1] === '.' || t[found - 1] === '/';
    score += 1 + run * 2 + (wordStart ? 3 : 0);
    position = found;
  }
  return score - t.length / 100;
}

/** The palette's list for a query: matches on description, id and keys, best first, KEYMAP order on ties. */
export function paletteItems(query: string, context: KeymapContext): PaletteItem[] {
  const items: PaletteItem[] = [];
  for (const command of paletteCommands()) {
    const keys = formatKeys(command.keys);
    const candidates = [command.description, command.id, keys].map((text) => fuzzyScore(query, text));
    const scores = candidates.filter((s): s is number => s !== undefined);
    if (scores.length === 0) continue;
    const reason = command.disabledReason?.(context);
    items.push({
      id: command.id,
      keys,
      description: command.description,
      score: Math.max(...scores),
      ...(reason === undefined ? {} : { disabledReason: reason }),
    });
  }
  return items.sort((a, b) => b.score - a.score);
}
