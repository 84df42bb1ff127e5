import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { cockpitLine, cockpitPtySuite, quitCockpit } from '../support/cockpit-pty.js';
import { waitHealthy } from '../support/lab-faults.js';
import { testLab } from '../support/lab.js';
import { TmuxSession } from '../support/tmux.js';

/**
 * A switchover made through the cockpit's dialog, in a tmux pseudo-terminal against the test lab:
 * s → pick the best candidate → y → live progress → the result "done" and the new leader on screen; the
 * audit log got its lines. Everything waits on the screen or the lab, never on a fixed sleep.
 */

const lab = testLab();
const labDir = inject('labDir');
const config = path.join(labDir, 'pgcockpit.yaml');
const auditFile = path.join(labDir, 'audit.log');

function auditLines(): string[] {
  return fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
}

cockpitPtySuite(lab);

describe('the cockpit switchover dialog (tmux, lab)', () => {
  it('s → candidate → y → progress → done with the new leader; audit lines written; the cluster stays healthy', async () => {
    const oldLeader = await waitHealthy(lab);
    const auditBefore = auditLines().length;
    const session = await TmuxSession.start({ columns: 120, rows: 40 });
    await session.runLine(cockpitLine(config));
    // Every replica streaming before anything is asked of the cockpit.
    await session.waitFor((s) => s.includes(`leader ★ ${oldLeader}`) && (s.match(/ streaming /g) ?? []).length >= lab.members.length - 1, { timeoutMs: 60_000 });

    // The footer names the operation keys that cannot run now: wait until s is not among them (right after
    // another suite restored the lab, etcd may still be timing out and the runner refuses).
    await session.waitFor((s) => s.includes('? help') && !/ops [^✗]*\bs\b[^✗]*✗/.test(s), { timeoutMs: 60_000 });
    await session.keys('s');
    const picker = await session.waitFor(/Switchover · choose a candidate[\s\S]*❯ (\S+)/, { timeoutMs: 15_000 });
    const candidate = /❯ (\S+)/.exec(picker)?.[1] as string;
    expect(candidate).not.toBe(oldLeader);
    expect(lab.members.map((m) => m.name)).toContain(candidate);

    await session.keys('Enter');
    const review = await session.waitFor('[y/N]', { timeoutMs: 15_000 });
    expect(review).toContain('Switchover · check and confirm');
    expect(review).toContain(candidate);

    await session.keys('y');
    // The dialog's result (not the event log's line): its title says done, and it stays until dismissed.
    const done = await session.waitFor(/Switchover · done[\s\S]*switchover done {2}in /, { timeoutMs: 120_000 });
    expect(done).toMatch(/✓ /);
    // The header follows the new leader (the panes keep updating behind the dialog).
    await session.waitFor(`leader ★ ${candidate}`, { timeoutMs: 60_000 });

    const audit = auditLines().slice(auditBefore).map((l) => JSON.parse(l) as { operation?: string; event?: string; status?: string });
    expect(audit.filter((a) => a.operation === 'switchover').map((a) => a.event)).toEqual(expect.arrayContaining(['start', 'step', 'end']));
    expect(audit.find((a) => a.event === 'end')?.status).toBe('done');

    await session.keys('Escape');
    await session.waitFor((s) => !s.includes('Switchover · done') && s.includes(`leader ★ ${candidate}`));
    await quitCockpit(session);

    expect(await waitHealthy(lab)).toBe(candidate);
  });
});
