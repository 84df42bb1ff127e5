import type { ReactNode } from 'react';
import type { ChoiceItem } from '../../components/CandidatePicker.js';
import { OperationPitrForm } from '../../components/OperationPitrForm.js';
import type { OperationPitrPreviewProps } from '../../components/OperationPitrPreview.js';
import { OperationRestores } from '../../components/OperationRestores.js';
import type { ClusterSnapshot } from '../model/snapshot.js';
import type { OperationRequest } from '../ops/operations.js';
import type { RestoreListing } from '../ops/pitr.js';
import { pitrResultLines } from '../ops/pitr.js';
import { describeTarget, formatBoth, parseTarget, selectBackup } from '../ops/pitr-target.js';
import type { OperationRun } from '../ops/runner.js';
import { restoreUri } from '../services/restore.js';
import { useCockpitActions } from './cockpit-context.js';
import type { PitrForm, PitrMode } from './pitr-form.js';
import { PITR_KINDS, backupChoices, backupLabel, chooseBackup, chooseKind, pitrRequest, targetEcho, windowText } from './pitr-form.js';

/**
 * The PITR dialog's pieces: the form's steps connected to the dialog's actions, the review's preview of
 * the validated target, the side restores' listing and a result's connection lines.
 */

const AUTOMATIC = '*auto';

const MODES: readonly ChoiceItem[] = [
  { value: 'side', label: 'side restore on a free port (default: nothing in the cluster changes)' },
  { value: 'rewind', label: 'cluster rewind: take the whole cluster back (destructive; type the cluster name)' },
];

export function PitrFormStage({ form, snapshot, now, listing }: { form: PitrForm; snapshot: ClusterSnapshot; now: number; listing?: ReactNode }) {
  const actions = useCockpitActions();
  const kind = PITR_KINDS.find((k) => k.kind === form.kind) ?? PITR_KINDS[0];
  const choices = form.step === 'backup' ? backupChoices(form, snapshot) : { done: [] };
  const backups: ChoiceItem[] = [
    { value: AUTOMATIC, label: `automatic: ${choices.automatic?.id ?? 'none'} (the newest DONE backup that ends before the target)` },
    ...choices.done.map((b) => ({ value: b.id, label: backupLabel(b) })),
  ];
  return (
    <OperationPitrForm
      step={form.step}
      kinds={PITR_KINDS.map((k) => ({ value: k.kind, label: k.label }))}
      kindLabel={kind?.label ?? form.kind}
      example={kind?.example ?? ''}
      value={form.value}
      echo={targetEcho(form)}
      nowText={formatBoth(now)}
      windowText={windowText(snapshot)}
      {...(form.refusal ? { refusal: form.refusal } : {})}
      backups={backups}
      modes={MODES}
      onKind={(value) => actions.modalPitr((current) => chooseKind(current, value as PitrForm['kind']))}
      onBackup={(value) => actions.modalPitr((current) => chooseBackup(current, value === AUTOMATIC ? undefined : value))}
      onMode={(value) => actions.modalReview(pitrRequest(form, value as PitrMode))}
      {...(listing ? { listing } : {})}
    />
  );
}

/** The review's preview of a PITR request, or undefined for another operation. */
export function pitrPreviewOf(request: OperationRequest, snapshot: ClusterSnapshot): Omit<OperationPitrPreviewProps, 'listing'> | undefined {
  if (request.operation !== 'pitr' && request.operation !== 'rewind') return undefined;
  const parsed = parseTarget(request.params.target);
  const automatic = parsed.ok ? selectBackup(parsed.target, snapshot.backups.backups) : undefined;
  const backup = request.params.backupId !== undefined ? `${request.params.backupId} (chosen)` : `${automatic?.id ?? 'none'} (automatic: the newest DONE backup that ends before the target)`;
  return {
    mode: request.operation === 'rewind' ? 'rewind' : 'side',
    target: parsed.ok ? describeTarget(parsed.target) : parsed.reason.message,
    backup,
    windowText: windowText(snapshot),
    members: snapshot.members.map((m) => m.name),
    cluster: snapshot.cluster,
  };
}

/** The side restores and safety copies, as listed in the PITR dialog. */
export function listingView(listing: RestoreListing | undefined, showSafetyCopies: boolean): ReactNode {
  if (!listing) return null;
  const rows = listing.restores.map((r) => ({ id: r.id, status: r.status, uri: restoreUri(r), backupId: r.backupId, target: r.target }));
  return <OperationRestores restores={rows} safetyCopies={listing.safetyCopies} showSafetyCopies={showSafetyCopies} {...(listing.error ? { error: listing.error } : {})} />;
}

/** Lines under a result: how to reach a side restore, a rewind's safety copies. */
export function resultLines(run: OperationRun): string[] {
  return pitrResultLines(run.result?.details ?? {});
}
