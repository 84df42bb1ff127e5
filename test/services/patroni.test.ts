import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { PatroniClient } from '../../src/services/patroni.js';
import { labQuery, testLab } from '../support/lab.js';
import { fakePatroniServer, unusedPort } from './fake-peer.js';
import { caught, testLabCluster, waitForHealthyCluster } from './lab-config.js';

const lab = testLab();
const cluster = testLabCluster();
const patroni = PatroniClient.fromConfig(cluster.patroni);

afterAll(async () => {
  await patroni.close();
});

describe('Patroni REST on the lab (3.0.2)', () => {
  it('GET /cluster: one leader, every lab member, answered by the first endpoint', async () => {
    await waitForHealthyCluster(cluster);
    const c = await patroni.getCluster();
    expect(c.endpoint).toBe(cluster.patroni.endpoints[0]);
    expect(c.members.map((m) => m.name).sort()).toEqual(lab.members.map((m) => m.name).sort());
    expect(c.members.filter((m) => m.role === 'leader')).toHaveLength(1);
    expect(c.paused).toBe(false);
    for (const m of c.members) {
      expect(m.timeline).toBeGreaterThanOrEqual(1);
      expect(m.port).toBe(lab.members.find((x) => x.name === m.name)?.pgPort);
      if (m.role !== 'leader') expect(m.replayLagBytes).toBeGreaterThanOrEqual(0);
    }
  });

  it("GET /patroni: the leader (role master) lists every replica streaming, like pg_stat_replication", async () => {
    const leaderName = await waitForHealthyCluster(cluster);
    const c = await patroni.getCluster();
    const leader = c.members.find((m) => m.name === leaderName);
    const status = await patroni.getMemberStatus(leader?.apiUrl as string);
    expect(status).toMatchObject({ role: 'leader', rawRole: 'master', state: 'running', patroniVersion: '3.0.2', scope: lab.scope });
    expect(status.walLsn).toBeGreaterThan(0);
    const spec = lab.members.find((m) => m.name === leaderName);
    const rows = await labQuery<{ application_name: string }>(lab, spec?.pgPort as number, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'");
    expect(status.replication.map((r) => r.applicationName).sort()).toEqual(rows.map((r) => r.application_name).sort());
    const replica = c.members.find((m) => m.role === 'replica');
    const replicaStatus = await patroni.getMemberStatus(replica?.apiUrl as string);
    expect(replicaStatus.role).toBe('replica');
    expect(replicaStatus.receivedLsn).toBeGreaterThan(0);
    expect(replicaStatus.databaseSystemIdentifier).toBe(status.databaseSystemIdentifier);
  });

  it('GET /config: the lab timing', async () => {
    const config = await patroni.getConfig();
    expect(config).toMatchObject({ ttl: 30, loopWait: 10, retryTimeout: 10, maximumLagOnFailover: 1048576, paused: false });
  });

  it('PATCH /config pause: true shows in /cluster and /patroni, and un-pauses again', async () => {
    try {
      const patched = await patroni.patchConfig({ pause: true });
      expect(patched.paused).toBe(true);
      const c = await patroni.getCluster();
      expect(c.paused).toBe(true);
    } finally {
      const unpaused = await patroni.patchConfig({ pause: null });
      expect(unpaused.paused).toBe(false);
    }
    expect((await patroni.getCluster()).paused).toBe(false);
  });

  it('switchover to a named candidate: new leader, a new timeline in /history, cluster healthy again', async () => {
    const before = await waitForHealthyCluster(cluster);
    const historyBefore = await patroni.getHistory();
    const c = await patroni.getCluster();
    const timelineBefore = c.members.find((m) => m.name === before)?.timeline ?? 0;
    const candidate = c.members.find((m) => m.role === 'replica')?.name as string;
    const result = await patroni.switchover({ leader: before, candidate });
    expect(result.httpStatus).toBe(200);
    expect(result.scheduled).toBe(false);
    expect(result.message).toContain(candidate);
    const after = await waitForHealthyCluster(cluster);
    expect(after).toBe(candidate);
    const history = await patroni.getHistory();
    expect(history.length).toBe(historyBefore.length + 1);
    const last = history[history.length - 1];
    expect(last?.timeline).toBe(timelineBefore);
    expect(last?.lsn).toBeGreaterThan(0);
    expect(last?.lsnText).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    const newTimeline = (await patroni.getCluster()).members.find((m) => m.name === after)?.timeline;
    expect(newTimeline).toBe(timelineBefore + 1);
  });

  it('a refused switchover (unknown candidate) is a ServiceError with Patroni\'s status and reason', async () => {
    const leader = await waitForHealthyCluster(cluster);
    const error = await caught(patroni.switchover({ leader, candidate: 'db-none' }));
    expect(error.kind).toBe('failed');
    expect(error.message).toMatch(/answered POST \/switchover with 412: candidate does not exist/);
  });

  it('cancelling when no switchover is scheduled says so (404)', async () => {
    const error = await caught(patroni.cancelScheduledSwitchover());
    expect(error.kind).toBe('failed');
    expect(error.message).toContain('no switchover is scheduled');
  });
});

describe('Patroni REST faults', () => {
  it('a member whose REST port refuses: the next endpoint answers, and `endpoint` says which', async () => {
    const port = await unusedPort();
    const client = PatroniClient.fromConfig({ ...cluster.patroni, endpoints: [`http://127.0.0.1:${port}`, ...cluster.patroni.endpoints] });
    try {
      const c = await client.getCluster();
      expect(c.endpoint).toBe(cluster.patroni.endpoints[0]);
      const error = await caught(client.getMemberStatus(`http://127.0.0.1:${port}/patroni`));
      expect(error).toMatchObject({ source: 'patroni', kind: 'unreachable', endpoint: `http://127.0.0.1:${port}` });
      expect(error.message).toBe(`Patroni REST http://127.0.0.1:${port} refused the connection`);
    } finally {
      await client.close();
    }
  });

  it('no endpoint answers: one error naming each endpoint', async () => {
    const [a, b] = [await unusedPort(), await unusedPort()];
    const client = new PatroniClient({ endpoints: [`http://127.0.0.1:${a}`, `http://127.0.0.1:${b}`], timeoutMs: 1000 });
    try {
      const error = await caught(client.getCluster());
      expect(error.kind).toBe('unreachable');
      expect(error.message).toContain(`http://127.0.0.1:${a} refused the connection`);
      expect(error.message).toContain(`http://127.0.0.1:${b} refused the connection`);
    } finally {
      await client.close();
    }
  });

  it('malformed JSON and a wrong shape are "malformed"', async () => {
    const fake = await fakePatroniServer((req) =>
      req.url === '/cluster' ? { status: 200, body: '{"members": [' } : { status: 200, body: JSON.stringify({ not: 'a list' }) },
    );
    const client = new PatroniClient({ endpoints: [fake.url], timeoutMs: 1000 });
    try {
      const bad = await caught(client.getCluster());
      expect(bad).toMatchObject({ kind: 'malformed', endpoint: fake.url });
      expect(bad.message).toContain('did not answer JSON');
      const shape = await caught(client.getHistory());
      expect(shape.kind).toBe('malformed');
      expect(shape.message).toContain('unexpected shape');
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('a slow endpoint times out after timeoutMs, and the caller can abort earlier', async () => {
    const fake = await fakePatroniServer(() => 'hang');
    const client = new PatroniClient({ endpoints: [fake.url], timeoutMs: 300 });
    try {
      const started = Date.now();
      const error = await caught(client.getCluster());
      const elapsed = Date.now() - started;
      expect(error).toMatchObject({ kind: 'timeout', endpoint: fake.url });
      expect(error.message).toBe(`Patroni REST ${fake.url} timed out after 300 ms`);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(3000);
      const controller = new AbortController();
      const pending = client.getCluster({ signal: controller.signal, timeoutMs: 10_000 });
      controller.abort(new Error('operator left'));
      await expect(pending).rejects.toThrow('operator left');
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('401 on a write is an auth error; basic auth is sent; the password never appears in messages', async () => {
    const fake = await fakePatroniServer(() => ({ status: 401, body: 'no auth header received', contentType: 'text/plain' }));
    const client = new PatroniClient({ endpoints: [fake.url], timeoutMs: 1000, auth: { username: 'patroni', password: 's3cret-pw' } });
    try {
      const error = await caught(client.patchConfig({ pause: true }));
      expect(error.kind).toBe('auth');
      expect(error.message).not.toContain('s3cret-pw');
      expect(fake.requests[0]?.authorization).toBe(`Basic ${Buffer.from('patroni:s3cret-pw').toString('base64')}`);
      expect(fake.requests[0]?.method).toBe('PATCH');
      const restart = await caught(client.restart(`${fake.url}/patroni`, { restartPending: true }));
      expect(restart.kind).toBe('auth');
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('GET /patroni on a fresh HTTP/1.0 connection: refused, hung and chunked peers, and the auth header', async () => {
    const refused = `http://127.0.0.1:${await unusedPort()}`;
    const client = new PatroniClient({ endpoints: [refused], timeoutMs: 300, auth: { username: 'patroni', password: 's3cret-pw' } });
    const hung = await fakePatroniServer(() => 'hang');
    // A peer that answers chunked whatever the request says: asked again through the keep-alive client.
    const chunked = net.createServer((socket) => {
      socket.once('data', () => {
        socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n10\r\n{"state":"runnin\r\n14\r\ng","role":"replica"}\r\n0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => chunked.listen(0, '127.0.0.1', resolve));
    const chunkedUrl = `http://127.0.0.1:${(chunked.address() as AddressInfo).port}`;
    const fine = await fakePatroniServer(() => ({ status: 503, body: '{"state":"stopped","role":"replica","timeline":2}' }));
    try {
      const error = await caught(client.getMemberStatus(`${refused}/patroni`));
      expect(error).toMatchObject({ kind: 'unreachable', message: `Patroni REST ${refused} refused the connection` });
      const started = Date.now();
      const timeout = await caught(client.getMemberStatus(`${hung.url}/patroni`));
      expect(timeout).toMatchObject({ kind: 'timeout', message: `Patroni REST ${hung.url} timed out after 300 ms` });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      const controller = new AbortController();
      const pending = client.getMemberStatus(`${hung.url}/patroni`, { signal: controller.signal, timeoutMs: 10_000 });
      controller.abort(new Error('operator left'));
      await expect(pending).rejects.toThrow('operator left');
      expect(await client.getMemberStatus(`${chunkedUrl}/patroni`)).toMatchObject({ state: 'running', role: 'replica' });
      expect(await client.getMemberStatus(`${fine.url}/patroni`)).toMatchObject({ state: 'stopped', role: 'replica', timeline: 2 });
      expect(fine.requests[0]).toMatchObject({ method: 'GET', url: '/patroni', authorization: `Basic ${Buffer.from('patroni:s3cret-pw').toString('base64')}` });
    } finally {
      await client.close();
      await hung.close();
      await fine.close();
      await new Promise<void>((resolve) => chunked.close(() => resolve()));
    }
  });
});
