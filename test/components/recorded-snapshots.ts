import fs from 'node:fs';
import path from 'node:path';
import type { ClusterEvent, ClusterSnapshot } from '../../src/model/snapshot.js';
import type { LagSample } from '../../src/model/store.js';
import { packageRoot } from '../../src/util/package-root.js';

/**
 * Snapshots RECORDED from the native lab by test/fixtures/record-snapshots.ts (see
 * test/fixtures/snapshots/README.md): what the live model built, with its event log and lag history.
 * Ages in a test are computed against `recordedAt`, so they read as they did then.
 */
export interface RecordedSnapshot {
  scene: string;
  recordedAt: number;
  recordedBy: string;
  lab: { portBase: number; members: string[] };
  snapshot: ClusterSnapshot;
  events: ClusterEvent[];
  lagHistory: Record<string, LagSample[]>;
}

export type RecordedScene = 'healthy' | 'replica-stopped' | 'replica-lagging' | 'postgres-stale';

export function loadRecorded(scene: RecordedScene): RecordedSnapshot {
  const file = path.join(packageRoot(), 'test', 'fixtures', 'snapshots', `${scene}.json`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as RecordedSnapshot;
}

export function lagMap(recorded: RecordedSnapshot): Map<string, readonly LagSample[]> {
  return new Map(Object.entries(recorded.lagHistory));
}
