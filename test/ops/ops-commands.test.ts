import { describe, expect, it } from 'vitest';
import { UsageError, parseCommand } from '../../src/cli/args.js';
import { OPS_SPECS, formatEvent, formatPlan, opsRequest } from '../../src/cli/ops-commands.js';
import type { ClusterOperationName } from '../../src/cli/ops-commands.js';

const request = (name: ClusterOperationName, argv: string[]) => opsRequest(name, parseCommand(OPS_SPECS[name], argv));

describe('operation commands: arguments (pure)', () => {
  it('builds the runner requests', () => {
    expect(request('switchover', [])).toEqual({ operation: 'switchover', params: {} });
    expect(request('switchover', ['--to', 'db2', '--at', '2026-11-21T22:00:00+01:00'])).toEqual({ operation: 'switchover', params: { candidate: 'db2', at: '2026-11-21T22:00:00+01:00' } });
    expect(request('switchover', ['--cancel'])).toEqual({ operation: 'switchover', params: { cancel: true } });
    expect(request('failover', ['--to', 'db3'])).toEqual({ operation: 'failover', params: { candidate: 'db3' } });
    expect(request('reinit', ['db2'])).toEqual({ operation: 'reinit', params: { member: 'db2' } });
    expect(request('restart', ['--pending'])).toEqual({ operation: 'restart', params: { pending: true } });
    expect(request('restart', ['db1'])).toEqual({ operation: 'restart', params: { member: 'db1' } });
    expect(request('reload', [])).toEqual({ operation: 'reload', params: {} });
    expect(request('drill', ['--yes'])).toEqual({ operation: 'drill', params: {} });
  });

  it('says what is wrong with the usage', () => {
    expect(() => request('failover', [])).toThrow(UsageError);
    expect(() => request('failover', [])).toThrow(/--to MEMBER is required/);
    expect(() => request('reinit', [])).toThrow(/name the member/);
    expect(() => request('restart', [])).toThrow(/name a member, or give --pending/);
    expect(() => request('restart', ['db1', '--pending'])).toThrow(/either a member or --pending/);
    expect(() => request('switchover', ['--cancel', '--to', 'db2'])).toThrow(/--cancel takes neither/);
    expect(() => parseCommand(OPS_SPECS.pause, ['--force'])).toThrow(UsageError);
  });

  it('prints a step line with its timing, and a plan with its requests', () => {
    const line = formatEvent({ type: 'step', id: 'request', title: 'POST /switchover db1 → db2', status: 'done', startedAt: 0, durationMs: 1390, detail: 'accepted' }, 1390);
    expect(line).toMatch(/✓ POST \/switchover db1 → db2 \(1\.39 s\): accepted$/);
    const plan = formatPlan({
      operation: 'pause',
      summary: 'pause the cluster',
      checks: { blockers: [], warnings: [{ code: 'x', message: 'while paused, no failover' }] },
      requests: [{ method: 'PATCH', url: 'http://127.0.0.1:8001/config', body: { pause: true }, purpose: 'enter maintenance mode' }],
      verification: ['GET /cluster reports pause: true'],
    });
    expect(plan).toContain('PATCH http://127.0.0.1:8001/config {"pause":true}');
    expect(plan).toContain('! while paused, no failover');
  });
});
