import type { ClusterConfig } from '../config/schema.js';
import type { BarmanBackup, CallOptions, DcsWatchEvent, PatroniMemberStatus } from '../services/types.js';
import { deadline } from '../services/errors.js';
import type { DeriveContext, Readings } from './derive.js';
import { deriveSnapshot, emptyReadings, leaderOfReadings } from './derive.js';
import type { EventLogFile } from './event-log.js';
import { diffEvents } from './events.js';
import type { LeaderProbe, WriteProbe } from './incident.js';
import { IncidentTracker } from './incident.js';
import { RingBuffer } from './ring-buffer.js';
import type { ClusterEvent, ClusterSnapshot, SourceFreshness } from './snapshot.js';
import { emptySnapshot } from './snapshot.js';
import type { SourceSelection } from './source-selection.js';
import { selectsSource, unreadSources } from './source-selection.js';
import type { ClusterSources } from './sources.js';
import type { ClusterStore, LagSample } from './store.js';
import { traceStartup } from '../util/startup-trace.js';

export interface LiveStoreOptions {
  cluster: ClusterConfig;
  sources: ClusterSources;
  /** Fast sources (Patroni, DCS, PostgreSQL, HAProxy, archive log). */
  pollIntervalMs: number;
  /** Slow sources (etcd health, timeline history, dynamic config, Barman). Default max(10 s, 5 × poll). */
  slowIntervalMs?: number;
  /** Longest back-off after repeated failures. */
  maxBackoffMs?: number;
  eventCapacity?: number;
  /** Lag samples kept per member (default 10 minutes at the poll interval). */
  lagHistoryCapacity?: number;
  archiveLogLines?: number;
  /** Watch the DCS for changes (default true; one-shot commands turn it off). */
  watchDcs?: boolean;
  /**
   * Probe the leader's PostgreSQL this often, and its REST API every other time while both answer (at once when
   * the SQL ping fails or is slow, and on every probe during an incident): incident mode flags a dead leader within
   * 2 s. 0 turns the probe off (one-shot commands). Default 1 s (the config's default is 500 ms): a refused
   * connection is seen at the next probe, a hung one after the probe's 1 s timeout.
   */
  leaderProbeIntervalMs?: number;
  /**
   * The cockpit's first screen: read Patroni first, and start the other sources (and the etcd watch, whose
   * client is the largest module to load) once its first answer is in, or after this many ms at most. Off
   * (0, the default) for one-shot commands, which need every source anyway and gain from asking all at once.
   */
  patroniFirstMs?: number;
  /**
   * With patroniFirstMs: after Patroni's first answer, the other sources also wait for this — the cockpit's
   * first frame showing that answer, so its members and leader are drawn before anything else loads or runs
   * (still patroniFirstMs at most).
   */
  othersAfter?: Promise<void>;
  /**
   * Run only these sources (a one-shot command: what its checks read; a member's sources for the leader only).
   * Default: every source.
   */
  only?: SourceSelection;
  /** Keep the event log on disk too (loaded at start, appended as events happen). */
  eventLog?: EventLogFile;
  now?: () => number;
}

type TaskGroup = 'fast' | 'slow';

interface Task {
  key: string;
  group: TaskGroup;
  /** Own interval, instead of the group's. */
  intervalMs?: number;
  /**
   * Resolves 'skipped' when it had nothing to read this time (the source's freshness stays as it was), and
   * 'unchanged' when it read what it read last time (fresh, but no new snapshot is derived for it).
   */
  run: (options: CallOptions) => Promise<void | 'skipped' | 'unchanged'>;
  /** Set when a refresh was asked while the task ran: it runs again right after. */
  again: boolean;
  wake?: () => void;
  running: boolean;
  stopped: boolean;
  failures: number;
  /** The first run completed (success or failure), for whenFirstComplete and whenSourcesRead. */
  completedOnce: boolean;
  /** The first run waits for this (patroniFirstMs). */
  startAfter?: Promise<void>;
}

/**
 * The live model of one cluster: a poll loop per source (skip-while-busy: a loop never starts a read while
 * its previous one runs; exponential back-off on errors), an etcd watch that triggers an immediate refresh
 * of the DCS and Patroni on any change of the scope's keys, and a pure derivation of the snapshot after
 * each reading. Nothing a source does throws out of here: a failing source is marked with its error and
 * since when, and the rest keeps updating.
 */
export class LiveClusterStore implements ClusterStore {
  private readonly readings: Readings = emptyReadings();
  private snapshot: ClusterSnapshot;
  private signature = '';
  private readonly listeners = new Set<() => void>();
  private readonly events: RingBuffer<ClusterEvent>;
  private readonly lag = new Map<string, RingBuffer<LagSample>>();
  private readonly tasks = new Map<string, Task>();
  private readonly controller = new AbortController();
  private readonly pending = new Map<string, number>();
  private rebuildScheduled = false;
  private lastRebuild = 0;
  /** What the last leader probe found, positions aside (see probeLeader). */
  private lastProbeFinding = '';
  /** When the leader probe last asked the leader's REST API (it does on every other probe while all is well). */
  private lastRestProbeAt = Number.NEGATIVE_INFINITY;
  private lastNotify = 0;
  private notifyTimer: NodeJS.Timeout | undefined;
  private lastLagSample = 0;
  private unwatch: (() => void) | undefined;
  private started = false;
  private readonly now: () => number;
  private readonly slowIntervalMs: number;
  private readonly maxBackoffMs: number;
  /** whenFirstComplete's and whenSourcesRead's callers: resolved by the first rebuild at which `ready` holds. */
  private readonly readWaiters: Array<{ ready: () => boolean; resolve: () => void }> = [];
  private readonly incidents = new IncidentTracker();
  private leaderProbe: LeaderProbe | undefined;
  private writeProbe: WriteProbe | undefined;

  constructor(private readonly options: LiveStoreOptions) {
    this.now = options.now ?? Date.now;
    this.slowIntervalMs = options.slowIntervalMs ?? Math.max(10_000, options.pollIntervalMs * 5);
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.snapshot = emptySnapshot(options.cluster.name, options.cluster.scope, this.now());
    this.events = new RingBuffer(options.eventCapacity ?? 1000);
  }

  // ------------------------------------------------------------------ ClusterStore

  getSnapshot = (): ClusterSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getEvents = (): readonly ClusterEvent[] => this.events.toArray();

  getLagHistory = (member: string): readonly LagSample[] => this.lag.get(member)?.toArray() ?? EMPTY;

  refresh = (): void => {
    for (const task of this.tasks.values()) this.trigger(task);
  };

  recordEvent = (event: ClusterEvent): void => {
    this.pushEvents([event]);
    this.notify(true);
  };

  recordBackup = (backup: BarmanBackup): void => {
    if (!this.options.sources.barmanBackups) return;
    if (backup.status === 'DONE') this.backupDetails.set(backup.id, backup);
    this.recordedBackups.set(backup.id, { backup, at: this.now() });
    this.readings.backups = withBackup(this.readings.backups ?? [], backup);
    this.scheduleRebuild();
  };

  private pushEvents(events: ClusterEvent[]): void {
    if (events.length === 0) return;
    this.events.push(...events);
    try {
      this.options.eventLog?.append(events);
    } catch {
      // A full disk must not stop the cockpit; the events stay in memory.
    }
  }

  // ------------------------------------------------------------------ lifecycle

  start(): void {
    if (this.started) return;
    this.started = true;
    const log = this.options.eventLog;
    if (log) {
      // What happened before this cockpit started (or before it was restarted mid-incident).
      try {
        log.acquire();
        this.events.push(...log.read().slice(-this.events.capacity));
        this.incidents.resume(this.events.toArray(), this.now());
      } catch {
        // unreadable log: start with an empty history rather than not at all
      }
    }
    const { sources } = this.options;
    let patroniAnswered: () => void = () => undefined;
    const firstMs = this.options.patroniFirstMs ?? 0;
    const afterPatroni =
      firstMs > 0
        ? new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, firstMs);
            const release = () => {
              clearTimeout(timer);
              resolve();
            };
            const othersAfter = this.options.othersAfter;
            patroniAnswered = () => {
              patroniAnswered = () => undefined;
              if (othersAfter) void othersAfter.then(release, release);
              else release();
            };
          })
        : undefined;
    this.addTask('patroni', 'fast', async (o) => {
      try {
        this.readings.cluster = await sources.patroniCluster(o);
        this.reconcileMemberTasks();
      } finally {
        patroniAnswered();
      }
    });
    this.startAfter = afterPatroni;
    this.addTask('dcs', 'fast', async (o) => {
      const previousTimeline = this.readings.dcs?.history.length;
      this.readings.dcs = await sources.dcs(o);
      this.reconcileMemberTasks();
      if (previousTimeline !== undefined && this.readings.dcs.history.length !== previousTimeline) this.triggerKey('history');
    });
    this.addTask('etcd', 'slow', async (o) => {
      this.readings.etcd = await sources.etcdHealth(o);
    });
    this.addTask('history', 'slow', async (o) => {
      this.readings.history = await sources.patroniHistory(o);
    });
    this.addTask('config', 'slow', async (o) => {
      this.readings.config = await sources.patroniConfig(o);
    });
    if (sources.haproxy) {
      const haproxy = sources.haproxy.bind(sources);
      this.addTask('haproxy', 'fast', async (o) => {
        this.readings.haproxy = await haproxy(o);
      });
    }
    if (sources.barmanBackups) {
      const backups = sources.barmanBackups.bind(sources);
      const status = sources.barmanStatus?.bind(sources);
      const show = sources.barmanShowBackup?.bind(sources);
      this.addTask('barman', 'slow', async (o) => {
        const readAt = this.now();
        const [list, server] = await Promise.all([backups(o), status ? status(o) : Promise.resolve(undefined)]);
        if (show) await this.fetchBackupDetails(list, show, o);
        let merged = list.map((b) => ({ ...b, ...this.backupDetails.get(b.id) }));
        // A backup recorded by an operation after this read began stays until a read that began after it.
        for (const [id, recorded] of this.recordedBackups) {
          if (recorded.at > readAt) merged = withBackup(merged, recorded.backup);
          else this.recordedBackups.delete(id);
        }
        this.readings.backups = merged;
        if (server) this.readings.barmanStatus = server;
      });
    }
    if (sources.archiveLogTail) {
      const tail = sources.archiveLogTail.bind(sources);
      const lines = this.options.archiveLogLines ?? 50;
      this.addTask('archive-log', 'fast', async (o) => {
        const leader = this.snapshot.leader ?? this.readings.dcs?.leader?.holder;
        if (!leader) return;
        this.readings.archiveLog = { member: leader, lines: await tail(leader, lines, o) };
      });
    }
    if (sources.containerState && sources.containerNames) {
      // One task per member's container (docker:<member>): a missing container is that member's stale source.
      const state = sources.containerState.bind(sources);
      this.readings.containerNames = { ...sources.containerNames };
      for (const member of Object.keys(sources.containerNames)) {
        this.addTask(`docker:${member}`, 'fast', async (o) => {
          (this.readings.containers ??= {})[member] = await state(member, o);
        });
      }
    }
    const probeEvery = this.options.leaderProbeIntervalMs ?? 1000;
    if (probeEvery > 0) this.addTask('leader-probe', 'fast', (o) => this.probeLeader(o), probeEvery);
    if (sources.watchDcs && this.options.watchDcs !== false) {
      const watchDcs = sources.watchDcs.bind(sources);
      const watch = () => {
        if (this.controller.signal.aborted) return;
        this.unwatch = watchDcs(
          (event) => this.onDcsChange(event),
          () => undefined, // the DCS poll reports etcd's errors; the watch reconnects on its own
        );
      };
      if (afterPatroni) void afterPatroni.then(watch);
      else watch();
    }
  }

  /**
   * Resolves once every source has been read once (successfully or not) and the snapshot reflects it:
   * `status` and `check` wait for this.
   */
  whenFirstComplete(): Promise<void> {
    return this.whenReady(() => this.allCompletedOnce());
  }

  whenSourcesRead = (selection: SourceSelection): Promise<void> => this.whenReady(() => this.allCompletedOnce() || unreadSources(selection, this.snapshot).length === 0);

  private whenReady(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.readWaiters.push({ ready, resolve }));
  }

  async stop(): Promise<void> {
    for (const task of this.tasks.values()) {
      task.stopped = true;
      task.wake?.();
    }
    this.unwatch?.();
    this.controller.abort();
    this.options.eventLog?.close();
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    await this.options.sources.close();
  }

  // ------------------------------------------------------------------ the DCS watch

  /** The watch is up: the DCS and /cluster are read when it reports a change, and polled only slowly besides. */
  private watchConnected = false;
  /** The watch broke since it was last up: what changed meanwhile is unknown. */
  private watchBroke = false;
  /** Per member key: its value without the WAL positions Patroni rewrites every HA loop under load. */
  private readonly memberKeyShape = new Map<string, string>();

  /**
   * A change of the scope's keys (leader, members, config, history…): read the DCS, /cluster and the members'
   * /patroni now, not at the next poll. A member key whose only change is its WAL position (Patroni rewrites it
   * every loop_wait while WAL moves) and the leader's `status` (its optime) change nothing a read would show
   * that SQL does not already show fresher: they trigger nothing.
   */
  private onDcsChange(event: DcsWatchEvent | undefined): void {
    if (event?.kind === 'disconnected') {
      // Each failed reconnection says so again: only the fall from up to down wakes the reads (the loops then
      // poll the DCS at the fast interval and keep their own back-off while etcd stays down).
      const wasUp = this.watchConnected || !this.watchBroke;
      this.watchConnected = false;
      this.watchBroke = true;
      if (wasUp) this.readScopeNow(false);
      return;
    }
    if (event?.kind === 'connected') {
      this.watchConnected = true;
      if (!this.watchBroke) return;
      this.watchBroke = false;
    } else if (event && !this.significantDcsChange(event)) {
      return;
    }
    this.readScopeNow(true);
  }

  /** Read the DCS and /cluster now (and every member's /patroni too when `members`). */
  private readScopeNow(members: boolean): void {
    this.triggerKey('dcs');
    this.triggerKey('patroni');
    if (members) for (const task of this.tasks.values()) if (task.key.startsWith('patroni:')) this.trigger(task);
  }

  private significantDcsChange(event: Extract<DcsWatchEvent, { kind: 'put' | 'delete' }>): boolean {
    if (event.kind === 'put' && (event.name === 'status' || event.name === 'optime/leader')) return false;
    if (!event.name.startsWith('members/')) return true;
    const previous = this.memberKeyShape.get(event.name);
    if (event.kind === 'delete' || event.value === undefined) {
      this.memberKeyShape.delete(event.name);
      return true;
    }
    const shape = memberShape(event.value);
    this.memberKeyShape.set(event.name, shape);
    return previous !== shape;
  }

  /**
   * A streaming replica's /patroni is polled slowly while the DCS is watched: a change of its state or role in
   * the DCS, its PostgreSQL failing, coming back or changing role each ask at once (and REST or SQL failing
   * brings it back to the fast interval).
   */
  private memberSteady(member: string): boolean {
    if (!this.dcsWatched() || member === this.snapshot.leader) return false;
    const view = this.snapshot.members.find((m) => m.name === member);
    return view?.state === 'streaming' && view.restReachable && view.sqlReachable;
  }

  /** Poll the DCS and /cluster slowly: the watch is up and no incident is being followed (its lease countdown reads the DCS). */
  private dcsWatched(): boolean {
    const incident = this.snapshot.incident;
    return this.watchConnected && (!incident || incident.phase === 'recovered');
  }

  /** Are any reads under way (for tests: wait until idle, then assert). */
  isIdle(): boolean {
    return [...this.tasks.values()].every((t) => !t.running);
  }

  // ------------------------------------------------------------------ tasks

  /** Full details of DONE backups, fetched once each (a completed backup never changes). */
  private readonly backupDetails = new Map<string, BarmanBackup>();
  /** Backups operations recorded (recordBackup), and when: kept over Barman reads that began before. */
  private readonly recordedBackups = new Map<string, { backup: BarmanBackup; at: number }>();

  /**
   * `list-backups` lacks begin times, LSNs and timelines; `show-backup` has them but costs a Barman run each,
   * so a few are fetched per poll: the oldest DONE first (it opens the recovery window), then the newest.
   */
  private async fetchBackupDetails(list: BarmanBackup[], show: (id: string, o: CallOptions) => Promise<BarmanBackup>, o: CallOptions): Promise<void> {
    const done = list.filter((b) => b.status === 'DONE' && !this.backupDetails.has(b.id)).map((b) => b.id);
    const sorted = [...done].sort();
    const wanted = [...new Set([sorted[0], ...sorted.reverse().slice(0, 2)])].filter((id): id is string => id !== undefined);
    const details = await Promise.all(wanted.map((id) => show(id, o)));
    for (const backup of details) this.backupDetails.set(backup.id, backup);
  }

  private allCompletedOnce(): boolean {
    return this.tasks.size > 0 && [...this.tasks.values()].every((t) => t.completedOnce || t.stopped);
  }

  /**
   * The leader probe: its REST API and PostgreSQL, asked directly and often, so a dead leader is flagged in
   * well under 2 s. While an incident waits for writes to come back, the write port is probed too. Never
   * throws: what fails is what it reports.
   */
  private async probeLeader(o: CallOptions): Promise<void | 'unchanged'> {
    const { sources } = this.options;
    const incident = this.snapshot.incident;
    const leader = incident && incident.phase !== 'recovered' ? incident.oldLeader : this.snapshot.leader;
    const member = this.snapshot.members.find((m) => m.name === leader);
    if (leader && member?.apiUrl) {
      const timeoutMs = Math.min(1000, o.timeoutMs ?? 1000);
      const short: CallOptions = { timeoutMs, ...(o.signal ? { signal: o.signal } : {}) };
      const apiUrl = member.apiUrl;
      const probedAt = this.now();
      const last = this.leaderProbe;
      // REST (a fresh connection, an HTTP answer and its JSON each time) on every other probe while the leader is
      // well: its SQL ping on the kept connection answers for it in between. Asked at once when anything is off:
      // an incident followed, the last answer failed, the SQL ping failing or slower than REST_AFTER_SQL_MS.
      const canPing = sources.pingPostgres !== undefined && member.host !== undefined && member.port !== undefined;
      const restDue =
        !canPing ||
        !last ||
        last.member !== leader ||
        !last.restOk ||
        !last.sqlOk ||
        (incident !== undefined && incident.phase !== 'recovered') ||
        probedAt - this.lastRestProbeAt >= REST_EVERY_PROBES * (this.options.leaderProbeIntervalMs ?? 1000) * 0.75;
      const askRest = () => {
        this.lastRestProbeAt = this.now();
        return sources.memberStatus(apiUrl, short);
      };
      const sqlPing = canPing && sources.pingPostgres && member.host && member.port ? sources.pingPostgres({ name: leader, host: member.host, port: member.port }, short) : Promise.resolve();
      let restAsked: Promise<PatroniMemberStatus> | undefined = restDue ? askRest() : undefined;
      if (!restAsked) {
        let grace: NodeJS.Timeout | undefined;
        const sqlQuick = await Promise.race([
          sqlPing.then(
            () => true,
            () => false,
          ),
          new Promise<false>((resolve) => {
            grace = setTimeout(() => resolve(false), Math.min(REST_AFTER_SQL_MS, timeoutMs));
          }),
        ]).finally(() => clearTimeout(grace));
        if (!sqlQuick) restAsked = askRest();
      }
      const [rest, sql] = await Promise.allSettled([restAsked ?? Promise.resolve(undefined), sqlPing]);
      if (restAsked && rest.status === 'fulfilled' && rest.value && this.tasks.has(`patroni:${leader}`)) {
        // The probe's answer is the leader's /patroni: its member poll need not ask again.
        this.readings.memberStatus[leader] = rest.value;
        this.markSource(`patroni:${leader}`, probedAt, undefined);
      }
      this.leaderProbe = {
        member: leader,
        at: this.now(),
        restOk: rest.status === 'fulfilled',
        sqlOk: sql.status === 'fulfilled',
        ...(rest.status === 'rejected' ? { restError: describeError(rest.reason, timeoutMs) } : {}),
        ...(sql.status === 'rejected' ? { sqlError: describeError(sql.reason, timeoutMs) } : {}),
      };
    }
    const phase = this.snapshot.incident?.phase;
    // The same finding as last time, with no incident open and a snapshot derived within the poll interval: the
    // snapshot would not change (the leader's WAL position moves with every probe; it is shown at the next poll).
    const finding = probeFinding(this.leaderProbe, leader ? this.readings.memberStatus[leader] : undefined);
    const unchanged = finding === this.lastProbeFinding && (!phase || phase === 'recovered') && this.now() - this.lastRebuild < this.options.pollIntervalMs;
    this.lastProbeFinding = finding;
    if (sources.writeProbe && (phase === 'electing' || phase === 'failed-over') && this.snapshot.incident?.writesAt === undefined) {
      const timeoutMs = Math.min(1000, o.timeoutMs ?? 1000);
      try {
        const answer = await sources.writeProbe({ timeoutMs, ...(o.signal ? { signal: o.signal } : {}) });
        this.writeProbe = { at: this.now(), ok: true, port: answer.port, inRecovery: answer.inRecovery };
      } catch (error) {
        this.writeProbe = { at: this.now(), ok: false, error: describeError(error, timeoutMs) };
      }
    }
    return unchanged ? 'unchanged' : undefined;
  }

  /** The leader probe answered for this member within the poll interval: its /patroni is fresh. */
  private fedByProbe(member: string): boolean {
    const probe = this.leaderProbe;
    return probe !== undefined && probe.member === member && probe.restOk && this.now() - probe.at < this.options.pollIntervalMs;
  }

  /**
   * What the first run of every source but Patroni's waits for (patroniFirstMs): also the members' sources
   * Patroni's first answer adds. Once resolved, a later source waits one microtask.
   */
  private startAfter: Promise<void> | undefined;

  private addTask(key: string, group: TaskGroup, run: Task['run'], intervalMs?: number): void {
    if (this.tasks.has(key)) return;
    const only = this.options.only;
    if (only && !selectsSource(only, key, leaderOfReadings(this.readings))) return;
    const task: Task = {
      key,
      group,
      run,
      again: false,
      running: false,
      stopped: false,
      failures: 0,
      completedOnce: false,
      ...(intervalMs ? { intervalMs } : {}),
      ...(this.startAfter ? { startAfter: this.startAfter } : {}),
    };
    this.tasks.set(key, task);
    void this.loop(task);
  }

  private removeTask(key: string): void {
    const task = this.tasks.get(key);
    if (!task) return;
    task.stopped = true;
    task.wake?.();
    this.tasks.delete(key);
    delete this.readings.sources[key];
    const member = key.split(':')[1];
    if (member && key.startsWith('patroni:')) delete this.readings.memberStatus[member];
    if (member && key.startsWith('postgres:')) delete this.readings.postgres[member];
  }

  private triggerKey(key: string): void {
    const task = this.tasks.get(key);
    if (task) this.trigger(task);
  }

  private trigger(task: Task): void {
    if (task.running) task.again = true;
    else task.wake?.();
  }

  private timeoutFor(key: string): number {
    const c = this.options.cluster;
    if (key.startsWith('postgres:')) return c.postgres.timeoutMs;
    if (key === 'dcs' || key === 'etcd') return c.etcd.timeoutMs;
    if (key === 'barman') return c.barman?.timeoutMs ?? 30_000;
    if (key.startsWith('docker:')) return c.docker?.timeoutMs ?? 5000;
    return c.patroni.timeoutMs;
  }

  private async loop(task: Task): Promise<void> {
    if (task.startAfter) await task.startAfter;
    while (!task.stopped && !this.controller.signal.aborted) {
      task.running = true;
      task.again = false;
      const started = this.now();
      const startedTick = performance.now();
      const timeoutMs = this.timeoutFor(task.key);
      // The run's deadline, disposed when it ends (AbortSignal.timeout would fire later anyway, for nothing: an
      // exception and an abort event per read, several reads a second).
      const run = deadline(timeoutMs, this.controller.signal);
      const signal = run.signal;
      let outcome: void | 'skipped' | 'unchanged' = undefined;
      try {
        // A source that ignores its signal must not freeze its loop: past twice its timeout it is abandoned.
        let guard: NodeJS.Timeout | undefined;
        outcome = await Promise.race([
          task.run({ signal, timeoutMs }),
          new Promise<never>((_, reject) => {
            guard = setTimeout(() => reject(new Error(`did not return within ${2 * timeoutMs} ms`)), 2 * timeoutMs + 100);
          }),
        ]).finally(() => clearTimeout(guard));
        task.failures = 0;
        if (outcome !== 'skipped') this.markSource(task.key, started, undefined);
      } catch (error) {
        if (task.stopped || this.controller.signal.aborted) break;
        task.failures += 1;
        this.markSource(task.key, started, describeError(error, timeoutMs));
      } finally {
        run.dispose();
        task.running = false;
      }
      if (!task.completedOnce) traceStartup(`read ${task.key}`);
      // A read that found what it found last time derives nothing new (the leader probe, twice a second).
      if (outcome !== 'unchanged' || !task.completedOnce) this.scheduleRebuild();
      task.completedOnce = true;
      if (task.stopped) break;
      if (task.again) continue;
      const watched = ((task.key === 'dcs' || task.key === 'patroni') && this.dcsWatched()) || (task.key.startsWith('patroni:') && this.memberSteady(task.key.slice('patroni:'.length)));
      const base = task.intervalMs ?? (task.group === 'fast' && !watched ? this.options.pollIntervalMs : this.slowIntervalMs);
      const delay = task.failures > 0 ? Math.min(base * 2 ** (task.failures - 1), this.maxBackoffMs) : task.intervalMs ? base : onGrid(startedTick, base);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        task.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      task.wake = undefined;
    }
  }

  private markSource(key: string, started: number, error: string | undefined): void {
    const previous = this.readings.sources[key];
    const finished = this.now();
    const [source] = key.split(':') as [SourceFreshness['source']];
    const entry: SourceFreshness = { source, key, lastDurationMs: finished - started };
    if (error === undefined) {
      entry.asOf = finished;
    } else {
      if (previous?.asOf !== undefined) entry.asOf = previous.asOf;
      entry.error = error;
      entry.failingSince = previous?.failingSince ?? finished;
    }
    this.readings.sources[key] = entry;
  }

  /** Member-level sources follow the member list: a poll of `/patroni` and of PostgreSQL per member. */
  private reconcileMemberTasks(): void {
    const { sources } = this.options;
    const members = new Map<string, { apiUrl?: string; host?: string; port?: number }>();
    for (const m of this.readings.cluster?.members ?? []) {
      members.set(m.name, { ...(m.apiUrl ? { apiUrl: m.apiUrl } : {}), ...(m.host ? { host: m.host } : {}), ...(m.port ? { port: m.port } : {}) });
    }
    for (const [name, data] of Object.entries(this.readings.dcs?.members ?? {})) {
      const known = members.get(name) ?? {};
      const conn = typeof data.conn_url === 'string' ? /@?([^/@:]+):(\d+)\//.exec(data.conn_url) : null;
      members.set(name, {
        ...known,
        ...(known.apiUrl === undefined && typeof data.api_url === 'string' ? { apiUrl: data.api_url } : {}),
        ...(known.host === undefined && conn?.[1] ? { host: conn[1], port: Number(conn[2]) } : {}),
      });
    }
    for (const [name, info] of members) {
      const restKey = `patroni:${name}`;
      if (info.apiUrl && !this.tasks.has(restKey)) {
        const apiUrl = info.apiUrl;
        this.addTask(restKey, 'fast', async (o) => {
          // The leader's /patroni comes with the leader probe's answers, several times per poll interval.
          if (this.fedByProbe(name)) return 'skipped';
          this.readings.memberStatus[name] = await sources.memberStatus(apiUrl, o);
        });
      }
      const sqlKey = `postgres:${name}`;
      if (info.host && info.port && !this.tasks.has(sqlKey)) {
        const target = { name, host: info.host, port: info.port };
        this.addTask(sqlKey, 'fast', async (o) => {
          const before = this.readings.postgres[name]?.inRecovery;
          let status;
          try {
            status = await sources.postgres(target, o);
          } catch (error) {
            // PostgreSQL stopped answering: what does its Patroni say (stopped, restarting…)? Ask now.
            if (this.readings.sources[sqlKey]?.error === undefined) this.triggerKey(restKey);
            throw error;
          }
          this.readings.postgres[name] = status;
          // Back, or promoted or demoted: Patroni's word on it now, not at its next (slow) poll.
          if (this.readings.sources[sqlKey]?.error !== undefined || (before !== undefined && before !== status.inRecovery)) this.triggerKey(restKey);
        });
      }
    }
    // Forget members that left both Patroni's list and the DCS.
    for (const key of [...this.tasks.keys()]) {
      const [kind, name] = key.split(':');
      if ((kind === 'patroni' || kind === 'postgres') && name && !members.has(name)) this.removeTask(key);
    }
  }

  // ------------------------------------------------------------------ derivation

  /**
   * Rebuild once the burst of readings of a poll round is in (they finish within milliseconds of each
   * other): one snapshot per round rather than one per source. Until the first round is complete, rebuild
   * at once, so the first screen and `status` wait for nothing.
   */
  private scheduleRebuild(): void {
    if (this.rebuildScheduled || this.controller.signal.aborted) return;
    this.rebuildScheduled = true;
    const run = () => {
      this.rebuildScheduled = false;
      this.rebuild();
    };
    if (this.readWaiters.length || !this.allCompletedOnce()) setImmediate(run);
    else setTimeout(run, REBUILD_COALESCE_MS);
  }

  private rebuild(): void {
    this.lastRebuild = this.now();
    this.derive();
    for (const waiter of [...this.readWaiters]) {
      if (!waiter.ready()) continue;
      this.readWaiters.splice(this.readWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private derive(): void {
    const now = this.now();
    const context: DeriveContext = {
      cluster: this.options.cluster.name,
      scope: this.options.cluster.scope,
      thresholds: this.options.cluster.thresholds,
      now,
      previousAlerts: this.snapshot.alerts,
      pending: this.pending,
      configured: {
        haproxy: this.options.sources.haproxy !== undefined,
        barman: this.options.sources.barmanBackups !== undefined,
        archiveLog: this.options.sources.archiveLogTail !== undefined,
      },
    };
    let next: ClusterSnapshot;
    try {
      next = deriveSnapshot(this.readings, context);
    } catch (error) {
      // A bug in derivation must not take the cockpit down: keep the last snapshot and say so.
      this.pushEvents([{ at: now, kind: 'source-failing', severity: 'critical', message: `model error: ${(error as Error).message}` }]);
      this.notify(true);
      return;
    }
    const { view, transitions } = this.incidents.update({
      snapshot: next,
      ...(this.leaderProbe ? { leaderProbe: this.leaderProbe } : {}),
      ...(this.writeProbe ? { writeProbe: this.writeProbe } : {}),
      ...(this.readings.sources.dcs?.asOf !== undefined ? { dcsReadAt: this.readings.sources.dcs.asOf } : {}),
      now,
    });
    if (view) next.incident = view;
    if (!view || view.phase === 'recovered') this.writeProbe = undefined;
    // An incident opened: read the leader key's lease now (the DCS may have been polled slowly under the watch).
    if (transitions.some((t) => t.kind === 'leader-unreachable')) this.triggerKey('dcs');
    this.pushEvents(
      transitions.map((t) => ({
        at: t.at,
        kind: 'incident' as const,
        severity: t.kind === 'leader-unreachable' || t.kind === 'lease-expired' ? ('critical' as const) : ('info' as const),
        message: t.message,
        ...(t.member ? { member: t.member } : {}),
      })),
    );
    this.sampleLag(next, now);
    const signature = contentSignature(next);
    if (signature === this.signature) {
      // Only freshness or fast-moving detail changed: hand it out at most every few seconds.
      if (now - this.lastNotify >= DETAIL_REFRESH_MS) {
        this.snapshot = next;
        this.notify(false);
      }
      return;
    }
    const previous = this.snapshot;
    this.signature = signature;
    this.snapshot = next;
    const events = diffEvents(previous.members.length ? previous : undefined, next);
    this.pushEvents(events);
    this.notify(true);
  }

  private sampleLag(snapshot: ClusterSnapshot, now: number): void {
    if (now - this.lastLagSample < this.options.pollIntervalMs * 0.9) return;
    this.lastLagSample = now;
    const capacity = this.options.lagHistoryCapacity ?? Math.ceil((10 * 60_000) / this.options.pollIntervalMs);
    for (const m of snapshot.members) {
      if (m.name === snapshot.leader) continue;
      let buffer = this.lag.get(m.name);
      if (!buffer) {
        buffer = new RingBuffer<LagSample>(capacity);
        this.lag.set(m.name, buffer);
      }
      buffer.push({
        at: now,
        ...(m.replayLagBytes !== undefined ? { replayLagBytes: m.replayLagBytes } : {}),
        ...(m.replayLagSeconds !== undefined ? { replayLagSeconds: m.replayLagSeconds } : {}),
      });
    }
  }

  /**
   * Tell subscribers; bursts within 50 ms are coalesced into one notification. With no subscriber there is no
   * one to tell (a one-shot command's runner records its events into a store nobody watches: no timer then).
   */
  private notify(immediate: boolean): void {
    if (this.listeners.size === 0) return;
    const fire = () => {
      this.notifyTimer = undefined;
      this.lastNotify = this.now();
      for (const listener of [...this.listeners]) listener();
    };
    if (this.notifyTimer) return;
    if (immediate && this.now() - this.lastNotify >= 50) fire();
    else this.notifyTimer = setTimeout(fire, 50);
  }
}

const EMPTY: readonly LagSample[] = [];

/** The time origin of every poll loop's grid (see onGrid). */
const GRID_EPOCH = performance.now();

/**
 * The wait before a loop's next read: to the first multiple of its interval (counted from one origin shared by
 * every loop) more than half an interval after this read began. The sources of an interval are then read
 * together, once per interval on average, and their answers derive one snapshot per round (REBUILD_COALESCE_MS)
 * instead of one per source, each at its own phase.
 */
function onGrid(startedTick: number, intervalMs: number): number {
  const next = GRID_EPOCH + Math.ceil((startedTick + intervalMs / 2 - GRID_EPOCH) / intervalMs) * intervalMs;
  return Math.max(0, next - performance.now());
}

/** A list of backups (newest first, as Barman lists them) with one backup added, or merged into its entry. */
function withBackup(backups: readonly BarmanBackup[], backup: BarmanBackup): BarmanBackup[] {
  if (backups.some((b) => b.id === backup.id)) return backups.map((b) => (b.id === backup.id ? { ...b, ...backup } : b));
  return [...backups, backup].sort((a, b) => b.id.localeCompare(a.id));
}
/** While the leader is well, its REST API is asked on one leader probe in this many (its SQL ping on every one). */
const REST_EVERY_PROBES = 2;
/** A leader probe without REST asks REST after all when the SQL ping has not answered within this. */
const REST_AFTER_SQL_MS = 100;
/** How long a rebuild waits for the rest of a poll round. */
const REBUILD_COALESCE_MS = 100;
/** Changes only in fast-moving detail (sessions' ages, WAL receiver times, HAProxy counters) reach readers at most this often. */
const DETAIL_REFRESH_MS = 5000;

/**
 * The snapshot without what moves on every reading (times of reading, sessions' ages, WAL receiver message
 * times, HAProxy's counters): equal signatures mean nothing an operator watches at a glance changed.
 */
const VOLATILE_KEYS = new Set(['since', 'detail', 'lastChangeSeconds', 'currentSessions', 'checkStatus', 'leaseTtlSeconds', 'modRevision']);
function contentSignature(snapshot: ClusterSnapshot): string {
  return JSON.stringify({ ...snapshot, updatedAt: 0, sources: Object.fromEntries(Object.entries(snapshot.sources).map(([k, s]) => [k, s.error ?? 'ok'])) }, (key, value: unknown) =>
    VOLATILE_KEYS.has(key) ? undefined : value,
  );
}

function describeError(error: unknown, timeoutMs: number): string {
  const e = error as Error & { name?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  return e?.message ?? String(error);
}

/** What a leader probe found, without what moves on every probe (WAL positions, the DCS contact time). */
function probeFinding(probe: LeaderProbe | undefined, status: PatroniMemberStatus | undefined): string {
  if (!probe) return '';
  const { at: _at, ...outcome } = probe;
  if (!status) return JSON.stringify(outcome);
  const { walLsn: _wal, receivedLsn: _received, replayedLsn: _replayed, replayedTimestamp: _replayedAt, dcsLastSeen: _seen, dcsLastSeenAt: _seenAt, ...rest } = status;
  return JSON.stringify([outcome, rest]);
}

/** WAL positions and lags in a member key: Patroni rewrites them every HA loop while WAL moves. */
const MEMBER_KEY_POSITIONS = new Set(['xlog_location', 'receive_lsn', 'replay_lsn', 'lsn', 'lag', 'receive_lag', 'replay_lag']);

/** A member key's value without its WAL positions (a non-JSON value as it is). */
function memberShape(value: string): string {
  try {
    const data: unknown = JSON.parse(value);
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return value;
    return JSON.stringify(Object.entries(data).filter(([key]) => !MEMBER_KEY_POSITIONS.has(key)).sort(([a], [b]) => a.localeCompare(b)));
  } catch {
    return value;
  }
}
