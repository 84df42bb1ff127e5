import pg from 'pg';
import { inject } from 'vitest';
import { labSuperuserPassword, readLabTopology, runLabBarman } from '../../src/lab/lab.js';
import type { LabTopology } from '../../src/lab/topology.js';

/** The shared test lab's topology (brought up by test/global-setup.ts). */
export function testLab(): LabTopology {
  return readLabTopology(inject('labDir'));
}

/** A connected pg client to a port of the lab, as the superuser. Close it with `end()`. */
export async function labClient(topology: LabTopology, port: number): Promise<pg.Client> {
  const client = new pg.Client({
    host: topology.host,
    port,
    user: 'postgres',
    password: labSuperuserPassword(topology),
    database: 'postgres',
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  return client;
}

export async function labQuery<T extends pg.QueryResultRow>(topology: LabTopology, port: number, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = await labClient(topology, port);
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export { runLabBarman };
