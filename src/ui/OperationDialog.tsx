import { useMemo } from 'react';
import { CandidatePicker, ChoicePicker } from '../../components/CandidatePicker.js';
import { ConfirmPrompt } from '../../components/ConfirmPrompt.js';
import type { ModalHint } from '../../components/OperationModal.js';
import { OperationModal } from '../../components/OperationModal.js';
import { OperationProgress } from '../../components/OperationProgress.js';
import { OperationResult } from '../../components/OperationResult.js';
import { OperationSummary } from '../../components/OperationSummary.js';
import { OperationPitrPreview } from '../../components/OperationPitrPreview.js';
import type { CommandId } from '../keymap/keymap.js';
import { binding, formatKeys } from '../keymap/keymap.js';
import type { ClusterSnapshot } from '../model/snapshot.js';
import { bestCandidate } from '../ops/checks.js';
import type { OperationRun } from '../ops/runner.js';
import type { OperationPlan } from '../ops/types.js';
import { useCockpitActions } from './cockpit-context.js';
import { useCockpitServices } from './operations-port.js';
import type { OperationModalState } from './cockpit-state.js';
import type { OperationsPort } from './operations-port.js';
import { PitrFormStage, listingView, pitrPreviewOf, resultLines } from './PitrDialog.js';
import { confirmationFor, pendingRestartMembers, pickerOptions, requestFor } from './operations-port.js';

const TITLES: Record<OperationModalState['command'], string> = {
  'op.switchover': 'Switchover',
  'op.failover': 'Failover (emergency: may lose data)',
  'op.reinit': 'Reinit (rebuild the replica from the leader)',
  'op.restart': 'Restart PostgreSQL',
  'op.reload': 'Reload the configuration',
  'op.pause': 'Maintenance mode',
  'op.drill': 'Failover drill (kills the leader)',
  'op.backup': 'Barman backup',
  'op.pitr': 'Point-in-time recovery',
};

function hint(id: CommandId, label: string): ModalHint {
  return { keys: formatKeys(binding(id).keys), label };
}

/** The dialog's keys for a stage, from the keymap. */
export function modalHints(modal: OperationModalState, typing: boolean): ModalHint[] {
  switch (modal.stage) {
    case 'pick':
      return [{ keys: '↑/↓', label: 'choose' }, hint('modal.accept', 'pick'), hint('modal.cancel', 'cancel')];
    case 'pitr':
      return modal.form.step === 'value'
        ? [hint('modal.accept', 'check the target'), { keys: 'Backspace', label: 'erase' }, hint('modal.cancel', 'cancel (nothing changes)')]
        : [{ keys: '↑/↓', label: 'choose' }, hint('modal.accept', 'pick'), hint('modal.cancel', 'cancel (nothing changes)')];
    case 'review':
      return typing
        ? [{ keys: 'Tab', label: 'preview' }, hint('modal.accept', 'confirm the name'), hint('modal.cancel', 'cancel (nothing changes)')]
        : [hint('modal.confirm', 'run'), hint('modal.decline', 'no'), hint('modal.preview', 'preview'), hint('modal.cancel', 'cancel (nothing changes)')];
    case 'running':
      return [hint('modal.abort', 'abort')];
    case 'result':
      return [{ keys: 'Esc/Enter', label: 'dismiss' }];
  }
}

function stageWord(modal: OperationModalState, run: OperationRun | undefined): string {
  switch (modal.stage) {
    case 'pick':
      return modal.command === 'op.restart' ? 'choose what to restart' : 'choose a candidate';
    case 'pitr':
      return { kind: 'choose the target', value: 'type the target', backup: 'choose the backup', mode: 'side restore or rewind' }[modal.form.step];
    case 'review':
      return 'check and confirm';
    case 'running':
      return 'running';
    case 'result':
      return run?.status ?? 'result';
  }
}

export interface OperationDialogProps {
  modal: OperationModalState;
  snapshot: ClusterSnapshot;
  operations: OperationsPort;
  /** The runner's current run (while running). */
  current?: OperationRun;
  now: number;
  width: number;
  height: number;
}

/** Connects the operation's dialog to the runner (checks, plan, live run) and the dialog's actions. */
export function OperationDialog({ modal, snapshot, operations, current, now, width, height }: OperationDialogProps) {
  const actions = useCockpitActions();
  const services = useCockpitServices();
  // The side restores and safety copies: read when a PITR dialog opens, reaches its review or its result (not per frame).
  const listingKey = modal.command === 'op.pitr' ? (modal.stage === 'result' ? modal.run : modal.stage === 'review' ? modal.request : modal.stage) : undefined;
  const listing = useMemo(() => (listingKey !== undefined ? services.listRestores?.() : undefined), [listingKey, services]);
  const title = modal.command === 'op.pause' ? (snapshot.paused ? 'Resume automatic failover' : 'Pause automatic failover (maintenance mode)') : TITLES[modal.command];
  let body;
  let plan: OperationPlan | undefined;
  let typing = false;
  switch (modal.stage) {
    case 'pick': {
      if (modal.command === 'op.restart') {
        const pending = pendingRestartMembers(snapshot);
        const items = [
          ...(modal.member ? [{ value: modal.member, label: `${modal.member} (selected)` }] : []),
          { value: '*pending', label: `every member with a pending restart (${pending.join(', ')})` },
        ];
        body = (
          <ChoicePicker
            prompt="Restart:"
            items={items}
            onSelect={(value) => {
              const request = requestFor('op.restart', snapshot, { member: value });
              if (request) actions.modalReview(request);
            }}
          />
        );
      } else {
        const best = bestCandidate(snapshot);
        body = (
          <CandidatePicker
            options={pickerOptions(snapshot)}
            {...(best === undefined ? {} : { best })}
            onSelect={(candidate) => {
              const request = requestFor(modal.command, snapshot, { candidate });
              if (request) actions.modalReview(request);
            }}
          />
        );
      }
      break;
    }
    case 'pitr':
      body = <PitrFormStage form={modal.form} snapshot={snapshot} now={now} listing={listingView(listing, false)} />;
      break;
    case 'review': {
      plan = operations.plan(modal.request);
      const confirmation = confirmationFor(modal.request, snapshot);
      const blocked = plan.checks.blockers.length > 0;
      typing = confirmation.kind === 'type-name' && !blocked;
      const pitr = pitrPreviewOf(modal.request, snapshot);
      body = (
        <>
          {pitr ? <OperationPitrPreview {...pitr} listing={listingView(listing, pitr.mode === 'rewind')} /> : null}
          <OperationSummary plan={plan} showPreview={modal.showPreview} previewKeys={typing ? 'Tab' : 'p/Tab'} />
          {confirmation.kind === 'type-name' ? (
            <ConfirmPrompt kind="type-name" question="This cannot be undone." name={confirmation.name} typed={modal.typed} blocked={blocked} {...(modal.nameError ? { nameError: modal.nameError } : {})} />
          ) : (
            <ConfirmPrompt kind="yes-no" question={`${plan.summary}?`} blocked={blocked} />
          )}
        </>
      );
      break;
    }
    case 'running':
      body = current ? <OperationProgress run={current} now={now} /> : null;
      break;
    case 'result':
      body = (
        <>
          <OperationResult run={modal.run} details={resultLines(modal.run)} />
          {modal.command === 'op.pitr' ? listingView(listing, modal.run.operation === 'rewind') : null}
        </>
      );
      break;
  }
  const run = modal.stage === 'result' ? modal.run : current;
  const tone = modal.stage === 'result' ? (modal.run.status === 'done' ? 'ok' : modal.run.status === 'refused' || modal.run.status === 'aborted' ? 'warning' : 'critical') : 'accent';
  return (
    <OperationModal title={title} stage={stageWord(modal, run)} tone={tone} hints={modalHints(modal, typing)} width={width} height={height}>
      {body}
    </OperationModal>
  );
}
