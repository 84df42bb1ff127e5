import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterEvent, ClusterSnapshot } from '../../src/model/snapshot.js';
import type { ClusterStore } from '../../src/model/store.js';
import { AuditLog, clusterSecrets, readAuditLog } from '../../src/ops/audit.js';
import type { OpsContext, OpsPatroni } from '../../src/ops/context.js';
import { DEFAULT_TIMEOUTS } from '../../src/ops/context.js';
import type { OperationRequest } from '../../src/ops/operations.js';
import { OperationRunner } from '../../src/ops/runner.js';
import type { OperationEvent } from '../../src/ops/types.js';
import type { PatroniActionResult } from '../../src/services/types.js';
import { ServiceError } from '../../src/services/types.js';
import { fakeCluster, fakeHealthySnapshot } from './fake-snapshots.js';

/**
 * The runner on a FAKE context: a fake store holding a fake snapshot and a fake Patroni that records the
 * state-changing calls it gets (and can be held, to keep an operation running). No cluster is touched.
 */

interface FakeWorld {
  context: OpsContext;
  calls: string[];
  events: ClusterEvent[];
  /** Resolve the held POST /switchover. */
  releaseSwitchover: (answer?: PatroniActionResult) => void;
  failSwitchover: (error: Error) => void;
}

function fakeWorld(options: { snapshot?: ClusterSnapshot; holdSwitchover?: boolean; env?: NodeJS.ProcessEnv } = {}): FakeWorld {
  const snapshot = options.snapshot ?? fakeHealthySnapshot();
  const events: ClusterEvent[] = [];
  const calls: string[] = [];
  const store: ClusterStore = {
    getSnapshot: () => snapshot,
    subscribe: () => () => undefined,
    getEvents: () => events,
    getLagHistory: () => [],
    refresh: () => undefined,
    recordEvent: (event) => events.push(event),
  };
  let release: (answer?: PatroniActionResult) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const notImplemented = (what: string) => () => Promise.reject(new Error(`the fake has no ${what}`));
  const patroni: OpsPatroni = {
    getCluster: notImplemented('getCluster'),
    getMemberStatus: notImplemented('getMemberStatus'),
    switchover: (request) => {
      calls.push(`POST /switchover ${request.leader} → ${request.candidate ?? '?'}`);
      if (!options.holdSwitchover) return Promise.reject(new Error('the fake switchover fails'));
      return new Promise((resolve, reject) => {
        release = (answer) => resolve(answer ?? { endpoint: 'fake', httpStatus: 200, message: 'ok', scheduled: false });
        fail = reject;
      });
    },
    cancelScheduledSwitchover: notImplemented('cancel'),
    failover: notImplemented('failover'),
    restart: notImplemented('restart'),
    reinit: notImplemented('reinit'),
    reload: notImplemented('reload'),
    patchConfig: (patch) => {
      calls.push(`PATCH /config ${JSON.stringify(patch)}`);
      return Promise.reject(new ServiceError('patroni', 'auth', 'Patroni REST http://127.0.0.1:8001 refused PATCH /config (401 unauthorized: check patroni.auth in the config)'));
    },
  };
  const cluster = fakeCluster({ postgres: { user: 'postgres', database: 'postgres', passwordEnv: 'FAKE_PG_PASSWORD', timeoutMs: 3000 } });
  const context: OpsContext = {
    cluster,
    store,
    patroni,
    readLeaderKey: () => Promise.resolve('db1'),
    watchDcs: () => () => Promise.resolve(),
    memberQuery: () => Promise.resolve([]),
    timeouts: { ...DEFAULT_TIMEOUTS, leaderMoveMs: 2000 },
    now: Date.now,
    close: () => Promise.resolve(),
  };
  return { context, calls, events, releaseSwitchover: (a) => release(a), failSwitchover: (e) => fail(e) };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgcockpit-runner-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function runnerFor(world: FakeWorld, options: { readOnly?: boolean; secrets?: string[] } = {}): OperationRunner {
  return new OperationRunner({
    context: world.context,
    readOnly: options.readOnly ?? false,
    audit: new AuditLog(path.join(dir, 'audit.log'), options.secrets ?? []),
    lockDir: dir,
    identity: { user: 'alice', sshClient: '203.0.113.7', host: 'ops1', pid: process.pid },
  });
}

describe('OperationRunner (FAKE context)', () => {
  it('refuses everything in read-only mode, makes no request, and audits the refusal', async () => {
    const world = fakeWorld();
    const runner = runnerFor(world, { readOnly: true });
    const requests: OperationRequest[] = [
      { operation: 'switchover', params: { candidate: 'db2' } },
      { operation: 'pause', params: {} },
      { operation: 'reinit', params: { member: 'db2' } },
    ];
    for (const request of requests) {
      const run = await runner.run(request);
      expect(run.status).toBe('refused');
      expect(run.reasons?.map((r) => r.code)).toEqual(['read-only']);
    }
    expect(world.calls).toEqual([]);
    const audit = readAuditLog(path.join(dir, 'audit.log'));
    expect(audit.map((r) => [r.event, r.operation])).toEqual([
      ['refused', 'switchover'],
      ['refused', 'pause'],
      ['refused', 'reinit'],
    ]);
    expect(audit[0]).toMatchObject({ user: 'alice', sshClient: '203.0.113.7', cluster: 'fake', params: { candidate: 'db2' }, readOnly: true });
    expect(runner.check({ operation: 'switchover', params: { candidate: 'db2' } }).blockers.map((b) => b.code)).toContain('read-only');
  });

  it('refuses a second operation while one runs (same runner, and another runner on the same cluster)', async () => {
    const world = fakeWorld({ holdSwitchover: true });
    const runner = runnerFor(world);
    const other = runnerFor(fakeWorld());
    let requestStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (requestStarted = resolve));
    const first = runner.run({ operation: 'switchover', params: { candidate: 'db2' } }, {
      onEvent: (event) => {
        if (event.type === 'step' && event.id === 'request' && event.status === 'started') requestStarted();
      },
    });
    await started;
    expect(runner.getState().current?.operation).toBe('switchover');
    const second = await runner.run({ operation: 'pause', params: {} });
    expect(second.status).toBe('refused');
    expect(second.reasons?.[0]?.message).toMatch(/^switchover running since \d\d:\d\d:\d\d/);
    const fromOther = await other.run({ operation: 'restart', params: { member: 'db2' } });
    expect(fromOther.status).toBe('refused');
    expect(fromOther.reasons?.[0]?.message).toMatch(/^switchover running since \d\d:\d\d:\d\d \(alice, pid \d+\)$/);
    expect(other.check({ operation: 'pause', params: {} }).blockers.map((b) => b.code)).toContain('operation-running');
    // Only the first operation's request was made.
    expect(world.calls).toEqual(['POST /switchover db1 → db2']);
    world.failSwitchover(new Error('Patroni went away'));
    const run = await first;
    expect(run.status).toBe('failed');
    await runner.whenIdle();
    expect(runner.getState().current).toBeUndefined();
    expect(runner.getState().last?.status).toBe('failed');
    // The lock is released: the other runner may run now (and is refused only by its own preconditions, if any).
    expect(other.runningOperation()).toBeUndefined();
  });

  it('aborting before the request changes nothing', async () => {
    const world = fakeWorld({ holdSwitchover: true });
    const runner = runnerFor(world);
    const seen: OperationEvent[] = [];
    const run = await runner.run({ operation: 'switchover', params: { candidate: 'db3' } }, {
      onEvent: (event) => {
        seen.push(event);
        if (event.type === 'step' && event.id === 'preflight' && event.status === 'done') runner.abort('operator pressed Esc');
      },
    });
    expect(run.status).toBe('aborted');
    expect(run.requestSent).toBe(false);
    expect(run.error).toBe('operator pressed Esc (before any request: nothing changed)');
    expect(world.calls).toEqual([]);
    expect(seen.filter((e) => e.type === 'step').map((e) => e.type === 'step' && `${e.id}:${e.status}`)).toEqual(['preflight:started', 'preflight:done']);
  });

  it('a 401 from Patroni is a refusal (nothing applied), said as such', async () => {
    const world = fakeWorld();
    const runner = runnerFor(world);
    const run = await runner.run({ operation: 'pause', params: {} });
    expect(run.status).toBe('refused');
    expect(run.reasons?.[0]?.code).toBe('rest-auth');
    expect(run.reasons?.[0]?.message).toMatch(/401 unauthorized/);
    expect(run.steps.find((s) => s.id === 'request')?.status).toBe('failed');
  });

  it('writes the audit log: start, each step, the result and duration; never a secret', async () => {
    const secret = 'S3cr3t-pg-password-xyz';
    const world = fakeWorld({ holdSwitchover: true });
    const runner = runnerFor(world, { secrets: clusterSecrets(world.context.cluster, { FAKE_PG_PASSWORD: secret }) });
    const run = runner.run({ operation: 'switchover', params: { candidate: 'db2' } }, {
      onEvent: (event) => {
        // Patroni answers with an error that (wrongly) carries the secret: it must not reach the audit log.
        if (event.type === 'step' && event.id === 'request' && event.status === 'started') setImmediate(() => world.failSwitchover(new Error(`connection string postgres://postgres:${secret}@db1 refused`)));
      },
    });
    const done = await run;
    expect(done.status).toBe('failed');
    const text = fs.readFileSync(path.join(dir, 'audit.log'), 'utf8');
    expect(text).not.toContain(secret);
    expect(text).toContain('***');
    const records = readAuditLog(path.join(dir, 'audit.log'));
    expect(records.map((r) => r.event)).toEqual(['start', 'step', 'step', 'end']);
    expect(records[0]).toMatchObject({ operation: 'switchover', cluster: 'fake', user: 'alice', sshClient: '203.0.113.7', params: { candidate: 'db2' } });
    expect(records[1]).toMatchObject({ step: { id: 'preflight', status: 'done' } });
    expect(records[2]).toMatchObject({ step: { id: 'request', status: 'failed' } });
    expect(records[3]).toMatchObject({ status: 'failed', requestSent: true });
    expect(typeof records[3]?.durationMs).toBe('number');
    expect(new Set(records.map((r) => r.operationId)).size).toBe(1);
  });

  it("records the operation's events into the store and notifies subscribers", async () => {
    const world = fakeWorld();
    const runner = runnerFor(world);
    let notified = 0;
    const unsubscribe = runner.subscribe(() => notified++);
    await runner.run({ operation: 'switchover', params: { candidate: 'db2' } });
    unsubscribe();
    expect(notified).toBeGreaterThan(2);
    expect(world.events.every((e) => e.kind === 'operation')).toBe(true);
    expect(world.events[0]?.message).toBe('switchover started by alice (candidate db2)');
    expect(world.events.at(-1)?.message).toMatch(/^switchover failed: the fake switchover fails/);
  });

  it('refuses by precondition with the reason, without a request', async () => {
    const world = fakeWorld();
    const runner = runnerFor(world);
    const run = await runner.run({ operation: 'switchover', params: { candidate: 'db1' } });
    expect(run.status).toBe('refused');
    expect(run.reasons?.map((r) => r.message)).toEqual(['db1 is already the leader']);
    expect(world.calls).toEqual([]);
  });
});
