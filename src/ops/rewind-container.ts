import type { ClusterConfig } from '../config/schema.js';
import type { SafetyCopy } from '../lab/restore-lab.js';
import { UNPAUSE_CACHE } from '../lab/restore-lab.js';
import { PG_BIN_DIR } from '../lab/prerequisites.js';
import { memberAddresses } from '../model/member-access.js';
import type { ClusterSnapshot } from '../model/snapshot.js';
import { BarmanAdapter } from '../services/barman.js';
import type { ContainerMount } from '../services/docker.js';
import { DockerEngine } from '../services/docker.js';
import { EtcdAdapter, scopePrefix } from '../services/etcd.js';
import { DockerTransport } from '../services/exec/docker.js';
import { barmanRecover, barmanSwitchWal, parseControlData, recoveryLines, recoveryStopLine, restoresDir, throwawayConfig } from '../services/restore.js';
import { SAFETY_SUFFIX, SafetyCopyRegistry } from '../services/safety-copies.js';
import type { BarmanBackup, ExecTransport } from '../services/types.js';
import type { OpsContext } from './context.js';
import type { PitrTarget } from './pitr-target.js';
import { barmanTargetArgs, describeTarget } from './pitr-target.js';
import type { PitrResult } from './pitr.js';
import { log, stepEnded, stepStarted, warning } from './steps.js';
import type { OperationEvent, Reason } from './types.js';
import { PreconditionError } from './types.js';
import { pauseForRewind, resumeAndVerifyRewind } from './rewind-steps.js';
import { waitUntil } from './wait.js';
import { compactStamp } from '../util/units.js';

/**
 * The cluster rewind where the members and Barman run in containers (the compose stack), through the
 * Docker Engine API, with the native rewind's guarantees and steps:
 *  - every member stops: PostgreSQL first (`pg_ctl stop -m fast` in its container: the cluster is paused,
 *    so Patroni leaves it stopped), then the container (Patroni exits). Stopping the container, not only
 *    Patroni, is what makes the data directory safe to move: nothing in it can start PostgreSQL again.
 *  - the data work runs in one short-lived helper container (Barman's image: barman and the PostgreSQL
 *    server binaries), no network, mounting Barman's volumes, the chosen leader's volumes at their own
 *    paths, and every other member's data volume under /var/lib/pgcockpit-rewind/<member>:
 *    each data directory is renamed aside inside its own volume (the safety copy: no data is copied, and
 *    it stays until removed); `barman recover` writes straight into the leader's volume (no SSH between
 *    containers, no transfer volume, no second copy); a throwaway PostgreSQL there replays WAL to the target,
 *    promotes, and archives the new timeline's history through the leader's own archive_command (its
 *    script and the WAL volume are mounted as in the member); then it stops cleanly.
 *  - a fresh cluster state in etcd, the leader's container started (Patroni adopts the restored data
 *    directory), then the others' (their data directory is gone: Patroni clones them from the leader).
 * The helper is removed at the end, also on failure; a failure leaves the members stopped (the cockpit shows
 * their containers exited) and says how to go back to the safety copies.
 */

/** Where the other members' data volumes are mounted in the helper. */
const OTHERS_ROOT = '/var/lib/pgcockpit-rewind';
/** Barman's home in its image (HOME for its runs in the helper). */
const CONTAINER_BARMAN_HOME = '/var/lib/barman';
/** The throwaway server's files in the helper (its own file system). */
const WORK = '/tmp/pgcockpit-rewind';

export interface ContainerMember {
  name: string;
  container: string;
}

/** The members of the snapshot and their containers, when every one runs in a container the config names. */
export function containerMembers(cluster: ClusterConfig, snapshot: ClusterSnapshot): ContainerMember[] | undefined {
  if (!snapshot.members.length) return undefined;
  const members: ContainerMember[] = [];
  for (const m of snapshot.members) {
    const container = cluster.members?.[m.name]?.container;
    if (!container) return undefined;
    members.push({ name: m.name, container });
  }
  return members;
}

/** Can the rewind run through the Docker API: Barman in a container and every member in one? */
export function canRewindInContainers(cluster: ClusterConfig, snapshot: ClusterSnapshot): boolean {
  return cluster.barman?.transport.kind === 'docker' && containerMembers(cluster, snapshot) !== undefined;
}

/** The plan's requests of a rewind through the Docker API. */
export function containerRewindRequests(cluster: ClusterConfig, members: ContainerMember[], leader: string, backupId: string): Array<{ method: 'PATCH' | 'POST' | 'EXEC' | 'DELETE'; url: string; body?: unknown; purpose: string }> {
  const containers = members.map((m) => m.container);
  const leaderContainer = members.find((m) => m.name === leader)?.container ?? '?';
  const barman = cluster.barman?.transport.kind === 'docker' ? cluster.barman.transport.container : '?';
  return [
    { method: 'PATCH', url: '/config', body: { pause: true }, purpose: 'pause the cluster' },
    { method: 'POST', url: `Docker API: exec pg_ctl stop -m fast, then /containers/{${containers.join(',')}}/stop`, purpose: 'stop every member (PostgreSQL, then its container)' },
    { method: 'POST', url: `Docker API /containers/create (${barman}'s image, no network, the members' volumes)`, purpose: 'a helper container for the data work' },
    { method: 'EXEC', url: 'mv <data dir> <data dir>.safety-<stamp> (each member, inside its volume)', purpose: 'keep a safety copy of every data directory' },
    { method: 'EXEC', url: `barman recover … ${backupId} → ${leader}'s data directory (in its volume)`, purpose: 'restore to the target (a throwaway server in the helper replays WAL and promotes)' },
    { method: 'DELETE', url: `etcd ${scopePrefix(cluster.namespace, cluster.scope)} (prefix)`, purpose: 'a fresh cluster state: Patroni adopts the restored data directory' },
    { method: 'POST', url: `Docker API /containers/${leaderContainer}/start, then the others'`, purpose: `bring the cluster back (the others clone from ${leader})` },
  ];
}

// ------------------------------------------------------------------ helpers

const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

interface MemberPlan extends ContainerMember {
  image: string;
  mounts: ContainerMount[];
  /** The data directory, as the member sees it. */
  dataDir: string;
  /** The mount that holds it, and the data directory as the helper sees it. */
  dataMount: ContainerMount;
  helperDataDir: string;
}

interface Owner {
  uid: number;
  gid: number;
  groups: string;
}

async function run(engine: DockerEngine, container: string, script: string, args: string[], options: { signal?: AbortSignal; timeoutMs?: number; user?: string } = {}): Promise<string> {
  const result = await engine.exec(container, ['sh', '-c', script, 'sh', ...args], { timeoutMs: options.timeoutMs ?? 120_000, user: options.user ?? 'root', ...(options.signal ? { signal: options.signal } : {}), env: ['LC_ALL=C'] });
  if (result.code !== 0) throw new Error(`in ${container}: ${script.split('\n')[0]?.slice(0, 120)} … exited ${result.code}: ${(result.stderr || result.stdout).trim().slice(-500)}`);
  return result.stdout;
}

/** The data directory's mount: the deepest one that holds it; the data directory must be below its root (it is renamed). */
function dataMountOf(member: string, dataDir: string, mounts: ContainerMount[]): ContainerMount {
  const holding = mounts.filter((m) => dataDir.startsWith(`${m.destination.replace(/\/+$/, '')}/`)).sort((a, b) => b.destination.length - a.destination.length)[0];
  if (!holding) {
    const root = mounts.find((m) => m.destination.replace(/\/+$/, '') === dataDir.replace(/\/+$/, ''));
    throw new PreconditionError([
      {
        code: 'data-dir-not-movable',
        member,
        message: root
          ? `${member}'s data directory ${dataDir} is the root of its volume ${root.source}: it cannot be moved aside as a safety copy (put the data directory one level below the mount, as compose/ does)`
          : `${member}'s data directory ${dataDir} is not on a volume of its container: it would not survive the container`,
      },
    ]);
  }
  return holding;
}

/** Wait on a promise while streaming what it reports as progress events. */
async function* streaming<T>(stepId: string, work: (report: (message: string) => void) => Promise<T>): AsyncGenerator<OperationEvent, T> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let settled = false;
  const report = (message: string) => {
    if (queue.at(-1) !== message) queue.push(message);
    wake?.();
  };
  const promise = work(report).finally(() => {
    settled = true;
    wake?.();
  });
  promise.catch(() => undefined);
  for (;;) {
    while (queue.length) yield { type: 'progress', stepId, message: queue.shift() as string };
    if (settled) break;
    await new Promise<void>((resolve) => {
      if (queue.length || settled) resolve();
      else wake = resolve;
    });
    wake = undefined;
  }
  return await promise;
}

/** How to go back to the safety copies on the compose stack, as shell lines (docker CLI; podman takes the same). */
export function containerUndoInstructions(cluster: ClusterConfig, plans: Array<Pick<MemberPlan, 'name' | 'container' | 'image'>>, leader: string, copies: SafetyCopy[]): string[] {
  const containers = plans.map((p) => p.container);
  const first = plans.find((p) => p.name === leader);
  const endpoints = cluster.etcd.endpoints.join(',');
  return [
    `docker stop -t 30 ${containers.join(' ')}`,
    ...copies.map((c) => {
      const image = plans.find((p) => p.name === c.member)?.image ?? '<the member image>';
      const mountedAt = c.mountedAt ?? '/v';
      // The copies were taken from a paused cluster: Patroni's cache of the dynamic config says so, and with an empty DCS it would stay paused.
      return `docker run --rm --network none --user root --entrypoint sh -v ${c.volume ?? '<volume>'}:${mountedAt} ${image} -c ${sq(`rm -rf ${c.from} && mv ${c.path} ${c.from} && rm -f ${c.path}.json && ${UNPAUSE_CACHE(c.from)}`)}`;
    }),
    `ETCDCTL_API=3 etcdctl --endpoints=${endpoints} del --prefix ${scopePrefix(cluster.namespace, cluster.scope)}`,
    `docker start ${first?.container ?? containers[0] ?? ''}   # the old leader first, then:`,
    `docker start ${containers.filter((c) => c !== first?.container).join(' ')}`,
  ];
}

// ------------------------------------------------------------------ the run

export async function* runContainerRewind(
  context: OpsContext,
  validated: { barman: BarmanAdapter; backup: BarmanBackup; target: PitrTarget },
  signal: AbortSignal,
  env: NodeJS.ProcessEnv,
): AsyncGenerator<OperationEvent, PitrResult> {
  const { barman, backup, target } = validated;
  const cluster = context.cluster;
  const snapshot = context.store.getSnapshot();
  const transport = cluster.barman?.transport;
  if (transport?.kind !== 'docker') throw new PreconditionError([{ code: 'barman-not-in-container', message: 'a rewind through the Docker API needs Barman in a container (barman.transport kind docker)' }]);
  const members = containerMembers(cluster, snapshot);
  if (!members) throw new PreconditionError([{ code: 'not-in-containers', message: `every member needs its container in the config (members.<name>.container) for a rewind of cluster ${cluster.name}` }]);
  const socket = cluster.docker?.socket ?? transport.socket;
  const engine = new DockerEngine({ ...(socket ? { socket } : {}), env, timeoutMs: Math.max(cluster.docker?.timeoutMs ?? 5000, 30_000) }, 'docker');
  const leaderName = snapshot.leader && members.some((m) => m.name === snapshot.leader) ? snapshot.leader : (members[0] as ContainerMember).name;
  const addresses = memberAddresses(cluster);
  const stamp = compactStamp(context.now());
  const server = cluster.barman?.server as string;
  const reason = `rewind to ${describeTarget(target)} from backup ${backup.id}`;

  // ---- what each member is: image, mounts, data directory (asked of its PostgreSQL), the leader's archive_command
  const inspect = stepStarted(context, 'inspect', `Inspect the containers (${members.map((m) => m.container).join(', ')}, ${transport.container})`);
  yield inspect;
  const reported = new Map<string, string>();
  let archiveCommand: string | undefined;
  for (const m of members) {
    const view = snapshot.members.find((x) => x.name === m.name);
    const host = addresses.get(m.name)?.host ?? view?.host;
    const port = addresses.get(m.name)?.port ?? view?.port;
    if (!host || !port) continue;
    const rows = await context.memberQuery({ name: m.name, host, port }, "SELECT current_setting('data_directory') AS d, current_setting('archive_command') AS a", { signal, timeoutMs: 5000 }).catch(() => undefined);
    const row = rows?.[0];
    if (typeof row?.d === 'string') reported.set(m.name, row.d);
    if (m.name === leaderName && typeof row?.a === 'string' && row.a.trim() && row.a !== '(disabled)') archiveCommand = row.a;
  }
  const known = [...new Set(reported.values())];
  const plans: MemberPlan[] = [];
  for (const m of members) {
    const dataDir = reported.get(m.name) ?? (known.length === 1 ? (known[0] as string) : undefined);
    if (!dataDir) throw new PreconditionError([{ code: 'data-dir-unknown', member: m.name, message: `${m.name}'s PostgreSQL does not answer, and the others do not agree on one data directory: start it first` }]);
    const { image, mounts } = await engine.mounts(m.container, { signal });
    const dataMount = dataMountOf(m.name, dataDir, mounts);
    const helperDataDir = m.name === leaderName ? dataDir : `${OTHERS_ROOT}/${m.name}${dataDir.slice(dataMount.destination.replace(/\/+$/, '').length)}`;
    plans.push({ ...m, image, mounts, dataDir, dataMount, helperDataDir });
  }
  const leader = plans.find((p) => p.name === leaderName) as MemberPlan;
  const others = plans.filter((p) => p.name !== leaderName);
  if (!archiveCommand) yield warning(`${leaderName}'s archive_command is unknown: the new timeline's history is archived once the cluster runs again`);
  // The helper's mounts: Barman's, the leader's at their own paths, the others' data volumes below OTHERS_ROOT.
  const barmanSide = await engine.mounts(transport.container, { signal });
  const helperMounts: ContainerMount[] = [];
  const conflicts: Reason[] = [];
  for (const mount of [...barmanSide.mounts, ...leader.mounts]) {
    const same = helperMounts.find((h) => h.destination === mount.destination);
    if (!same) helperMounts.push(mount);
    else if (same.source !== mount.source) conflicts.push({ code: 'mount-conflict', message: `${transport.container} and ${leader.container} mount different things at ${mount.destination} (${same.source}, ${mount.source}): the helper cannot hold both` });
  }
  for (const p of others) helperMounts.push({ ...p.dataMount, destination: `${OTHERS_ROOT}/${p.name}`, readOnly: false });
  if (conflicts.length) throw new PreconditionError(conflicts);
  for (const p of plans) if (p.dataMount.readOnly) throw new PreconditionError([{ code: 'data-read-only', member: p.name, message: `${p.name}'s data volume ${p.dataMount.source} is mounted read-only` }]);
  // Who owns the data (the member image's postgres account) and its groups (WAL shipping writes into Barman's group's directory).
  const ownerLine = (await run(engine, leader.container, 'u=$(stat -c %u "$1"); g=$(stat -c %g "$1"); n=$(stat -c %U "$1"); echo "$u $g $(id -G "$n" 2>/dev/null | tr " " ",")"', [leader.dataDir], { signal })).trim().split(' ');
  const owner: Owner = { uid: Number(ownerLine[0]), gid: Number(ownerLine[1]), groups: ownerLine[2] || String(ownerLine[1]) };
  if (!Number.isInteger(owner.uid) || owner.uid === 0) throw new Error(`${leader.name}'s data directory ${leader.dataDir} has an unexpected owner (${ownerLine.join(' ')})`);
  const helper = `${transport.container}-rewind-${stamp.toLowerCase()}`;
  yield stepEnded(context, inspect, 'done', `${plans.map((p) => `${p.name}: ${p.dataMount.source}:${p.dataDir}`).join('; ')}; helper from ${barmanSide.image}`);

  const registry = new SafetyCopyRegistry(restoresDir(cluster, env));
  const copies: SafetyCopy[] = [];
  let helperUp = false;
  const asOwner = (argv: string[]) => ['setpriv', `--reuid=${owner.uid}`, `--regid=${owner.gid}`, `--groups=${owner.groups}`, 'env', `HOME=${WORK}`, ...argv];
  const psql = (sql: string) => engine.exec(helper, asOwner([`${PG_BIN_DIR}/psql`, '-h', WORK, '-p', '5432', '-U', cluster.postgres.user, '-d', 'postgres', '-XAt', '-F', '|', '-c', sql]), { signal, timeoutMs: 30_000, user: 'root' });
  const howToUndo = () =>
    copies.length
      ? ` — to undo with the safety copies:\n  ${containerUndoInstructions(cluster, plans, leaderName, copies).join('\n  ')}`
      : ` — no data directory was moved yet: \`docker start ${plans.map((p) => p.container).join(' ')}\` brings the members back (then \`pgcockpit resume\` if the cluster stays paused)`;

  try {
    yield* pauseForRewind(context, signal, 'maintenance mode: Patroni will not fail over, nor start a stopped PostgreSQL');

    const stop = stepStarted(context, 'request:stop', `Stop every member (${[...others, leader].map((m) => m.name).join(', ')}): PostgreSQL, then its container`);
    yield stop;
    for (const p of [...others, leader]) {
      signal.throwIfAborted();
      const state = await engine.state(p.container, { signal });
      if (state.running) {
        // A clean shutdown (checkpoint) before Patroni goes: paused, Patroni would leave PostgreSQL running, killed with the container.
        const said = await run(engine, p.container, `if ${PG_BIN_DIR}/pg_ctl -D "$1" status >/dev/null 2>&1; then ${PG_BIN_DIR}/pg_ctl -D "$1" stop -m fast -w -t 300 >/dev/null && echo stopped; else echo 'not running'; fi`, [p.dataDir], { signal, timeoutMs: 330_000, user: String(owner.uid) });
        yield { type: 'progress', stepId: 'request:stop', message: `${p.name}: PostgreSQL ${said.trim()}` };
        await engine.stop(p.container, 30, { signal });
      }
      const after = await engine.state(p.container, { signal });
      if (after.running) throw new Error(`${p.container} still runs after the stop`);
      yield { type: 'progress', stepId: 'request:stop', message: `${p.name}: container ${p.container} ${after.status}` };
    }
    yield stepEnded(context, stop, 'done', 'no PostgreSQL of the cluster runs; the containers are stopped');

    const start = stepStarted(context, 'helper', `A helper container ${helper} (${barmanSide.image}, no network) with the members' data volumes`);
    yield start;
    await engine.startHelper({ name: helper, image: barmanSide.image, mounts: helperMounts, labels: { 'pgcockpit.rewind': cluster.name } }, { signal });
    helperUp = true;
    yield stepEnded(context, start, 'done', helperMounts.map((m) => `${m.source}→${m.destination}`).join(', '));

    const aside = stepStarted(context, 'safety-copies', 'Move every data directory aside, inside its volume (safety copies)');
    yield aside;
    for (const p of plans) {
      const from = p.helperDataDir;
      const to = `${from}${SAFETY_SUFFIX}${stamp}`;
      const copy: SafetyCopy = {
        id: `${p.name}-${stamp}`,
        member: p.name,
        path: `${p.dataDir}${SAFETY_SUFFIX}${stamp}`,
        from: p.dataDir,
        createdAt: new Date(context.now()).toISOString(),
        reason,
        container: p.container,
        volume: p.dataMount.source,
        mountedAt: p.dataMount.destination,
        cluster: cluster.name,
        ...(socket ? { dockerSocket: socket } : {}),
      };
      await run(engine, helper, 'set -e; [ -d "$1" ] || { echo "$1 does not exist" >&2; exit 1; }; [ ! -e "$2" ] || { echo "$2 exists already" >&2; exit 1; }; mv "$1" "$2"; printf %s "$3" > "$2.json"', [from, to, `${JSON.stringify(copy, null, 2)}\n`], { signal });
      copies.push(copy);
      registry.put(copy);
      yield { type: 'progress', stepId: 'safety-copies', message: `${p.name}: ${p.container}:${copy.path}` };
    }
    yield stepEnded(context, aside, 'done', copies.map((c) => c.id).join(', '));

    const recover = stepStarted(context, 'recover', `barman recover ${backup.id} into ${leader.name}'s data directory (${leader.dataMount.source})`);
    yield recover;
    // Barman's account writes the directory, reaching it through the data owner's group (the volume's root is
    // the owner's, 0750) besides its own groups (its incoming WAL, which recover archives first); then it is the owner's.
    const barmanUser = transport.user ?? 'barman';
    const barmanGroups = (await run(engine, helper, 'id -G "$1"', [barmanUser], { signal })).trim().split(/\s+/).concat(String(owner.gid)).join(',');
    await run(engine, helper, 'set -e; mkdir -m 0700 "$1"; chown "$2" "$1"', [leader.dataDir, barmanUser], { signal });
    const asBarman = ['setpriv', `--reuid=${barmanUser}`, `--regid=${barmanUser}`, `--groups=${barmanGroups}`, 'env', `HOME=${CONTAINER_BARMAN_HOME}`];
    const inHelper = new DockerTransport({ container: helper, user: 'root', ...(socket ? { socket } : {}), env, source: 'barman', timeoutMs: 6 * 3600_000 });
    const helperTransport: ExecTransport = {
      description: `docker ${helper} (as ${barmanUser})`,
      exec: (argv, o) => inHelper.exec([...asBarman, ...argv], o),
      stream: (argv, onLine, o) => inHelper.stream([...asBarman, ...argv], onLine, o),
    };
    const helperBarman = new BarmanAdapter({ server, timeoutMs: 6 * 3600_000, ...(cluster.barman?.config ? { config: cluster.barman.config } : {}) }, helperTransport);
    const recovered = await barmanRecover(helperBarman, { server, backupId: backup.id, targetArgs: barmanTargetArgs(target), destination: leader.dataDir }, { signal });
    for (const change of recovered.changes) yield log(`barman changed ${change}`);
    await run(engine, helper, `set -e; chown -R ${owner.uid}:${owner.gid} "$1"; chmod 0700 "$1"; mkdir -p ${WORK}; chown ${owner.uid}:${owner.gid} ${WORK}`, [leader.dataDir], { signal, timeoutMs: 600_000 });
    yield stepEnded(context, recover, 'done', `${leader.dataDir} holds backup ${backup.id} and the WAL up to the target${recovered.elapsedSeconds !== undefined ? ` (${recovered.elapsedSeconds.toFixed(1)} s)` : ''}`);

    const replay = stepStarted(context, 'replay', `replay WAL to ${describeTarget(target)} and promote (a throwaway server in ${helper})`);
    yield replay;
    const control = parseControlData(await run(engine, helper, `${PG_BIN_DIR}/pg_controldata "$1"`, [leader.dataDir], { signal }));
    const conf = throwawayConfig(
      { port: 5432, socketDir: WORK, hbaFile: `${leader.dataDir}/pg_hba.conf`, identFile: `${leader.dataDir}/pg_ident.conf`, control, clusterName: `pgcockpit-rewind-${stamp}`, ...(archiveCommand ? { archiveCommand } : {}) },
      `the rewind of cluster ${cluster.name} (in ${helper})`,
    ).replace(/^listen_addresses = .*$/m, "listen_addresses = ''   # the socket only: the helper has no network");
    await run(engine, helper, `set -e; printf %s "$1" > ${WORK}/recover.conf; : > ${WORK}/postgres.log; chown ${owner.uid}:${owner.gid} ${WORK}/recover.conf ${WORK}/postgres.log`, [conf], { signal });
    const started = await engine.exec(helper, asOwner([`${PG_BIN_DIR}/pg_ctl`, '-D', leader.dataDir, '-l', `${WORK}/postgres.log`, '-o', `-c config_file=${WORK}/recover.conf`, '-W', 'start']), { signal, timeoutMs: 60_000, user: 'root' });
    if (started.code !== 0) throw new Error(`the throwaway server did not start: ${(started.stderr || started.stdout).trim().slice(-400)}`);
    let died: string | undefined;
    yield* streaming('replay', (report) =>
      waitUntil(
        'the restored server to reach the target and promote',
        async () => {
          const alive = await engine.exec(helper, asOwner([`${PG_BIN_DIR}/pg_ctl`, '-D', leader.dataDir, 'status']), { signal, timeoutMs: 30_000, user: 'root' });
          if (alive.code !== 0) {
            const tail = await run(engine, helper, `grep -E 'FATAL|PANIC' ${WORK}/postgres.log | tail -n 3; tail -n 3 ${WORK}/postgres.log`, [], { signal }).catch(() => '');
            died = tail.trim().split('\n').join(' / ') || 'no log';
            return true;
          }
          const answer = await psql("SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, '')");
          const [inRecovery, lsn] = answer.code === 0 ? answer.stdout.trim().split('|') : [];
          if (inRecovery === 't') report(`replaying: ${lsn || '?'}`);
          if (inRecovery === 'f') {
            report('promoted');
            return true;
          }
          return undefined;
        },
        { signal, timeoutMs: 3600_000, intervalMs: 1000 },
      ),
    );
    if (died !== undefined) throw new Error(`the restored server stopped: ${died}`);
    const tli = (await psql('SELECT timeline_id FROM pg_control_checkpoint()')).stdout.trim();
    const archived = archiveCommand
      ? await waitUntil(
          'the new timeline history to be archived',
          async () => {
            const a = await psql("SELECT coalesce(last_archived_wal, ''), (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready') FROM pg_stat_archiver");
            const [wal, ready] = a.stdout.trim().split('|');
            return a.code === 0 && wal && Number(ready) === 0 ? wal : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 500, signal },
        )
      : 'nothing';
    const stopped = await engine.exec(helper, asOwner([`${PG_BIN_DIR}/pg_ctl`, '-D', leader.dataDir, 'stop', '-m', 'fast', '-w', '-t', '300']), { signal, timeoutMs: 330_000, user: 'root' });
    if (stopped.code !== 0) throw new Error(`the throwaway server did not stop: ${(stopped.stderr || stopped.stdout).trim().slice(-300)}`);
    const stoppedAt = recoveryStopLine(await run(engine, helper, `cat ${WORK}/postgres.log`, [], { signal }));
    // What Barman wrote for recovery must not stay: Patroni manages the configuration from here.
    const auto = await run(engine, helper, 'cat "$1/postgresql.auto.conf" 2>/dev/null || true', [leader.dataDir], { signal });
    const kept = auto.split('\n').filter((line) => !recoveryLines(line).length).join('\n');
    await run(engine, helper, `set -e; printf %s "$2" > "$1/postgresql.auto.conf"; rm -rf "$1/recovery.signal" "$1/standby.signal" "$1/barman_wal"; chown -R ${owner.uid}:${owner.gid} "$1"`, [leader.dataDir, kept], { signal });
    yield stepEnded(context, replay, 'done', `${stoppedAt ?? 'target reached'}; timeline ${tli || '?'}, ${archived} archived`);
    await engine.remove(helper, { signal });
    helperUp = false;

    const dcs = stepStarted(context, 'request:dcs', `A fresh cluster state: delete ${scopePrefix(cluster.namespace, cluster.scope)} in etcd`);
    yield dcs;
    const etcd = EtcdAdapter.fromConfig(cluster.etcd, env);
    let deleted: number;
    try {
      deleted = await etcd.deleteScope(cluster.namespace, cluster.scope, { signal, timeoutMs: 30_000 });
    } finally {
      etcd.close();
    }
    yield stepEnded(context, dcs, 'done', `${deleted} key${deleted === 1 ? '' : 's'} deleted`);

    const up = stepStarted(context, 'request:start', `Start ${leader.container}: Patroni adopts the restored data directory as the leader`);
    yield up;
    await engine.start(leader.container, { signal });
    const holder = await waitUntil(
      `${leader.name} to hold the leader key`,
      async () => {
        const key = await context.readLeaderKey({ signal, timeoutMs: 2000 }).catch(() => undefined);
        if (key === leader.name) return key;
        const state = await engine.state(leader.container, { signal }).catch(() => undefined);
        if (state && !state.running && state.status !== 'restarting') {
          const tail = await engine.logs(leader.container, { lines: 10, signal }).catch(() => []);
          throw new Error(`${leader.container} ${state.status}${state.exitCode !== undefined ? ` (exit ${state.exitCode})` : ''}: ${tail.join(' / ')}`);
        }
        return undefined;
      },
      { timeoutMs: context.timeouts.leaderMoveMs * 2, intervalMs: 500, signal },
    );
    yield stepEnded(context, up, 'done', `${holder} holds the leader key`);

    const rebuild = stepStarted(context, 'request:rebuild', `Start ${others.map((m) => m.container).join(', ')}: Patroni clones each from ${leader.name}`);
    yield rebuild;
    for (const p of others) await engine.start(p.container, { signal });
    const streamingNow = yield* streaming('request:rebuild', (report) =>
      waitUntil(
        'every replica to stream from the new leader',
        async () => {
          const view = await context.patroni.getCluster({ signal, timeoutMs: 5000 }).catch(() => undefined);
          if (!view) return undefined;
          report(view.members.map((m) => `${m.name} ${m.role} ${m.state}`).join(', '));
          const lead = view.members.find((m) => m.name === leader.name && m.role === 'leader' && m.state === 'running');
          const ok = others.every((p) => view.members.some((m) => m.name === p.name && m.role !== 'leader' && (m.state === 'streaming' || m.state === 'running') && m.timeline === lead?.timeline));
          return lead && ok ? view : undefined;
        },
        { timeoutMs: context.timeouts.streamingMs * 2, intervalMs: 1000, signal },
      ),
    );
    yield stepEnded(context, rebuild, 'done', `${streamingNow.members.filter((m) => m.name !== leader.name).map((m) => `${m.name} ${m.state}`).join(', ')}`);

    const address = addresses.get(leader.name);
    // Barman archives again: a WAL switch through it, archived, on the new timeline.
    const timeline = yield* resumeAndVerifyRewind(context, { name: leader.name, host: address?.host, port: address?.port }, barman, {
      signal,
      safetyCopies: () => copies.length,
      switchWal: () => barmanSwitchWal(barman, server, { signal }),
    });
    context.store.refresh();
    return {
      outcome: 'done',
      summary: `cluster ${cluster.name} rewound to ${describeTarget(target)} (backup ${backup.id}) in timeline ${timeline}: ${leader.name} leads, ${others.map((m) => m.name).join(', ')} stream; safety copies ${copies.map((c) => c.id).join(', ')}`,
      details: { backupId: backup.id, target: describeTarget(target), safetyCopies: copies, leader: leader.name, timeline, ...(stoppedAt ? { stoppedAt } : {}) },
    };
  } catch (error) {
    if (helperUp) {
      await engine.exec(helper, asOwner([`${PG_BIN_DIR}/pg_ctl`, '-D', leader.dataDir, 'stop', '-m', 'immediate']), { timeoutMs: 60_000, user: 'root' }).catch(() => undefined);
      await engine.remove(helper).catch(() => undefined);
    }
    if (error instanceof PreconditionError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}${howToUndo()}`, { cause: error });
  }
}
