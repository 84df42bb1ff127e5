import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A broken peer for fault tests only: an HTTP server on 127.0.0.1 that answers every request with what
 * `respond` says, or never answers at all. Fakes simulate broken peers; real behaviour is tested on the lab.
 */
export interface FakePeer {
  url: string;
  requests: Array<{ method: string; url: string; authorization?: string }>;
  close: () => Promise<void>;
}

export type FakeAnswer = { status: number; body: string; contentType?: string } | 'hang';

export async function fakePatroniServer(respond: (req: http.IncomingMessage) => FakeAnswer): Promise<FakePeer> {
  const requests: FakePeer['requests'] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const answer = respond(req);
    if (answer === 'hang') {
      hanging.add(res);
      return;
    }
    res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP port on 127.0.0.1 that nobody listens on (bound once, then released). */
export async function unusedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
