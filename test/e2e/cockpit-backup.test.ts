import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { RestoreRegistry, removeSideRestore, restoresDir } from '../../src/services/restore.js';
import { cockpitLine, cockpitPtySuite, quitCockpit } from '../support/cockpit-pty.js';
import { waitHealthy } from '../support/lab-faults.js';
import { labClient, labQuery, testLab } from '../support/lab.js';
import { TmuxSession } from '../support/tmux.js';

/**
 * Backup and PITR through the cockpit's dialogs, in a tmux pseudo-terminal against the test lab:
 * b → y → Barman's status STARTED → bytes and throughput → DONE, the result; t → a target in the future is
 * refused with its reason and the window (nothing created) → the time T → automatic backup → side restore →
 * y → progress → the postgresql:// URI, and the restore listed; the rows written before T are there. The
 * side restore is removed at the end. Everything waits on the screen, never on a fixed sleep.
 */

const lab = testLab();
const labDir = inject('labDir');
const config = path.join(labDir, 'pgcockpit.yaml');
const cluster = loadConfig(config).clusters[0];
if (!cluster) throw new Error(`no cluster in ${config}`);
const registry = new RestoreRegistry(restoresDir(cluster));
const MARKER = 'pgc_e2e_pitr_marker';
let restoresBefore: string[] = [];

function restoreIds(): string[] {
  return registry.list().map((r) => r.id);
}

function dirEntries(): string[] {
  return fs.existsSync(registry.dir) ? fs.readdirSync(registry.dir).sort() : [];
}

/**
 * Press an operation's key until its dialog opens: when the runner refuses at that moment (the footer says
 * "<description>: <reason>"), wait until the footer no longer lists the key as disabled, and press again.
 */
async function openDialog(session: TmuxSession, key: string, opened: string | RegExp, refusedPrefix: string): Promise<string> {
  const deadline = Date.now() + 90_000;
  const isOpen = (s: string) => (typeof opened === 'string' ? s.includes(opened) : opened.test(s));
  for (;;) {
    await session.waitFor((s) => s.includes('? help') && !new RegExp(`ops [^✗]*\\b${key}\\b[^✗]*✗`).test(s), { timeoutMs: Math.max(1000, deadline - Date.now()) });
    await session.keys(key);
    const screen = await session.waitFor((s) => isOpen(s) || s.includes(refusedPrefix), { timeoutMs: 15_000 });
    if (isOpen(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`${key} stayed refused:\n${screen}`);
    await session.keys('Escape');
    await session.waitFor((s) => !s.includes(refusedPrefix));
  }
}

// The lab stays clean: every side restore this test made is stopped and removed, the marker table dropped.
cockpitPtySuite(lab, {
  restore: false,
  before: () => {
    restoresBefore = restoreIds();
  },
  after: async () => {
    for (const id of restoreIds().filter((r) => !restoresBefore.includes(r))) await removeSideRestore(registry, id);
    await labQuery(lab, lab.haproxy.writePort, `DROP TABLE IF EXISTS ${MARKER}`).catch(() => undefined);
  },
});

describe('the cockpit backup and PITR dialogs (tmux, lab)', () => {
  it('backs up with progress, refuses an invalid target with the window, side-restores to T and lists it', async () => {
    await waitHealthy(lab);
    const session = await TmuxSession.start({ columns: 200, rows: 60 });
    await session.runLine(cockpitLine(config));
    await session.waitFor((s) => s.includes('leader ★') && (s.match(/ streaming /g) ?? []).length >= lab.members.length - 1, { timeoutMs: 60_000 });

    // ---- the backup. b opens its dialog once the runner has no objection (on a loaded machine the leader can
    // miss a probe's deadline for a moment: the key then says why and does nothing, and is pressed again).
    const review = await openDialog(session, 'b', /Barman backup · check and confirm[\s\S]*\[y\/N\]/, 'Start a Barman backup: ');
    expect(review).toMatch(/Barman backup of server \S+ \(copies the leader/);
    await session.keys('y');
    const running = await session.waitFor(/Barman backup · running[\s\S]*barman backup \S+/, { timeoutMs: 30_000 });
    expect(running).toContain('running for');
    // The result stays until dismissed: Barman's statuses as it went, the bytes and throughput, DONE and the check.
    const done = await session.waitFor(/Barman backup · done[\s\S]*backup done +in /, { timeoutMs: 300_000 });
    expect(done).toMatch(/Barman (EMPTY → )?STARTED → (WAITING_FOR_WALS → )?DONE; copied [\d.]+ \S+ in [\d.]+ s, [\d.]+ \S+\/s from \S+/);
    expect(done).toMatch(/✓ the backup's status \(backup\.info\) and barman check +[\d.]+ m?s \S+ DONE: [\d.]+ \S+, WAL [0-9A-F]{24} → [0-9A-F]{24}, timeline \d+; barman check OK/);
    const backupId = /backup (\d{8}T\d{6}) DONE/.exec(done)?.[1] as string;
    expect(backupId).toBeDefined();
    await session.keys('Escape');
    await session.waitFor((s) => !s.includes('Barman backup · done'));
    // The Backups pane lists it DONE once the store reads Barman again (the PITR checks below read the store:
    // until then, a lab's first backup is not known to them).
    await session.waitFor(new RegExp(`✓ ${backupId} +DONE`), { timeoutMs: 120_000 });

    // Rows written before T, then T.
    await labQuery(lab, lab.haproxy.writePort, `CREATE TABLE IF NOT EXISTS ${MARKER} (id int)`);
    await labQuery(lab, lab.haproxy.writePort, `INSERT INTO ${MARKER} SELECT generate_series(1, 42)`);
    const [row] = await labQuery<{ now: string }>(lab, lab.haproxy.writePort, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS now`);
    const T = row?.now as string;
    await labQuery(lab, lab.haproxy.writePort, `DELETE FROM ${MARKER}`);

    // ---- PITR: an invalid target first (in the future): refused with the reason and the window, nothing created.
    const entriesBefore = dirEntries();
    const kinds = await openDialog(session, 't', 'Point-in-time recovery · choose the target', 'Point-in-time recovery from Barman: ');
    expect(kinds).toContain('Recovery window:');
    expect(kinds).toContain('❯ a time, with its time zone');
    await session.keys('Enter');
    await session.waitFor('Point-in-time recovery · type the target');
    const future = '2099-01-01T00:00:00Z';
    await session.type(future);
    await session.waitFor('→ time 2099-01-01 00:00:00.000 UTC');
    await session.keys('Enter');
    const refused = await session.waitFor('✗ refused:', { timeoutMs: 15_000 });
    expect(refused).toMatch(/is in the future/);
    expect(refused).toContain('valid window:');
    expect(refused).toContain('Point-in-time recovery · type the target');
    expect(dirEntries()).toEqual(entriesBefore);
    expect(restoreIds()).toEqual(restoresBefore);

    // Esc closes the dialog: still nothing created.
    await session.keys('Escape');
    await session.waitFor((s) => !s.includes('Point-in-time recovery'));
    expect(dirEntries()).toEqual(entriesBefore);

    // ---- T; the automatic backup; a side restore (the default); y.
    await openDialog(session, 't', 'Point-in-time recovery · choose the target', 'Point-in-time recovery from Barman: ');
    await session.keys('Enter');
    await session.waitFor('Point-in-time recovery · type the target');
    await session.type(T);
    await session.waitFor(`→ time ${T.replace('T', ' ').replace('Z', '')} UTC`);
    await session.keys('Enter');
    const backups = await session.waitFor('Point-in-time recovery · choose the backup', { timeoutMs: 15_000 });
    expect(backups).toMatch(/❯ automatic: \d{8}T\d{6}/);
    await session.keys('Enter');
    await session.waitFor('❯ side restore on a free port');
    await session.keys('Enter');
    const pitrReview = await session.waitFor(/Point-in-time recovery · check and confirm[\s\S]*\[y\/N\]/, { timeoutMs: 15_000 });
    expect(pitrReview).toContain('Side restore: a new directory');
    expect(pitrReview).toMatch(/Recovery window: .* → /);
    await session.keys('y');
    await session.waitFor(/Point-in-time recovery · running[\s\S]*Validate the target against Barman/, { timeoutMs: 30_000 });
    const pitrDone = await session.waitFor(/Point-in-time recovery · done[\s\S]*connect: +psql 'postgresql:\/\/[^']+'/, { timeoutMs: 300_000 });
    expect(pitrDone).toMatch(/✓ replay WAL to time .* and promote/);
    const uri = /psql '(postgresql:\/\/[^']+)'/.exec(pitrDone)?.[1] as string;
    expect(uri).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    // The listing in the dialog: the new side restore, running, at that URI.
    const added = restoreIds().filter((r) => !restoresBefore.includes(r));
    expect(added).toHaveLength(1);
    await session.waitFor(new RegExp(`running +${added[0]} ${uri.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    // The rows deleted after T are back on the side restore; the cluster's are still gone.
    const client = await labClient(lab, Number(new URL(uri).port));
    try {
      expect((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${MARKER}`)).rows[0]?.n).toBe('42');
    } finally {
      await client.end();
    }
    expect((await labQuery<{ n: string }>(lab, lab.haproxy.writePort, `SELECT count(*)::text AS n FROM ${MARKER}`))[0]?.n).toBe('0');

    await session.keys('Escape');
    await session.waitFor((s) => !s.includes('Point-in-time recovery · done') && s.includes('leader ★'));
    await quitCockpit(session);
  });
});
