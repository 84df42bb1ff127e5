import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { cockpitLine, cockpitPtySuite, quitCockpit } from '../support/cockpit-pty.js';
import { patronictl, restoreLab, stopMember, waitHealthy } from '../support/lab-faults.js';
import { testLab } from '../support/lab.js';
import { PROMPT, TmuxSession } from '../support/tmux.js';

/**
 * The real `pgcockpit` (bin/pgcockpit.js on dist/, built by `npm test`'s pretest or `npx tsc`) in a tmux
 * pseudo-terminal against the test lab. Everything waits on what the screen shows; the cluster is changed
 * from outside the cockpit (patronictl, stopping a member), as another operator or a failure would.
 */

const run = promisify(execFile);
const lab = testLab();
const config = path.join(inject('labDir'), 'pgcockpit.yaml');
/** patronictl is a Python program: keep node_modules/.bin (and its `node`) off its PATH. */
const patronictlEnv = { ...process.env, PATH: '/usr/bin:/bin' };


/** The members-table row of `name` (its marker, name and role columns lead the row). */
function memberRow(screen: string, name: string): string {
  return screen.split('\n').find((line) => new RegExp(`^.?[★✓▲✗·] ${name}\\s+(leader|replica|sync|stby-ldr|\\?)\\s`).test(line)) ?? '';
}

/** Quit with q and check the terminal came back: the exit status, the shell, the scrollback, no alternate screen. */
async function quitAndCheckRestored(session: TmuxSession, marker: string): Promise<void> {
  const screen = await quitCockpit(session);
  expect(await session.display('#{alternate_on}')).toBe('0');
  // The shell's screen from before the cockpit is back (the cockpit drew on the alternate screen), and the
  // prompt after it.
  expect(screen).toContain(marker);
  expect(screen.trimEnd().endsWith(PROMPT.trim())).toBe(true);
}

cockpitPtySuite(lab);

describe('pgcockpit in a terminal (tmux) against the lab', () => {
  it('follows a switchover made with patronictl and a replica going away, then quits leaving the terminal as it was', async () => {
    const oldLeader = await waitHealthy(lab);
    const session = await TmuxSession.start({ columns: 120, rows: 40 });
    const marker = `before-cockpit-${randomBytes(4).toString('hex')}`;
    await session.runLine(`echo ${marker}`);
    await session.waitFor(new RegExp(`^${marker}$`, 'm'));
    await session.runLine(cockpitLine(config));

    // The first complete frame: the leader in the header and every member in the table; then (SQL read)
    // the replicas streaming.
    await session.waitFor((s) => s.includes(`leader ★ ${oldLeader}`) && lab.members.every((m) => memberRow(s, m.name) !== ''), { timeoutMs: 30_000 });
    const first = await session.waitFor(
      (s) => lab.members.every((m) => m.name === oldLeader || /streaming/.test(memberRow(s, m.name))),
      { timeoutMs: 30_000 },
    );
    expect(await session.display('#{alternate_on}')).toBe('1');
    const timelineBefore = Number(/leader ★ \S+ TL (\d+)/.exec(first)?.[1]);
    expect(timelineBefore).toBeGreaterThan(0);
    const candidate = lab.members.find((m) => m.name !== oldLeader && /streaming/.test(memberRow(first, m.name)))?.name;
    expect(candidate, `a streaming replica on:\n${first}`).toBeDefined();
    const newLeader = candidate as string;

    try {
      // A switchover from outside the cockpit.
      const { command, config: patroniConfig } = patronictl(lab);
      await run(command, ['-c', patroniConfig, 'switchover', '--leader', oldLeader, '--candidate', newLeader, '--force'], { env: patronictlEnv });

      // The new leader, in the header with the next timeline and as ★ in the table.
      const switched = await session.waitFor(
        (s) => s.includes(`leader ★ ${newLeader} TL ${timelineBefore + 1}`) && /★ /.test(memberRow(s, newLeader)),
        { timeoutMs: 60_000 },
      );
      expect(memberRow(switched, newLeader)).toMatch(new RegExp(`★ ${newLeader}\\s+leader`));
      expect(memberRow(switched, oldLeader)).toMatch(new RegExp(`${oldLeader}\\s+replica`));
      // The Timeline pane: Patroni's history has the timeline that ended, at which LSN, who took over, when.
      const historyEntry = new RegExp(`\\s${timelineBefore} [0-9A-F]+/[0-9A-F]+\\s+(${newLeader}|—)\\s+\\d\\d-\\d\\d \\d\\d:\\d\\d `);
      const withHistory = await session.waitFor(historyEntry, { timeoutMs: 30_000 });
      expect(withHistory).toMatch(/Timeline [1-9]\d* switches/);
      // The event log: alerts raised and cleared around a switchover can push the leader change out of a
      // short pane, so the operator filters for it (/), as they would.
      await session.keys('/');
      await session.waitFor(/^\/.*members?, \d+ events? match/m);
      await session.type('leader changed');
      // Wait for the filter to be applied (the event may be on screen unfiltered already), then read it.
      const filtered = await session.waitFor(/^\/leader changed .*0 members, [1-9]\d* events? match/m, { timeoutMs: 30_000 });
      expect(filtered).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d . leader changed: (${oldLeader}|none) → ${newLeader}`));
      await session.keys('Escape');
      await session.waitFor((s) => lab.members.every((m) => memberRow(s, m.name) !== '') && !/events? match/.test(s));

      // A replica goes away (its Patroni and PostgreSQL stopped).
      await waitHealthy(lab);
      const replica = lab.members.find((m) => m.name !== newLeader)?.name as string;
      await stopMember(lab, replica);
      const down = await session.waitFor((s) => /^.?✗ /.test(memberRow(s, replica)) && !memberRow(s, replica).includes('streaming'), {
        timeoutMs: 60_000,
      });
      expect(memberRow(down, replica)).toMatch(new RegExp(`✗ ${replica}\\s+replica\\s+(unreachable|stopped)`));
      expect(down).toMatch(/alerts ✗[1-9]\d* crit/);
    } finally {
      await restoreLab(lab);
    }
    // Back to streaming, on screen too.
    await session.waitFor((s) => lab.members.filter((m) => m.name !== newLeader).every((m) => /streaming/.test(memberRow(s, m.name))), {
      timeoutMs: 90_000,
    });

    await quitAndCheckRestored(session, marker);
  });

  it('watch: the read-only wallboard refuses s, says when the terminal is too small, and recovers on resize', async () => {
    const leader = await waitHealthy(lab);
    const session = await TmuxSession.start({ columns: 120, rows: 40 });
    const marker = `before-watch-${randomBytes(4).toString('hex')}`;
    await session.runLine(`echo ${marker}`);
    await session.waitFor(new RegExp(`^${marker}$`, 'm'));
    await session.runLine(cockpitLine(config, ['watch']));

    const wallboard = await session.waitFor((s) => s.includes('watch · read-only') && s.includes(`leader ★ ${leader}`) && s.includes('ALERTS ('), {
      timeoutMs: 30_000,
    });
    expect(wallboard).toMatch(/[✓▲✗] {2}(O K|D E G R A D E D|C R I T I C A L|S T A L E) {3}patroni1/);
    // No operation key is offered on the wallboard, and s is refused with the reason.
    expect(wallboard).not.toMatch(/ops s /);
    await session.keys('s');
    const refused = await session.waitFor('read-only (watch mode)');
    expect(refused).toContain('Switchover to a healthy replica: read-only (watch mode)');
    expect(refused).toContain(`leader ★ ${leader}`);

    await session.resize(60, 20);
    const small = await session.waitFor('terminal too small');
    expect(small).toContain('terminal too small (need 80×24)');
    expect(small).toContain('now 60×20');
    expect(small).not.toContain('ALERTS');

    await session.resize(120, 40);
    await session.waitFor((s) => s.includes('watch · read-only') && s.includes('ALERTS (') && !s.includes('terminal too small'));

    await quitAndCheckRestored(session, marker);
  });
});
