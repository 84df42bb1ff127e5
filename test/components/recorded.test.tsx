import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { Header } from '../../components/Header.js';
import { LagPane } from '../../components/LagPane.js';
import { MembersTable } from '../../components/MembersTable.js';
import { deriveSnapshot, emptyReadings } from '../../src/model/derive.js';
import type { ClusterSnapshot } from '../../src/model/snapshot.js';
import { normalizeCluster, patroniClusterSchema } from '../../src/services/patroni.js';
import type { PatroniMemberStatus } from '../../src/services/types.js';
import { buildCockpitView } from '../../src/ui/cockpit-view.js';
import { INITIAL_UI_STATE } from '../../src/ui/cockpit-state.js';
import { formatBytes } from '../../src/ui/format.js';
import { App } from '../../src/ui/App.js';
import { packageRoot } from '../../src/util/package-root.js';
import { fakeContext, FAKE_NOW as READINGS_NOW } from '../model/fake-readings.js';
import { FakeClusterStore } from '../support/fake-store.js';
import { renderInk } from '../support/ink.js';
import type { RecordedSnapshot } from './recorded-snapshots.js';
import { lagMap, loadRecorded } from './recorded-snapshots.js';

/**
 * What an operator reads, on snapshots RECORDED from the lab (test/fixtures/snapshots, by
 * test/fixtures/record-snapshots.ts) and on Patroni 4.x REST payloads run through the real normalizer and
 * derivation. Ages are computed against the recording time.
 */

afterEach(() => cleanup());

function lineOf(frame: string, name: string): string {
  return frame.split('\n').find((line) => new RegExp(`^.?[★✓▲✗·] ${name}\\s`).test(line)) ?? '';
}

function renderRecorded(recorded: RecordedSnapshot, size = { columns: 120, rows: 40 }) {
  const store = new FakeClusterStore(recorded.snapshot, { events: recorded.events, lag: lagMap(recorded) });
  return renderInk(<App store={store} mode="cockpit" readOnly={false} batchMs={0} tickMs={0} clock={() => recorded.recordedAt} />, size);
}

function viewOf(recorded: RecordedSnapshot) {
  return buildCockpitView({
    snapshot: recorded.snapshot,
    events: recorded.events,
    lagHistories: lagMap(recorded),
    ui: INITIAL_UI_STATE,
    config: { mode: 'cockpit', readOnly: false, operationsAvailable: false },
  });
}

describe('recorded from the lab: healthy', () => {
  const recorded = loadRecorded('healthy');
  const { snapshot } = recorded;

  it('shows the leader, every member streaming, no STALE, and the threshold the model judged by', async () => {
    const ui = renderRecorded(recorded);
    const frame = await ui.waitForFrame(`leader ★ ${snapshot.leader}`);
    expect(frame).not.toContain('STALE');
    for (const member of snapshot.members) {
      const row = lineOf(frame, member.name);
      if (member.name === snapshot.leader) expect(row).toMatch(new RegExp(`★ ${member.name}\\s+leader\\s+running`));
      else expect(row).toMatch(new RegExp(`✓ ${member.name}\\s+replica\\s+streaming`));
    }
    expect(frame).toContain(`lag threshold ${formatBytes(snapshot.thresholds.lagBytes)}`);
    expect(frame).toContain(`threshold ${formatBytes(snapshot.thresholds.lagBytes)}`);
    expect(frame).toContain('alerts ✗0 crit');
  });
});

describe('recorded from the lab: a replica stopped', () => {
  const recorded = loadRecorded('replica-stopped');
  const { snapshot } = recorded;
  const stopped = snapshot.alerts.find((a) => a.id.startsWith('unreachable:'))?.member as string;

  it('the stopped replica reads ✗ unreachable with REST down, and the alert is counted critical', async () => {
    expect(stopped).toBeDefined();
    const ui = renderRecorded(recorded);
    const frame = await ui.waitForFrame(`leader ★ ${snapshot.leader}`);
    const row = lineOf(frame, stopped);
    expect(row).toMatch(new RegExp(`✗ ${stopped}\\s+replica\\s+unreachable`));
    expect(row).not.toContain('streaming');
    expect(row).toMatch(/✗\s+✗/);
    expect(frame).toMatch(/alerts ✗[1-9]\d* crit/);
  });
});

describe('recorded from the lab: a replica lagging (replay paused under load)', () => {
  const recorded = loadRecorded('replica-lagging');
  const { snapshot } = recorded;
  const laggingName = snapshot.alerts.find((a) => a.id.startsWith('lag:'))?.member as string;
  const lagging = snapshot.members.find((m) => m.name === laggingName);

  it('the recording really holds a paused replica over the threshold', () => {
    expect(lagging?.replayLagBytes).toBeGreaterThan(snapshot.thresholds.lagBytes);
    expect(lagging?.replayPaused).toBe(true);
    expect(snapshot.thresholds.lagBytes).toBe(1048576);
  });

  it('the members table shows its lag in bytes and seconds, ▲ and "lagging > 1.0 MB"', async () => {
    const view = viewOf(recorded);
    const ui = renderInk(
      <MembersTable members={view.members} leader={snapshot.leader} alerts={snapshot.alerts} thresholdBytes={view.thresholdBytes} focused={false} width={160} height={10} />,
    );
    const row = lineOf(await ui.waitForFrame(laggingName), laggingName);
    expect(row).toMatch(new RegExp(`▲ ${laggingName}`));
    expect(row).toContain(formatBytes(lagging?.replayLagBytes));
    expect(row).toContain('lagging > 1.0 MB');
    expect(row).toContain('replay paused');
  });

  it('the Lag pane shows the current lag against the threshold, ▲ OVER', async () => {
    const view = viewOf(recorded);
    const ui = renderInk(<LagPane series={view.lagSeries} thresholdBytes={view.thresholdBytes} focused={false} width={100} height={6} />);
    const frame = await ui.waitForFrame('OVER');
    const row = frame.split('\n').find((line) => line.includes(laggingName)) ?? '';
    expect(row).toContain(formatBytes(lagging?.replayLagBytes));
    expect(row).toMatch(/\/ 1\.0 MB\s+▲ OVER/);
  });
});

describe('recorded from the lab: PostgreSQL refusing the password', () => {
  const recorded = loadRecorded('postgres-stale');
  const failing = Object.values(recorded.snapshot.sources).filter((f) => f.error !== undefined);

  it('the header marks the failing sources STALE with the error, and still names the leader (Patroni answers)', async () => {
    expect(failing.length).toBeGreaterThan(0);
    const ui = renderInk(<Header snapshot={recorded.snapshot} now={recorded.recordedAt} width={200} maxStaleLines={4} />);
    const frame = await ui.waitForFrame('STALE');
    expect(frame).toContain(`leader ★ ${recorded.snapshot.leader}`);
    expect(frame).toMatch(/STALE postgres:db\d: (data [\w .]+ old|data never read)/);
    expect(frame).toMatch(/password authentication failed|authentication/);
  });

  it('the members read SQL ✗ but REST ✓', async () => {
    const view = viewOf(recorded);
    const ui = renderInk(<MembersTable members={view.members} leader={recorded.snapshot.leader} thresholdBytes={view.thresholdBytes} focused={false} width={120} height={10} />);
    const frame = await ui.waitForFrame('db1');
    for (const member of recorded.snapshot.members) expect(lineOf(frame, member.name)).toMatch(/✓\s+✗/);
  });
});

describe('Patroni 4.x payloads, through the real normalizer and derivation', () => {
  const fixture = (file: string) => JSON.parse(fs.readFileSync(path.join(packageRoot(), 'test', 'fixtures', 'patroni-4', file), 'utf8')) as unknown;
  function derived(file: string): ClusterSnapshot {
    const cluster = normalizeCluster(patroniClusterSchema.parse(fixture(file)), 'http://10.89.0.4:8008');
    // Each member's own REST status answered (what /cluster says of it, as Patroni 4.1 would); no SQL was
    // read, so every member also reads "SQL down" — that is what the cockpit would say.
    const memberStatus: Record<string, PatroniMemberStatus> = Object.fromEntries(
      cluster.members.map((m) => [
        m.name,
        { name: m.name, role: m.role, rawRole: m.rawRole, state: m.state, rawState: m.rawState, timeline: m.timeline, patroniVersion: '4.1.4', pendingRestart: m.pendingRestart, paused: false, tags: m.tags, replication: [] },
      ]),
    );
    const ok = (key: string) => ({ source: 'patroni' as const, key, asOf: READINGS_NOW - 500 });
    const sources = Object.fromEntries(['patroni', ...cluster.members.map((m) => `patroni:${m.name}`)].map((key) => [key, ok(key)]));
    const readings = { ...emptyReadings(), cluster, memberStatus, sources };
    return deriveSnapshot(readings, fakeContext({ cluster: 'demo', scope: 'demo', configured: { haproxy: false, barman: false, archiveLog: false } }));
  }

  it('4.1: the leader as ★, the replica streaming with receive and replay lag', async () => {
    const snapshot = derived('cluster-4.1.json');
    const ui = renderInk(<MembersTable members={snapshot.members} leader={snapshot.leader} thresholdBytes={snapshot.thresholds.lagBytes} focused={false} width={120} height={8} />);
    const frame = await ui.waitForFrame('patroni2');
    // SQL was not read (these are REST payloads only): not read yet is not down — SQL "…", "reading…", no
    // warning; the leader is ★ leader/running.
    expect(lineOf(frame, 'patroni1')).toMatch(/★ patroni1\s+leader\s+running\s+5/);
    expect(lineOf(frame, 'patroni1')).toContain('reading…');
    expect(lineOf(frame, 'patroni1')).not.toContain('SQL down');
    expect(lineOf(frame, 'patroni2')).toMatch(/[✓▲] patroni2\s+replica\s+streaming\s+5 0\/4000060\s+0 B\s+0 B/);
    expect(lineOf(frame, 'patroni2')).toMatch(/✓\s+…/);
    expect(lineOf(frame, 'patroni2')).toContain('clonefrom');
  });

  it('4.1 with lag "unknown": quorum_standby in archive recovery reads "unknown", not 0; pending restart and nofailover shown', async () => {
    const snapshot = derived('cluster-4.1-lag-unknown.json');
    const ui = renderInk(<MembersTable members={snapshot.members} leader={snapshot.leader} thresholdBytes={snapshot.thresholds.lagBytes} focused={false} width={180} height={8} />);
    const frame = await ui.waitForFrame('patroni2');
    const replica = lineOf(frame, 'patroni2');
    expect(replica).toMatch(/▲ patroni2\s+sync/);
    expect(replica).toContain('archive recovery');
    expect(replica).toContain('not streaming');
    expect(replica).toContain('unknown');
    expect(replica).not.toMatch(/\s0 B\s/);
    expect(replica).toContain('nofailover');
    expect(lineOf(frame, 'patroni1')).toContain('pending restart');
  });
});
