import fs from 'node:fs';
import net from 'node:net';
import type { Agent, Dispatcher } from 'undici';
import type * as UndiciModule from 'undici';
import { describeIssues, deadline, networkError, timeoutError } from './errors.js';
import type { SourceName } from './types.js';
import { ServiceError } from './types.js';
import type * as z from 'zod/mini';

/**
 * HTTP plumbing shared by the Patroni, HAProxy and etcd adapters: undici (one keep-alive agent per adapter),
 * loaded on the first request that needs it, and one-shot HTTP/1.0 GETs on Node's own sockets (httpGetOnce).
 */

type Undici = typeof UndiciModule;
let undiciModule: Promise<Undici> | undefined;

/** undici, loaded once, on first use: the cockpit's first frame reads Patroni with httpGetOnce only. */
function loadUndici(): Promise<Undici> {
  undiciModule ??= import('undici');
  return undiciModule;
}

export interface HttpTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecure?: boolean;
}

/** The TLS options of a connection (files read now): CA, client certificate and key, verification. */
export interface TlsConnectOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

export function tlsConnectOptions(settings: HttpTls): TlsConnectOptions {
  const read = (file: string | undefined, what: string) => {
    if (!file) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
    }
  };
  const ca = read(settings.caFile, 'CA file');
  const cert = read(settings.certFile, 'certificate');
  const key = read(settings.keyFile, 'key');
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: !settings.insecure };
}

/** A keep-alive HTTP agent (undici's Agent), made on the first request through it. */
export class HttpAgent {
  private agent: Promise<Agent> | undefined;

  constructor(private readonly connect: TlsConnectOptions | undefined) {}

  /** undici's Agent (loading undici the first time). */
  dispatcher(): Promise<Agent> {
    this.agent ??= loadUndici().then(({ Agent }) => new Agent({ keepAliveTimeout: 10_000, ...(this.connect ? { connect: this.connect } : {}) }));
    return this.agent;
  }

  /** undici's request() through this agent. */
  async request(url: string, options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { method: Dispatcher.HttpMethod }): Promise<Dispatcher.ResponseData> {
    const [{ request }, dispatcher] = await Promise.all([loadUndici(), this.dispatcher()]);
    return request(url, { ...options, dispatcher });
  }

  /** Close its connections (nothing to do when it never made one). */
  async close(): Promise<void> {
    if (this.agent) await (await this.agent).close();
  }
}

export function createAgent(settings?: HttpTls | TlsConnectOptions): HttpAgent {
  return new HttpAgent(settings === undefined ? undefined : 'rejectUnauthorized' in settings ? settings : tlsConnectOptions(settings));
}

export function basicAuthHeader(username: string, password: string | undefined): string {
  return `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
}

/** The origin of a URL (scheme, host and port; never user info), used to name an endpoint in messages. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

export interface HttpCall {
  source: SourceName;
  /** The peer in an operator's words, without the URL: "Patroni REST", "HAProxy stats". */
  peer: string;
  agent: HttpAgent;
  method: Dispatcher.HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  text: string;
  endpoint: string;
}

/** One HTTP request under a deadline; network failures and timeouts become ServiceErrors, any status is returned. */
export async function httpCall(call: HttpCall): Promise<HttpAnswer> {
  const endpoint = originOf(call.url);
  const what = `${call.peer} ${endpoint}`;
  call.signal?.throwIfAborted();
  const d = deadline(call.timeoutMs, call.signal);
  try {
    const response = await call.agent.request(call.url, {
      method: call.method,
      headers: { accept: 'application/json, text/plain, */*', ...call.headers },
      ...(call.body === undefined ? {} : { body: call.body }),
      signal: d.signal,
    });
    const text = await response.body.text();
    return { status: response.statusCode, text, endpoint };
  } catch (error) {
    if (d.timedOut()) throw timeoutError(call.source, what, endpoint, call.timeoutMs);
    if (call.signal?.aborted) throw call.signal.reason;
    throw networkError(call.source, what, endpoint, error);
  } finally {
    d.dispose();
  }
}

/** Parse a JSON body and validate it; anything else is a 'malformed' ServiceError naming what was asked. */
export function parseJson<S extends z.ZodMiniType>(source: SourceName, what: string, endpoint: string, text: string, schema: S): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const preview = text.trim().slice(0, 80).replace(/\s+/g, ' ');
    throw new ServiceError(source, 'malformed', `${what} did not answer JSON (got "${preview}${text.length > 80 ? '…' : ''}")`, endpoint);
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new ServiceError(source, 'malformed', `${what} answered JSON of an unexpected shape: ${describeIssues(result.error.issues)}`, endpoint);
  }
  return result.data;
}

export interface HttpGetOnce {
  source: SourceName;
  peer: string;
  url: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  /** For https: URLs. */
  tls?: TlsConnectOptions;
  /** Largest answer read (default 4 MiB). */
  maxBytes?: number;
  /** POST with this body (sent with its Content-Length) instead of a GET. */
  post?: { body: string; contentType: string };
}

/** An answer that cannot be read as HTTP/1.0 (chunked, or no status line): ask through httpCall instead. */
class NotHttp10 extends Error {}

/**
 * One GET (or a small POST: `post`) on a fresh connection, as HTTP/1.0: the server sends the answer and closes. For a server that closes
 * every connection anyway — Patroni's REST API (Python's http.server) does — this costs about half the CPU of
 * undici's request, which sets up and tears down its keep-alive client each time; the leader probe asks
 * several times a second. Any status is returned; network failures and timeouts become ServiceErrors as in
 * httpCall. An answer HTTP/1.0 cannot carry (chunked) is asked again through httpCall on `fallback`.
 */
export async function httpGetOnce(call: HttpGetOnce, fallback: HttpAgent): Promise<HttpAnswer> {
  const endpoint = originOf(call.url);
  const what = `${call.peer} ${endpoint}`;
  call.signal?.throwIfAborted();
  const url = new URL(call.url);
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (secure ? 443 : 80));
  const headers: Record<string, string> = { host: url.host, accept: 'application/json, text/plain, */*', ...call.headers };
  if (call.post) Object.assign(headers, { 'content-type': call.post.contentType, 'content-length': String(Buffer.byteLength(call.post.body, 'utf8')) });
  const headerLines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const requestText = `${call.post ? 'POST' : 'GET'} ${url.pathname}${url.search} HTTP/1.0\r\n${headerLines.join('')}\r\n${call.post?.body ?? ''}`;
  const maxBytes = call.maxBytes ?? 4 * 1024 * 1024;
  // node:tls only for https: (loading it is a few ms of every start).
  const tls = secure ? await import('node:tls') : undefined;
  try {
    return await new Promise<HttpAnswer>((resolve, reject) => {
      const socket = tls ? tls.connect({ host, port, servername: net.isIP(host) ? '' : host, ...call.tls }) : net.connect({ host, port });
      const chunks: Buffer[] = [];
      let received = 0;
      let settled = false;
      const finish = (error: unknown, answer?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        limit.dispose();
        socket.destroy();
        if (answer) resolve(answer);
        else reject(error instanceof Error ? error : new Error(String(error)));
      };
      const limit = deadline(call.timeoutMs, call.signal);
      const onAbort = () => finish(limit.timedOut() ? timeoutError(call.source, what, endpoint, call.timeoutMs) : call.signal?.reason);
      if (limit.signal.aborted) onAbort();
      else limit.signal.addEventListener('abort', onAbort, { once: true });
      socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(requestText));
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) finish(new ServiceError(call.source, 'malformed', `${what} answered more than ${maxBytes} bytes`, endpoint));
        else chunks.push(chunk);
      });
      socket.once('end', () => {
        const raw = Buffer.concat(chunks);
        const headerEnd = raw.indexOf('\r\n\r\n');
        const head = raw.subarray(0, headerEnd < 0 ? raw.length : headerEnd).toString('latin1');
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        if (!status) {
          if (raw.length === 0) finish(new ServiceError(call.source, 'unreachable', `${what} closed the connection before answering`, endpoint));
          else finish(new NotHttp10(head.slice(0, 80)));
          return;
        }
        if (/^transfer-encoding:\s*chunked/im.test(head)) {
          finish(new NotHttp10('chunked'));
          return;
        }
        const length = /^content-length:\s*(\d+)/im.exec(head);
        let body = raw.subarray(headerEnd + 4);
        if (length) body = body.subarray(0, Number(length[1]));
        finish(undefined, { status: Number(status[1]), text: body.toString('utf8'), endpoint });
      });
      socket.once('error', (error) => finish(networkError(call.source, what, endpoint, error)));
      socket.once('close', () => finish(new ServiceError(call.source, 'unreachable', `${what} closed the connection before answering`, endpoint)));
    });
  } catch (error) {
    if (!(error instanceof NotHttp10)) throw error;
    const { post, ...rest } = call;
    return httpCall({ ...rest, agent: fallback, ...(post ? { method: 'POST', body: post.body, headers: { ...call.headers, 'content-type': post.contentType } } : { method: 'GET' }) });
  }
}
