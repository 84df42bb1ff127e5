import pg from 'pg';
import { readSecret } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import { DockerEngine } from '../services/docker.js';
import { PG_BIN_DIR } from '../lab/prerequisites.js';
import type { BarmanAdapter } from '../services/barman.js';
import type { SideRestoreRecord } from '../services/restore.js';
import {
  CONTAINER_RESTORES_DIR,
  RestoreRegistry,
  THROWAWAY_HBA,
  barmanRecover,
  newRestoreId,
  parseControlData,
  passwordReference,
  recoveryLines,
  recoveryStopLine,
  restoreUri,
  restoresDir,
  throwawayConfig,
} from '../services/restore.js';
import { barmanTargetArgs, describeTarget } from './pitr-target.js';
import type { OpsContext } from './context.js';
import { log, stepEnded, stepStarted } from './steps.js';
import type { OperationEvent } from './types.js';
import { waitUntil } from './wait.js';
import type { PitrParams, PitrResult } from './pitr.js';

/**
 * The side restore where Barman runs in a container (barman.transport kind docker): `barman recover` into
 * a directory of the Barman container, a throwaway PostgreSQL there (the image carries the server binaries),
 * on a port the container publishes, so the operator reaches it from this machine; Barman's account runs
 * it (PostgreSQL only refuses root). Its configuration is the native side restore's (own port, socket
 * directory, hba/ident files, no archive_command, no primary_conninfo) but for listening on the container's
 * interfaces (the published port) and a peer mapping that lets Barman's account connect as the superuser.
 */


const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export interface ContainerRestoreContext {
  container: string;
  user?: string;
  socket?: string;
  engine: DockerEngine;
}

export function containerRestoreContext(cluster: ClusterConfig): ContainerRestoreContext | undefined {
  const transport = cluster.barman?.transport;
  if (transport?.kind !== 'docker') return undefined;
  const socket = transport.socket ?? cluster.docker?.socket;
  return {
    container: transport.container,
    ...(transport.user ? { user: transport.user } : {}),
    ...(socket ? { socket } : {}),
    engine: new DockerEngine({ ...(socket ? { socket } : {}), timeoutMs: 60_000 }, 'barman'),
  };
}

async function sh(ctx: ContainerRestoreContext, script: string, args: string[], signal?: AbortSignal, timeoutMs = 120_000): Promise<string> {
  const result = await ctx.engine.exec(ctx.container, ['sh', '-c', script, 'sh', ...args], { timeoutMs, ...(ctx.user ? { user: ctx.user } : {}), ...(signal ? { signal } : {}), env: ['LC_ALL=C'] });
  if (result.code !== 0) throw new Error(`in ${ctx.container}: ${script.split('\n')[0]} … exited ${result.code}: ${(result.stderr || result.stdout).trim().slice(-500)}`);
  return result.stdout;
}

/** The host ports of this container's restores whose server still runs (a record outliving its stack frees its port). */
async function portsInUse(ctx: ContainerRestoreContext, registry: RestoreRegistry): Promise<number[]> {
  const used: number[] = [];
  for (const r of registry.list()) {
    if (r.status === 'failed' || r.status === 'stopped') continue;
    if (r.container !== ctx.container) {
      used.push(r.port);
      continue;
    }
    const alive = await ctx.engine.exec(ctx.container, [`${PG_BIN_DIR}/pg_ctl`, '-D', r.dataDir, 'status'], { timeoutMs: 30_000, ...(ctx.user ? { user: ctx.user } : {}) }).catch(() => undefined);
    if (alive?.code === 0) used.push(r.port);
  }
  return used;
}

/** A published port of the Barman container that no running restore uses. */
async function pickPort(ctx: ContainerRestoreContext, used: number[]): Promise<{ containerPort: number; hostPort: number }> {
  const published = await ctx.engine.publishedPorts(ctx.container);
  const free = published.find((p) => !used.includes(p.hostPort));
  if (!free) {
    throw new Error(
      `the Barman container ${ctx.container} publishes no free port for a side restore (published: ${published.map((p) => `${p.hostPort}→${p.containerPort}`).join(', ') || 'none'}); remove a restore or publish more ports`,
    );
  }
  return free;
}

export async function* runContainerSideRestore(
  context: OpsContext,
  validated: { barman: BarmanAdapter; backupId: string; target: Parameters<typeof describeTarget>[0] },
  _params: PitrParams,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv,
): AsyncGenerator<OperationEvent, PitrResult> {
  const ctx = containerRestoreContext(context.cluster) as ContainerRestoreContext;
  const { barman, backupId, target } = validated;
  const registry = new RestoreRegistry(restoresDir(context.cluster, env));
  const id = newRestoreId(context.now());
  const dir = `${CONTAINER_RESTORES_DIR}/${id}`;
  const dataDir = `${dir}/data`;
  const logFile = `${dir}/postgres.log`;
  const server = context.cluster.barman?.server as string;
  const port = await pickPort(ctx, await portsInUse(ctx, registry));
  const record: SideRestoreRecord = {
    id,
    cluster: context.cluster.name,
    server,
    backupId,
    target: describeTarget(target),
    dir,
    dataDir,
    logFile,
    host: '127.0.0.1',
    port: port.hostPort,
    user: context.cluster.postgres.user,
    database: context.cluster.postgres.database,
    passwordRef: passwordReference(context.cluster),
    status: 'restoring',
    createdAt: new Date(context.now()).toISOString(),
    container: ctx.container,
    ...(ctx.user ? { containerUser: ctx.user } : {}),
    ...(ctx.socket ? { dockerSocket: ctx.socket } : {}),
  };
  registry.put(record);
  const fail = (error: unknown): never => {
    const message = error instanceof Error ? error.message : String(error);
    registry.put({ ...record, status: 'failed', error: message });
    throw new Error(`${message} (the restore ${id} is kept in ${ctx.container}:${dir} for inspection: remove it with \`pgcockpit restores remove ${id}\`)`, { cause: error });
  };

  const recover = stepStarted(context, 'recover', `barman recover ${backupId} into ${ctx.container}:${dataDir}`);
  yield recover;
  try {
    await sh(ctx, 'mkdir -p "$1" && chmod 0700 "$1"', [dir], signal);
    const recovered = await barmanRecover(barman, { server, backupId, targetArgs: barmanTargetArgs(target), destination: dataDir }, { signal });
    for (const change of recovered.changes) yield log(`barman changed ${change}`);
    yield stepEnded(context, recover, 'done', `restored${recovered.elapsedSeconds !== undefined ? ` in ${recovered.elapsedSeconds.toFixed(1)} s` : ''}`);
  } catch (error) {
    fail(error);
  }

  const configure = stepStarted(context, 'configure', `its own configuration: port ${port.containerPort} (published as ${port.hostPort}), socket ${dir}, no archive_command, no primary_conninfo`);
  yield configure;
  try {
    const control = parseControlData(await sh(ctx, `${PG_BIN_DIR}/pg_controldata "$1"`, [dataDir], signal));
    const auto = await sh(ctx, 'cat "$1/postgresql.auto.conf" 2>/dev/null || true', [dataDir], signal);
    const conf = throwawayConfig(
      { port: port.containerPort, socketDir: dir, hbaFile: `${dataDir}/pg_hba.conf`, identFile: `${dataDir}/pg_ident.conf`, control, clusterName: `pgcockpit-${id}` },
      `side restore ${id} of cluster ${context.cluster.name} (in container ${ctx.container})`,
    ).replace(/^listen_addresses = .*$/m, "listen_addresses = '*'   # the container's interfaces: its published port");
    const hba = `${THROWAWAY_HBA.replace('local all all peer', 'local all all peer map=restore').replace('host all all 127.0.0.1/32 scram-sha-256', 'host all all 0.0.0.0/0 scram-sha-256')}`;
    const ident = `# pgcockpit restore: the container's accounts may connect as the superuser\nrestore ${ctx.user ?? 'root'} ${context.cluster.postgres.user}\nrestore ${ctx.user ?? 'root'} ${ctx.user ?? 'root'}\n`;
    const autoConf = ['# Recovery settings written by barman recover, kept by pgcockpit.', ...recoveryLines(auto), ''].join('\n');
    await sh(
      ctx,
      [
        'set -e',
        'd=$1',
        'for f in postgresql.conf postgresql.base.conf pg_hba.conf pg_ident.conf; do if [ -e "$d/$f" ]; then mv "$d/$f" "$d/$f.cluster-original"; fi; done',
        'printf %s "$2" > "$d/postgresql.conf"; printf %s "$3" > "$d/pg_hba.conf"; printf %s "$4" > "$d/pg_ident.conf"; printf %s "$5" > "$d/postgresql.auto.conf"',
        'chmod 0600 "$d/postgresql.conf" "$d/pg_hba.conf" "$d/pg_ident.conf" "$d/postgresql.auto.conf"',
        'rm -f "$d/patroni.dynamic.json" "$d/standby.signal"',
      ].join('\n'),
      [dataDir, conf, hba, ident, autoConf],
      signal,
    );
    yield stepEnded(context, configure, 'done', `${dataDir}/postgresql.conf written (the member's kept as *.cluster-original)`);
    const start = stepStarted(context, 'start', `start PostgreSQL in ${ctx.container} on port ${port.containerPort} (${record.host}:${port.hostPort} here)`);
    yield start;
    // -W: do not wait (recovery may take long; the next step waits on the server itself).
    await sh(ctx, `${PG_BIN_DIR}/pg_ctl -D "$1" -l "$2" -W start >/dev/null`, [dataDir, logFile], signal);
    record.status = 'recovering';
    registry.put(record);
    yield stepEnded(context, start, 'done', `log ${ctx.container}:${logFile}`);
  } catch (error) {
    fail(error);
  }

  const recovery = stepStarted(context, 'recovery', `replay WAL to ${describeTarget(target)} and promote`);
  yield recovery;
  let logText = '';
  try {
    const password = readSecret(context.cluster.postgres, env);
    const outcome = await waitUntil(
      `the restored server at ${record.host}:${record.port} to finish recovery`,
      async (): Promise<{ stopped?: string } | undefined> => {
        const alive = await ctx.engine.exec(ctx.container, [`${PG_BIN_DIR}/pg_ctl`, '-D', dataDir, 'status'], { ...(ctx.user ? { user: ctx.user } : {}), signal, timeoutMs: 30_000 });
        if (alive.code !== 0) {
          const tail = await sh(ctx, 'tail -n 20 "$1" 2>/dev/null || true', [logFile], signal);
          return { stopped: tail.trim().split('\n').slice(-5).join(' | ') };
        }
        const client = new pg.Client({ host: record.host, port: record.port, user: record.user, database: record.database, password, connectionTimeoutMillis: 3000, query_timeout: 5000 });
        client.on('error', () => undefined);
        try {
          await client.connect();
          const { rows } = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
          return rows[0]?.r === false ? {} : undefined;
        } catch {
          return undefined;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { signal, timeoutMs: 3600_000, intervalMs: 1000 },
    );
    if (outcome.stopped !== undefined) throw new Error(`the restored server stopped: ${outcome.stopped}`);
    logText = await sh(ctx, 'cat "$1"', [logFile], signal);
  } catch (error) {
    await sh(ctx, `${PG_BIN_DIR}/pg_ctl -D "$1" stop -m immediate >/dev/null 2>&1 || true`, [dataDir]).catch(() => undefined);
    fail(error);
  }
  const stoppedAt = recoveryStopLine(logText);
  record.status = 'running';
  if (stoppedAt) record.stoppedAt = stoppedAt;
  registry.put(record);
  yield stepEnded(context, recovery, 'done', stoppedAt ?? 'promoted');
  const uri = restoreUri(record);
  const user = ctx.user ? `-u ${ctx.user} ` : '';
  return {
    outcome: 'done',
    summary: `side restore ${id} runs at ${uri} (password: ${record.passwordRef}), in container ${ctx.container}; ${describeTarget(target)} from backup ${backupId}`,
    details: {
      backupId,
      target: describeTarget(target),
      restore: record,
      uri,
      passwordRef: record.passwordRef,
      ...(stoppedAt ? { stoppedAt } : {}),
      stop: `docker exec ${user}${ctx.container} ${PG_BIN_DIR}/pg_ctl -D ${q(dataDir)} stop -m fast`,
      remove: `pgcockpit restores remove ${id}`,
    },
  };
}

