import type { MemberView } from '../model/snapshot.js';
import type { PatroniMemberStatus } from '../services/types.js';
import type { OpsContext } from './context.js';
import { WaitTimeoutError, formatMs, waitUntil } from './wait.js';

/**
 * The verifications operations end with, each awaiting a condition on the real sources: the leader key in
 * etcd (woken by the etcd watch), a member's own /patroni, the leader's replication (its /patroni), and a
 * fresh connection through the HAProxy write port. Each resolves with a sentence of what was verified.
 */

/** Wake on etcd watch events whose key name passes the filter (e.g. the leader key). */
export function dcsWake(context: OpsContext, filter: (name: string) => boolean): (notify: () => void) => () => void {
  return (notify) => {
    const dispose = context.watchDcs((event) => {
      if ((event.kind === 'put' || event.kind === 'delete') && filter(event.name)) notify();
      if (event.kind === 'connected') notify();
    });
    return () => void dispose().catch(() => undefined);
  };
}

export async function leaderKeyHeldBy(context: OpsContext, expected: (holder: string | undefined) => boolean, what: string, signal: AbortSignal, timeoutMs: number): Promise<string | undefined> {
  let seen: string | undefined;
  const holder = await waitUntil(
    what,
    async () => {
      seen = await context.readLeaderKey({ signal, timeoutMs: 3000 });
      return expected(seen) ? { holder: seen } : undefined;
    },
    {
      signal,
      timeoutMs,
      intervalMs: Math.max(500, context.timeouts.pollIntervalMs),
      wake: dcsWake(context, (name) => name === 'leader'),
      describe: () => `leader key held by ${seen ?? 'nobody'}`,
    },
  );
  return holder.holder;
}

function isLeaderRole(status: PatroniMemberStatus): boolean {
  return status.role === 'leader';
}

/** The member answers its /patroni as a running leader; returns its status. */
export async function memberRunsAsLeader(context: OpsContext, member: MemberView, signal: AbortSignal): Promise<PatroniMemberStatus> {
  if (!member.apiUrl) throw new Error(`${member.name} has no REST API URL`);
  const apiUrl = member.apiUrl;
  let seen = 'no answer yet';
  return waitUntil(
    `${member.name} to run as the leader`,
    async () => {
      const status = await context.patroni.getMemberStatus(apiUrl, { signal, timeoutMs: 3000 });
      seen = `role ${status.rawRole || status.role}, state ${status.rawState || status.state}`;
      return isLeaderRole(status) && status.state === 'running' && status.replayPaused !== true ? status : undefined;
    },
    { signal, timeoutMs: context.timeouts.newLeaderRunningMs, intervalMs: context.timeouts.pollIntervalMs, describe: () => seen },
  );
}

/** The leader's /patroni lists the replica as streaming (what `patronictl list` can't tell on Patroni 3.0). */
export async function replicaStreamsFrom(context: OpsContext, leader: MemberView, replica: string, signal: AbortSignal, timeoutMs = context.timeouts.streamingMs): Promise<string> {
  if (!leader.apiUrl) throw new Error(`${leader.name} has no REST API URL`);
  const apiUrl = leader.apiUrl;
  let seen = 'no answer yet';
  await waitUntil(
    `${replica} to stream from ${leader.name}`,
    async () => {
      const status = await context.patroni.getMemberStatus(apiUrl, { signal, timeoutMs: 3000 });
      const row = status.replication.find((r) => r.applicationName === replica);
      seen = row ? `${replica} replication state ${row.state}` : `${leader.name} lists no replication from ${replica}`;
      return row?.state === 'streaming' ? true : undefined;
    },
    { signal, timeoutMs, intervalMs: context.timeouts.pollIntervalMs, describe: () => seen },
  );
  return `${leader.name} reports ${replica} streaming`;
}

/**
 * A fresh connection through the HAProxy write port lands on the member (inet_server_port() is its port),
 * is not in recovery, and takes a write (a transaction id is assigned). Attempts overlap: a new one starts
 * every poll interval even while earlier ones hang (a connection HAProxy queued for the old leader can
 * take seconds to fail), so the first connection that can reach the new leader is the one that reports.
 */
export async function writePortReaches(context: OpsContext, member: MemberView, signal: AbortSignal): Promise<string> {
  const probe = context.probeWritePort;
  const write = context.cluster.haproxy?.write;
  if (!probe || !write) throw new Error('no HAProxy write port is configured');
  if (member.port === undefined) throw new Error(`the PostgreSQL port of ${member.name} is unknown`);
  const port = member.port;
  const what = `the HAProxy write port ${write.host}:${write.port} to reach ${member.name}`;
  const timeoutMs = context.timeouts.writePortMs;
  const maxInFlight = 8;
  const controller = new AbortController();
  const attemptSignal = AbortSignal.any([signal, controller.signal]);
  let seen = 'no answer yet';
  let inFlight = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = false;
      const finish = (error?: unknown) => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        clearTimeout(deadline);
        signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const attempt = () => {
        if (finished || inFlight >= maxInFlight) return;
        inFlight++;
        probe({ signal: attemptSignal, timeoutMs: 2000 }).then(
          (answer) => {
            inFlight--;
            seen = `reached port ${answer.serverPort}${answer.inRecovery ? ' (in recovery)' : ''}`;
            if (!answer.inRecovery && answer.serverPort === port && answer.wrote) finish();
          },
          (error: unknown) => {
            inFlight--;
            if (!finished) seen = error instanceof Error ? error.message : String(error);
          },
        );
      };
      const onAbort = () => finish(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = setInterval(attempt, Math.max(50, context.timeouts.pollIntervalMs));
      const deadline = setTimeout(() => finish(new WaitTimeoutError(`timed out after ${formatMs(timeoutMs)} waiting for ${what} (last seen: ${seen})`)), timeoutMs);
      attempt();
    });
  } finally {
    // Stop the attempts still hanging.
    controller.abort(new Error('verified'));
  }
  return `${write.host}:${write.port} reaches ${member.name} (port ${port}, pg_is_in_recovery() false, write accepted)`;
}
