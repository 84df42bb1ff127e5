import crypto from 'node:crypto';
import pg from 'pg';

export interface LoadTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface LoadOptions {
  target: LoadTarget;
  /** Commits per second to aim for. */
  ratePerSecond: number;
  /** Stop after this long; runs until the signal aborts when undefined. */
  durationMs?: number;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

export interface LoadProgress {
  runId: string;
  acknowledged: number;
  errors: number;
  reconnects: number;
  elapsedMs: number;
  lastError?: string;
}

export interface LoadReport extends LoadProgress {
  /** The sequence numbers whose COMMIT the server acknowledged: each must exist after any failover. */
  acknowledgedSeqs: number[];
}

export const LOAD_TABLE = 'pgcockpit_load';

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${LOAD_TABLE} (
  run_id text NOT NULL,
  seq bigint NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  payload text NOT NULL,
  PRIMARY KEY (run_id, seq)
)`;

function connect(target: LoadTarget): Promise<pg.Client> {
  const client = new pg.Client({ ...target, connectionTimeoutMillis: 3000, application_name: 'pgcockpit-lab-load' });
  client.on('error', () => undefined); // a dropped connection is seen by the next query
  return client.connect().then(() => client);
}

const pause = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * A steady write workload through the write port: one INSERT per transaction, each COMMIT acknowledged
 * or counted as an error. Across a switchover or failover it reconnects and goes on, so afterwards the
 * acknowledged sequence numbers can be checked against what the new leader holds (zero lost commits).
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const runId = `${new Date().toISOString()}-${crypto.randomBytes(3).toString('hex')}`;
  const started = Date.now();
  const interval = 1000 / Math.max(1, options.ratePerSecond);
  const acknowledgedSeqs: number[] = [];
  let errors = 0;
  let reconnects = 0;
  let lastError: string | undefined;
  let seq = 0;
  let client: pg.Client | undefined;
  let lastProgress = started;
  const done = () =>
    options.signal?.aborted === true || (options.durationMs !== undefined && Date.now() - started >= options.durationMs);
  const progress = (): LoadProgress => ({
    runId,
    acknowledged: acknowledgedSeqs.length,
    errors,
    reconnects,
    elapsedMs: Date.now() - started,
    ...(lastError ? { lastError } : {}),
  });

  try {
    while (!done()) {
      const tickStart = Date.now();
      try {
        if (!client) {
          client = await connect(options.target);
          await client.query(CREATE_TABLE);
        }
        seq += 1;
        const current = seq;
        await client.query(`INSERT INTO ${LOAD_TABLE} (run_id, seq, payload) VALUES ($1, $2, $3)`, [runId, current, 'x'.repeat(64)]);
        acknowledgedSeqs.push(current);
      } catch (error) {
        errors += 1;
        lastError = (error as Error).message;
        if (client) {
          reconnects += 1;
          void client.end().catch(() => undefined);
          client = undefined;
        }
        await pause(200, options.signal);
      }
      if (options.onProgress && Date.now() - lastProgress >= 1000) {
        lastProgress = Date.now();
        options.onProgress(progress());
      }
      const wait = interval - (Date.now() - tickStart);
      if (wait > 0) await pause(wait, options.signal);
    }
  } finally {
    await client?.end().catch(() => undefined);
  }
  return { ...progress(), acknowledgedSeqs };
}

/** How many acknowledged commits of a load run the server does not hold (0 = nothing lost). */
export async function countLostCommits(target: LoadTarget, report: LoadReport): Promise<{ present: number; lost: number }> {
  const client = await connect(target);
  try {
    const result = await client.query<{ present: string }>(
      `SELECT count(*) AS present FROM ${LOAD_TABLE} WHERE run_id = $1 AND seq = ANY($2::bigint[])`,
      [report.runId, report.acknowledgedSeqs],
    );
    const present = Number(result.rows[0]?.present ?? 0);
    return { present, lost: report.acknowledgedSeqs.length - present };
  } finally {
    await client.end();
  }
}
