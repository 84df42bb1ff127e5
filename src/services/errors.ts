import type { SourceName } from './types.js';
import { ServiceError } from './types.js';

/**
 * Shared failure vocabulary of the adapters: turn what Node, undici, pg or a child process threw into a
 * ServiceError whose message an operator understands ("… refused the connection", "… timed out after 2000 ms").
 * Messages name the endpoint (an URL origin, host:port or a transport), never a password.
 */

/** The error code of a Node/undici error, looking through `cause` chains and AggregateErrors. */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length) {
      const inner = errorCode(errors[0]);
      if (inner) return inner;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}

/**
 * A network-level failure (no answer at all), described by its code. `what` is the operator's name for the
 * peer, e.g. "Patroni REST http://127.0.0.1:8002" or "PostgreSQL db1 (127.0.0.1:15431)".
 */
export function networkError(source: SourceName, what: string, endpoint: string, error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? firstLine(error.message) : String(error);
  const say = (kind: ServiceError['kind'], text: string) => new ServiceError(source, kind, `${what} ${text}`, endpoint, { cause: error });
  switch (code) {
    case 'ECONNREFUSED':
      return say('unreachable', 'refused the connection');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return say('unreachable', 'is not a known host name (DNS lookup failed)');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return say('unreachable', 'is not reachable (no route to host)');
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return say('unreachable', 'closed the connection before answering');
    case 'ENOENT':
      return say('unreachable', 'is not there (no such socket or file)');
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return say('timeout', 'did not answer in time');
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return say('unreachable', `failed TLS verification (${code}: ${message})`);
    default:
      return say('unreachable', `could not be reached (${code ? `${code}: ` : ''}${message})`);
  }
}

export function timeoutError(source: SourceName, what: string, endpoint: string | undefined, timeoutMs: number): ServiceError {
  return new ServiceError(source, 'timeout', `${what} timed out after ${timeoutMs} ms`, endpoint);
}

/**
 * A deadline for one call: the caller's AbortSignal combined with a timeout. `timedOut()` tells a timeout
 * from the caller's own abort (which is re-thrown as is: cancelling is not a failure of the source).
 */
export interface Deadline {
  signal: AbortSignal;
  timeoutMs: number;
  timedOut: () => boolean;
  dispose: () => void;
}

export function deadline(timeoutMs: number, callerSignal?: AbortSignal): Deadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  timer.unref?.();
  // The caller's abort passes on through a listener removed at dispose (cheaper than AbortSignal.any, which
  // every poll would pay for).
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    timeoutMs,
    timedOut: () => expired && !callerSignal?.aborted,
    dispose: () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}

/**
 * Run `work` under a deadline; when the deadline passes first, reject with the timeout error (and let
 * `onTimeout` tear the work down). When the caller aborts, reject with the caller's reason.
 */
export async function withDeadline<T>(
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  onTimeout: () => ServiceError,
  work: (signal: AbortSignal) => Promise<T>,
  teardown?: () => void,
): Promise<T> {
  callerSignal?.throwIfAborted();
  const d = deadline(timeoutMs, callerSignal);
  try {
    return await new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        teardown?.();
        reject(d.timedOut() ? onTimeout() : (callerSignal?.reason ?? d.signal.reason));
      };
      d.signal.addEventListener('abort', onAbort, { once: true });
      work(d.signal).then(
        (value) => {
          d.signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          d.signal.removeEventListener('abort', onAbort);
          if (d.signal.aborted) onAbort();
          else reject(error);
        },
      );
    });
  } finally {
    d.dispose();
  }
}

/** "members[1].role: expected string" — the first problems of a zod validation, for a 'malformed' error. */
export function describeIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      return `${where || '(top level)'}: ${issue.message}`;
    })
    .join('; ');
}
