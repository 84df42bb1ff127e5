import { describe, expect, it } from 'vitest';
import { ArchiveLogReader, archiveLogPath } from '../../src/services/archive-log.js';
import { createTransport } from '../../src/services/exec/transport.js';
import { ServiceError } from '../../src/services/types.js';
import { waitFor } from '../../src/util/wait.js';
import { labQuery, testLab } from '../support/lab.js';
import { testLabCluster, waitForHealthyCluster } from './lab-config.js';

const lab = testLab();
const cluster = testLabCluster();
const reader = ArchiveLogReader.fromConfig(cluster.archiveLog as NonNullable<typeof cluster.archiveLog>);

describe("the leader's archive log", () => {
  it('shows a WAL segment archived after a forced switch', async () => {
    const leader = await waitForHealthyCluster(cluster);
    const port = lab.members.find((m) => m.name === leader)?.pgPort as number;
    await labQuery(lab, port, 'CREATE TABLE IF NOT EXISTS archive_log_probe (at timestamptz); INSERT INTO archive_log_probe VALUES (now())');
    const [row] = await labQuery<{ wal: string }>(lab, port, 'SELECT pg_walfile_name(pg_switch_wal()) AS wal');
    const wal = row?.wal as string;
    const lines = await waitFor(`${wal} in ${leader}'s archive log`, async () => {
      const tail = await reader.tail(leader, 20);
      return tail.some((l) => l.includes(wal)) ? tail : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(lines.find((l) => l.includes(wal))).toMatch(/Archived: /);
    expect(await reader.tail(leader, 1)).toHaveLength(1);
  });

  it('reads the same lines through a transport (tail) as directly from the file', async () => {
    const leader = await waitForHealthyCluster(cluster);
    const viaTail = new ArchiveLogReader(cluster.archiveLog as NonNullable<typeof cluster.archiveLog>, { transportFor: (c) => createTransport(c, { source: 'archive-log' }) });
    expect(await viaTail.tail(leader, 5)).toEqual(await reader.tail(leader, 5));
  });

  it('a member without a log: a ServiceError saying why, read directly or through tail', async () => {
    const error = await reader.tail('db-none', 5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ source: 'archive-log', kind: 'failed' });
    expect((error as Error).message).toMatch(/cannot read the archive log .*db-none\/archive\.log \(ENOENT\)/);
    const viaTail = new ArchiveLogReader(cluster.archiveLog as NonNullable<typeof cluster.archiveLog>, { transportFor: (c) => createTransport(c, { source: 'archive-log' }) });
    const tailError = await viaTail.tail('db-none', 5).catch((e: unknown) => e);
    expect((tailError as Error).message).toMatch(/tail of db-none's archive log .*db-none\/archive\.log exited 1 on local: tail: cannot open/);
    expect(archiveLogPath('/x/{member}/a-{member}.log', 'db1')).toBe('/x/db1/a-db1.log');
  });
});
