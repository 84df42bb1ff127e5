import fs from 'node:fs';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { describeIssues, deadline, networkError, timeoutError } from './errors.js';
import type { SourceName } from './types.js';
import { ServiceError } from './types.js';
import type { z } from 'zod';

/** HTTP plumbing shared by the Patroni and HAProxy adapters (undici, one Agent per adapter). */

export interface HttpTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecure?: boolean;
}

export function createAgent(tls?: HttpTls): Agent {
  const read = (file: string | undefined, what: string) => {
    if (!file) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
    }
  };
  if (!tls) return new Agent({ keepAliveTimeout: 10_000 });
  const ca = read(tls.caFile, 'CA file');
  const cert = read(tls.certFile, 'certificate');
  const key = read(tls.keyFile, 'key');
  return new Agent({
    keepAliveTimeout: 10_000,
    connect: {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      rejectUnauthorized: !tls.insecure,
    },
  });
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
  dispatcher: Dispatcher;
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
    const response = await request(call.url, {
      dispatcher: call.dispatcher,
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
export function parseJson<S extends z.ZodType>(source: SourceName, what: string, endpoint: string, text: string, schema: S): z.output<S> {
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
