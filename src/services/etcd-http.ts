import { setTimeout as sleep } from 'node:timers/promises';
import '../util/zod-setup.js';
import * as z from 'zod/mini';
import { decodePatroniKeys, quorumState, scopePrefix } from './etcd.js';
import type { HttpAgent } from './http.js';
import { createAgent, httpGetOnce, parseJson } from './http.js';
import type { CallOptions, DcsView, DcsWatchEvent, EtcdClusterHealth, EtcdMemberHealth } from './types.js';
import { ServiceError } from './types.js';

/**
 * etcd's v3 API through its JSON gateway (`POST /v3/kv/range`, `/v3/lease/timetolive`,
 * `/v3/cluster/member/list`, `/v3/maintenance/status`), on the HTTP client the Patroni adapter already loads.
 * The same answers as EtcdAdapter without loading gRPC and protobuf (a third of a one-shot command's start-up,
 * ~35 MB of the cockpit's memory), and a watch over the gateway's streamed `POST /v3/watch`. No
 * authentication (a config with an etcd user keeps EtcdAdapter).
 */

const int64 = z.pipe(z.union([z.string(), z.number()]), z.transform((v: string | number) => String(v)));
const header = z.looseObject({ revision: z.optional(int64), member_id: z.optional(int64) });
const rangeSchema = z.looseObject({
  header,
  kvs: z.optional(z.array(z.looseObject({ key: z.string(), value: z.optional(z.string()), mod_revision: z.optional(int64), lease: z.optional(int64) }))),
});
const leaseSchema = z.looseObject({ TTL: z.optional(int64), grantedTTL: z.optional(int64) });
const memberListSchema = z.looseObject({
  members: z.optional(z.array(z.looseObject({ ID: z.optional(int64), name: z.optional(z.string()), clientURLs: z.optional(z.array(z.string())), peerURLs: z.optional(z.array(z.string())), isLearner: z.optional(z.boolean()) }))),
});
const statusSchema = z.looseObject({ header, leader: z.optional(int64), errors: z.optional(z.array(z.string())) });
const watchMessageSchema = z.looseObject({
  result: z.optional(
    z.looseObject({
      header: z.optional(header),
      created: z.optional(z.boolean()),
      canceled: z.optional(z.boolean()),
      compact_revision: z.optional(int64),
      cancel_reason: z.optional(z.string()),
      events: z.optional(z.array(z.looseObject({ type: z.optional(z.string()), kv: z.looseObject({ key: z.string(), value: z.optional(z.string()), mod_revision: z.optional(int64) }) }))),
    }),
  ),
  error: z.optional(z.looseObject({ message: z.optional(z.string()) })),
});

/** Wait between reconnections of the watch: from WATCH_RETRY_MS doubling up to WATCH_RETRY_MAX_MS. */
const WATCH_RETRY_MS = 250;
const WATCH_RETRY_MAX_MS = 5000;

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined) => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The end of a prefix range: the prefix with its last byte incremented (etcd's WithPrefix). */
function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i -= 1) {
    if ((bytes[i] as number) < 0xff) {
      bytes[i] = (bytes[i] as number) + 1;
      return bytes.subarray(0, i + 1).toString('base64');
    }
  }
  return b64('\0');
}

export class EtcdHttpReader {
  private readonly agent: HttpAgent;

  constructor(private readonly options: { endpoints: string[]; timeoutMs: number }) {
    this.agent = createAgent();
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** POST a gateway call to one endpoint; a status other than 200 is a 'failed' ServiceError. */
  private async post<S extends z.ZodMiniType>(endpoint: string, path: string, body: unknown, schema: S, options: CallOptions & { timeoutMs: number }): Promise<z.output<S>> {
    // One HTTP/1.0 request on its own connection (Node's sockets): a one-shot command reads etcd without
    // loading undici (a third of its modules by size); the watch's stream stays on undici.
    const answer = await httpGetOnce(
      {
        source: 'etcd',
        peer: 'etcd',
        url: `${endpoint.replace(/\/+$/, '')}${path}`,
        post: { body: JSON.stringify(body), contentType: 'application/json' },
        timeoutMs: options.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      this.agent,
    );
    if (answer.status !== 200) {
      throw new ServiceError('etcd', answer.status === 401 ? 'auth' : 'failed', `etcd ${answer.endpoint} answered ${answer.status} to ${path}: ${answer.text.trim().slice(0, 200)}`, answer.endpoint);
    }
    return parseJson('etcd', `etcd ${answer.endpoint} ${path}`, answer.endpoint, answer.text, schema);
  }

  /** The first endpoint that answers (in the configured order), as etcd3 would fail over. */
  private async any<T>(what: string, options: CallOptions, call: (endpoint: string, o: CallOptions & { timeoutMs: number }) => Promise<T>): Promise<T> {
    const deadlineAt = Date.now() + (options.timeoutMs ?? this.options.timeoutMs);
    let last: unknown;
    for (const endpoint of this.options.endpoints) {
      const left = deadlineAt - Date.now();
      if (left <= 0) break;
      try {
        return await call(endpoint, { ...options, timeoutMs: left });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        last = error;
      }
    }
    if (last instanceof ServiceError) throw new ServiceError('etcd', last.kind, `${last.message} (${what})`, last.endpoint, { cause: last });
    throw last ?? new ServiceError('etcd', 'timeout', `etcd timed out (${what})`);
  }

  /** All of Patroni's keys of one scope in one range read, plus the leader key's lease and its remaining TTL. */
  async readPatroniKeys(namespace: string, scope: string, options: CallOptions = {}): Promise<DcsView> {
    const prefix = scopePrefix(namespace, scope);
    return this.any(`reading ${prefix}`, options, async (endpoint, o) => {
      const range = await this.post(endpoint, '/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) }, rangeSchema, o);
      const keys: Record<string, string> = {};
      let leaderKv: NonNullable<typeof range.kvs>[number] | undefined;
      for (const kv of range.kvs ?? []) {
        const name = unb64(kv.key).slice(prefix.length);
        keys[name] = unb64(kv.value);
        if (name === 'leader') leaderKv = kv;
      }
      const view = decodePatroniKeys(keys, Number(range.header.revision ?? 0));
      if (view.leader && leaderKv) {
        if (leaderKv.mod_revision !== undefined) view.leader.modRevision = Number(leaderKv.mod_revision);
        if (leaderKv.lease && leaderKv.lease !== '0') {
          view.leader.leaseId = leaderKv.lease;
          try {
            const ttl = await this.post(endpoint, '/v3/lease/timetolive', { ID: leaderKv.lease, keys: false }, leaseSchema, o);
            const remaining = Number(ttl.TTL ?? -1);
            view.leader.leaseTtlSeconds = remaining < 0 ? 0 : remaining;
            if (ttl.grantedTTL !== undefined) view.leader.leaseGrantedTtlSeconds = Number(ttl.grantedTTL);
          } catch {
            // The key was read; a TTL we could not read stays undefined rather than failing the whole view.
          }
        }
      }
      return view;
    });
  }

  /**
   * Watch /<namespace>/<scope>/ through the gateway's streamed `POST /v3/watch` (one JSON message per line) and
   * call `onChange` on every put (with its value) and delete, and on connection changes. A broken stream is
   * reopened on the next endpoint, from the revision after the last one seen (after a compaction, from now:
   * the `connected` that follows tells the caller to read everything again). Returns a disposer.
   */
  watchScope(namespace: string, scope: string, onChange: (event: DcsWatchEvent) => void): () => Promise<void> {
    const prefix = scopePrefix(namespace, scope);
    const controller = new AbortController();
    const emit = (event: DcsWatchEvent) => {
      if (controller.signal.aborted) return;
      try {
        onChange(event);
      } catch {
        // A listener's own failure must not kill the watch.
      }
    };
    let nextRevision: number | undefined;
    const streamOnce = async (endpoint: string): Promise<void> => {
      const createRequest: Record<string, unknown> = { key: b64(prefix), range_end: prefixEnd(prefix) };
      if (nextRevision !== undefined) createRequest.start_revision = String(nextRevision);
      const response = await this.agent.request(`${endpoint.replace(/\/+$/, '')}/v3/watch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ create_request: createRequest }),
        signal: controller.signal,
        headersTimeout: this.options.timeoutMs,
        // The stream is quiet while nothing changes: no body timeout.
        bodyTimeout: 0,
      });
      if (response.statusCode !== 200) {
        const text = await response.body.text();
        throw new ServiceError('etcd', 'failed', `etcd ${endpoint} answered ${response.statusCode} to /v3/watch: ${text.trim().slice(0, 200)}`, endpoint);
      }
      let pending = '';
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        pending += chunk.toString('utf8');
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line) {
            this.watchMessage(line, prefix, endpoint, emit, (revision, created) => {
              // A resumed stream replays from nextRevision after `created`: keep it until the events come.
              if (!created || nextRevision === undefined) nextRevision = revision;
              failures = 0;
            });
          }
        }
      }
      throw new ServiceError('etcd', 'unreachable', `etcd ${endpoint} closed the watch stream`, endpoint);
    };
    let failures = 0;
    void (async () => {
      for (let attempt = 0; !controller.signal.aborted; attempt += 1) {
        const endpoint = this.options.endpoints[attempt % this.options.endpoints.length] as string;
        try {
          await streamOnce(endpoint);
        } catch (error) {
          if (controller.signal.aborted) break;
          if (error instanceof CompactedError) nextRevision = undefined;
          emit({ kind: 'disconnected', error: error instanceof Error ? error.message : String(error) });
        }
        // Reconnect at once after a stream that was up; back off while the endpoints keep failing.
        failures += 1;
        const wait = Math.min(WATCH_RETRY_MAX_MS, WATCH_RETRY_MS * 2 ** (failures - 1));
        // (The timer's own abort handling: no listener left on the signal per retry.)
        await sleep(wait, undefined, { signal: controller.signal }).catch(() => undefined);
      }
    })();
    return async () => {
      controller.abort();
    };
  }

  /** One message of the watch stream: created, events (revision moves on), canceled (compacted) or an error. */
  private watchMessage(line: string, prefix: string, endpoint: string, emit: (event: DcsWatchEvent) => void, seen: (nextRevision: number, created: boolean) => void): void {
    const message = parseJson('etcd', `etcd ${endpoint} /v3/watch`, endpoint, line, watchMessageSchema);
    if (message.error) throw new ServiceError('etcd', 'failed', `etcd ${endpoint} ended the watch: ${message.error.message ?? 'error'}`, endpoint);
    const result = message.result;
    if (!result) return;
    if (result.canceled) {
      const why = result.compact_revision !== undefined ? `history compacted to revision ${result.compact_revision}` : (result.cancel_reason ?? 'canceled');
      throw new CompactedError('etcd', 'failed', `etcd ${endpoint} canceled the watch (${why})`, endpoint);
    }
    if (result.created) {
      if (result.header?.revision !== undefined) seen(Number(result.header.revision) + 1, true);
      emit({ kind: 'connected' });
      return;
    }
    for (const event of result.events ?? []) {
      const key = unb64(event.kv.key);
      const revision = Number(event.kv.mod_revision ?? result.header?.revision ?? 0);
      const kind = event.type === 'DELETE' ? 'delete' : 'put';
      emit({ kind, key, name: key.slice(prefix.length), revision, ...(kind === 'put' ? { value: unb64(event.kv.value) } : {}) });
      // Resume after the last event delivered (not the header's revision, which may run ahead of it).
      if (revision > 0) seen(revision + 1, false);
    }
  }

  /** Each member's health, asked of the member itself: healthy when it answers status and knows a raft leader. */
  async clusterHealth(options: CallOptions = {}): Promise<EtcdClusterHealth> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const listTimeoutMs = Math.max(100, Math.floor(timeoutMs * 0.4));
    const probeTimeoutMs = Math.max(100, Math.floor(timeoutMs * 0.5));
    let members: Array<{ name: string; endpoint: string }>;
    try {
      const list = await this.any('listing members', { ...options, timeoutMs: listTimeoutMs }, (endpoint, o) => this.post(endpoint, '/v3/cluster/member/list', {}, memberListSchema, o));
      members = (list.members ?? [])
        .filter((m) => !m.isLearner)
        .map((m) => ({ name: m.name || (m.ID ?? '?'), endpoint: m.clientURLs?.[0] ?? m.peerURLs?.[0] ?? m.ID ?? '?' }));
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      members = this.options.endpoints.map((endpoint) => ({ name: endpoint, endpoint }));
    }
    const results = await Promise.all(members.map((m) => this.memberHealth(m, { ...options, timeoutMs: probeTimeoutMs })));
    return { members: results, quorum: quorumState(results.length, results.filter((r) => r.healthy).length) };
  }

  private async memberHealth(member: { name: string; endpoint: string }, options: CallOptions & { timeoutMs: number }): Promise<EtcdMemberHealth> {
    const health: EtcdMemberHealth = { name: member.name, endpoint: member.endpoint, healthy: false };
    try {
      const status = await this.post(member.endpoint, '/v3/maintenance/status', {}, statusSchema, options);
      const leader = status.leader ?? '0';
      if (leader === '0' || leader === '') {
        health.error = 'has no raft leader (the cluster has lost quorum from its point of view)';
      } else if (status.errors?.length) {
        health.error = status.errors.join('; ');
      } else {
        health.healthy = true;
      }
      health.isLeader = leader !== '0' && leader === status.header.member_id;
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      health.error = `${error.message} (status)`;
    }
    return health;
  }
}

/** The watch was canceled because the revision it asked for is compacted away: resume from now. */
class CompactedError extends ServiceError {}
