import { backupOperation } from './backup.js';
import type { BackupParams } from './backup.js';
import { drillOperation } from './drill.js';
import type { DrillParams } from './drill.js';
import { failoverOperation } from './failover.js';
import type { FailoverParams } from './failover.js';
import { pauseOperation, resumeOperation } from './pause.js';
import type { PauseParams } from './pause.js';
import { pitrOperation, rewindOperation } from './pitr.js';
import type { PitrParams } from './pitr.js';
import { reinitOperation } from './reinit.js';
import type { ReinitParams } from './reinit.js';
import { reloadOperation } from './reload.js';
import type { ReloadParams } from './reload.js';
import { restartOperation } from './restart.js';
import type { RestartParams } from './restart.js';
import { switchoverOperation } from './switchover.js';
import type { SwitchoverParams } from './switchover.js';
import type { OperationDefinition, OperationName } from './types.js';

/** Every operation by name, with its parameters' type: what the runner, the CLI and the modals dispatch on. */
export interface OperationParams {
  switchover: SwitchoverParams;
  failover: FailoverParams;
  reinit: ReinitParams;
  restart: RestartParams;
  reload: ReloadParams;
  pause: PauseParams;
  resume: PauseParams;
  drill: DrillParams;
  backup: BackupParams;
  pitr: PitrParams;
  rewind: PitrParams;
}

/** One request to the runner: an operation and its parameters. */
export type OperationRequest = { [K in OperationName]: { operation: K; params: OperationParams[K] } }[OperationName];

export const OPERATIONS: { [K in OperationName]: OperationDefinition<OperationParams[K]> } = {
  switchover: switchoverOperation,
  failover: failoverOperation,
  reinit: reinitOperation,
  restart: restartOperation,
  reload: reloadOperation,
  pause: pauseOperation,
  resume: resumeOperation,
  drill: drillOperation,
  backup: backupOperation,
  pitr: pitrOperation,
  rewind: rewindOperation,
};

/** The definition of a request's operation (typed loosely: params travel with it). */
export function definitionOf(request: OperationRequest): OperationDefinition<OperationRequest['params']> {
  return OPERATIONS[request.operation] as OperationDefinition<OperationRequest['params']>;
}
