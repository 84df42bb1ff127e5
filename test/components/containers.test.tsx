import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { MemberDetail } from '../../components/MemberDetail.js';
import { MembersTable } from '../../components/MembersTable.js';
import type { MemberView } from '../../src/model/snapshot.js';
import { memberHealth } from '../../src/ui/member-health.js';
import { fakeLabSnapshot } from '../support/fake-snapshots.js';
import { renderInk } from '../support/ink.js';

afterEach(() => cleanup());

/** Members in containers: the members pane and the member detail say the container's state. */
function withContainers(): MemberView[] {
  return fakeLabSnapshot().members.map((m) =>
    m.name === 'db2'
      ? { ...m, state: 'stopped', restReachable: false, sqlReachable: false, container: { name: 'pgcockpit-db2', status: 'exited', running: false, exitCode: 137, finishedAt: '2026-11-21T12:00:00Z' } }
      : { ...m, container: { name: `pgcockpit-${m.name}`, status: 'running', running: true, health: 'healthy', startedAt: '2026-11-21T11:00:00Z' } },
  );
}

describe('members in containers', () => {
  it('the members pane notes a container that is not running, with its exit code', async () => {
    const members = withContainers();
    const ui = renderInk(<MembersTable members={members} leader="db1" thresholdBytes={1 << 20} selectedMember="db1" focused width={140} height={10} />);
    const frame = await ui.waitForFrame('db3');
    const db2 = frame.split('\n').find((l) => /\sdb2\s/.test(l)) ?? '';
    expect(db2).toContain('container exited (137)');
    expect(frame.split('\n').find((l) => /\sdb3\s/.test(l))).not.toContain('container');
  });

  it('the member detail shows the container line', async () => {
    const [db1, db2] = withContainers();
    const health = memberHealth(db2 as MemberView, { leader: 'db1', thresholdBytes: 1 << 20 });
    const ui = renderInk(<MemberDetail member={db2 as MemberView} health={health} now={Date.parse('2026-11-21T12:05:00Z')} width={140} height={20} />);
    expect(await ui.waitForFrame('container pgcockpit-db2')).toContain('container pgcockpit-db2: exited (137) · stopped at 2026-11-21T12:00:00Z');
    cleanup();
    const running = renderInk(<MemberDetail member={db1 as MemberView} health={memberHealth(db1 as MemberView, { leader: 'db1', thresholdBytes: 1 << 20 })} now={Date.parse('2026-11-21T12:05:00Z')} width={140} height={20} />);
    expect(await running.waitForFrame('container pgcockpit-db1')).toContain('container pgcockpit-db1: running · health healthy · up since 2026-11-21T11:00:00Z');
  });
});
