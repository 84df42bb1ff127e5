import type { ClusterSnapshot } from '../model/snapshot.js';
import type { OperationRequest } from '../ops/operations.js';
import type { PitrParams } from '../ops/pitr.js';
import type { PitrTargetInput, RecoveryWindowInfo } from '../ops/pitr-target.js';
import { catalogFromView, describeTarget, describeWindow, doneBackups, formatBoth, parseTarget, recoveryWindowOf, selectBackup } from '../ops/pitr-target.js';
import type { BarmanBackup } from '../services/types.js';
import { commandForKey, isPrintableKey } from '../keymap/keymap.js';
import type { CockpitActions } from './cockpit-context.js';
import type { OperationsPort } from './operations-port.js';

/**
 * The PITR dialog's form, before the review: the kind of target (time with its zone, LSN, transaction id,
 * restore point, end of backup), the target typed, the backup (automatic: the newest that ends before the
 * target), and side restore (the default) or cluster rewind. Pure state and transitions; the one check
 * is the runner's (`operations.check`), so a refused target says the runner's reason and the window, and
 * nothing runs.
 */

export type PitrTargetKind = 'time' | 'lsn' | 'xid' | 'name' | 'end-of-backup';
export type PitrMode = 'side' | 'rewind';

export interface PitrForm {
  step: 'kind' | 'value' | 'backup' | 'mode';
  kind: PitrTargetKind;
  value: string;
  /** The backup chosen; undefined: automatic. */
  backupId?: string;
  /** Why the last target typed was refused (the runner's reasons); cleared by typing. */
  refusal?: string[];
}

export const PITR_KINDS: ReadonlyArray<{ kind: PitrTargetKind; label: string; example: string }> = [
  { kind: 'time', label: 'a time, with its time zone', example: 'e.g. 2026-11-21T22:00:00+01:00 or 2026-11-21 21:00:00Z (no zone: local time)' },
  { kind: 'lsn', label: 'an LSN', example: 'e.g. 0/3000060' },
  { kind: 'xid', label: 'a transaction id', example: 'a whole number ≥ 3' },
  { kind: 'name', label: 'a restore point name', example: 'made with pg_create_restore_point()' },
  { kind: 'end-of-backup', label: 'the end of a backup (its first consistent point)', example: '' },
];

export const INITIAL_PITR_FORM: PitrForm = { step: 'kind', kind: 'time', value: '' };

export function targetInput(form: Pick<PitrForm, 'kind' | 'value'>): PitrTargetInput {
  switch (form.kind) {
    case 'time':
      return { toTime: form.value };
    case 'lsn':
      return { toLsn: form.value };
    case 'xid':
      return { toXid: form.value };
    case 'name':
      return { toName: form.value };
    case 'end-of-backup':
      return { endOfBackup: true };
  }
}

export function pitrParams(form: PitrForm): PitrParams {
  return { target: targetInput(form), ...(form.backupId !== undefined ? { backupId: form.backupId } : {}) };
}

export function pitrRequest(form: PitrForm, mode: PitrMode): OperationRequest {
  return mode === 'rewind' ? { operation: 'rewind', params: pitrParams(form) } : { operation: 'pitr', params: pitrParams(form) };
}

/** What the form shows under the target as it is typed: the parsed target (a time in UTC and local), or why not yet. */
export function targetEcho(form: Pick<PitrForm, 'kind' | 'value'>): { ok: boolean; text: string } {
  if (form.kind !== 'end-of-backup' && form.value.trim() === '') return { ok: false, text: 'type the target' };
  const parsed = parseTarget(targetInput(form));
  return parsed.ok ? { ok: true, text: describeTarget(parsed.target) } : { ok: false, text: parsed.reason.message };
}

/** The recovery window from the snapshot's view of Barman. */
export function snapshotWindow(snapshot: ClusterSnapshot): RecoveryWindowInfo | undefined {
  return recoveryWindowOf(catalogFromView(snapshot.backups));
}

export function windowText(snapshot: ClusterSnapshot): string {
  return describeWindow(snapshotWindow(snapshot));
}

/** The backups a target can take (DONE, newest first), and the one the automatic choice picks. */
export function backupChoices(form: PitrForm, snapshot: ClusterSnapshot): { automatic?: BarmanBackup; done: BarmanBackup[] } {
  const parsed = parseTarget(targetInput(form));
  const automatic = parsed.ok ? selectBackup(parsed.target, snapshot.backups.backups) : undefined;
  return { ...(automatic ? { automatic } : {}), done: [...doneBackups(snapshot.backups.backups)].reverse() };
}

export function backupLabel(backup: BarmanBackup): string {
  const end = backup.endTime ? Date.parse(backup.endTime) : undefined;
  return `${backup.id}  ended ${end !== undefined && !Number.isNaN(end) ? formatBoth(end) : '?'}${backup.timeline !== undefined ? `  timeline ${backup.timeline}` : ''}`;
}

/**
 * Enter on the typed target: the runner's check of a side restore to it (the target parsed and placed
 * in the recovery window, Barman configured, no operation running). Refused: the reasons stay in the
 * form and nothing moves on; else the backup step.
 */
export function acceptTarget(form: PitrForm, operations: OperationsPort): PitrForm {
  const { refusal: _previous, ...rest } = form;
  let blockers: string[];
  try {
    blockers = operations.check(pitrRequest(form, 'side')).blockers.map((b) => b.message);
  } catch (error) {
    blockers = [(error as Error).message];
  }
  return blockers.length ? { ...rest, refusal: blockers } : { ...rest, step: 'backup' };
}

/** The kind chosen: end of backup needs no value, the others are typed next. */
export function chooseKind(form: PitrForm, kind: PitrTargetKind): PitrForm {
  const { refusal: _refusal, ...rest } = form;
  return { ...rest, kind, value: '', step: kind === 'end-of-backup' ? 'backup' : 'value' };
}

export function chooseBackup(form: PitrForm, backupId: string | undefined): PitrForm {
  const { backupId: _previous, ...rest } = form;
  return { ...rest, ...(backupId === undefined ? {} : { backupId }), step: 'mode' };
}

/** Text typed into the target (a key, or a paste arriving as one chunk). */
export function typeTarget(form: PitrForm, text: string): PitrForm {
  const { refusal: _refusal, ...rest } = form;
  return { ...rest, value: form.value + text };
}

export function eraseTarget(form: PitrForm): PitrForm {
  const { refusal: _refusal, ...rest } = form;
  return { ...rest, value: Array.from(form.value).slice(0, -1).join('') };
}

/**
 * Keys of the form. The pickers (kind, backup, mode) take ↑/↓/Enter themselves (ink-select-input); here:
 * Esc cancels (nothing changed), and on the target's step the typing, Backspace, and Enter to check it.
 */
export function handlePitrKey(name: string, form: PitrForm, actions: CockpitActions, operations: OperationsPort): void {
  const id = commandForKey(name, ['modal']);
  if (id === 'modal.cancel') return actions.modalClose();
  if (form.step !== 'value') return;
  if (isPrintableKey(name)) return actions.modalPitr((current) => typeTarget(current, name));
  if (name === 'backspace') return actions.modalPitr(eraseTarget);
  if (id === 'modal.accept') return actions.modalPitr((current) => acceptTarget(current, operations));
}
