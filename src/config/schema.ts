import '../util/zod-setup.js';
import * as z from 'zod/mini';

/**
 * pgcockpit's configuration file (YAML): one or more clusters. Secrets are never inline: a password is
 * given as `passwordFile` (a path) or `passwordEnv` (an environment variable name).
 */

const url = z.string().check(z.regex(/^https?:\/\/[^\s/]+/, 'must be an http:// or https:// URL'));
const nonEmptyString = z.string().check(z.minLength(1));
const positiveInt = z.int().check(z.positive());
const positiveNumber = z.number().check(z.positive());
const portNumber = z.int().check(z.minimum(1), z.maximum(65535));

const secretKeys = {
  passwordFile: z.optional(nonEmptyString),
  passwordEnv: z.optional(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'))),
};

export const secretRefSchema = z.strictObject(secretKeys);

/** `password` inline is refused with a message that says what to use instead. */
const noInlinePassword = {
  password: z.optional(z.never({ error: 'inline passwords are not allowed: use passwordFile (a path) or passwordEnv (a variable name)' })),
};

export const execTransportSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('local'),
    /** Run as this OS account (through setpriv when we are root, sudo -u otherwise). */
    user: z.optional(nonEmptyString),
  }),
  z.strictObject({
    kind: z.literal('ssh'),
    /** A host as the system ssh knows it (so ~/.ssh/config and the agent apply), e.g. barman@backup1. */
    host: nonEmptyString,
    port: z.optional(portNumber),
    options: z.optional(z.array(z.string())),
  }),
  z.strictObject({
    kind: z.literal('docker'),
    container: nonEmptyString,
    /** Docker socket or DOCKER_HOST style URL; default: DOCKER_HOST, then /var/run/docker.sock. */
    socket: z.optional(nonEmptyString),
    user: z.optional(nonEmptyString),
  }),
]);

const hostPort = z.string().check(z.regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port'));

export const memberAccessSchema = z.strictObject({
  /** The member's PostgreSQL as reachable from here, host:port (e.g. a published port 127.0.0.1:15431). */
  postgres: z.optional(hostPort),
  /** The member's Patroni REST API as reachable from here (e.g. http://127.0.0.1:8001). */
  restApi: z.optional(url),
  /** The container that runs the member (Docker Engine API, see `docker`). */
  container: z.optional(nonEmptyString),
});

export const thresholdsSchema = z.strictObject({
  /** Replay lag in bytes over which a replica is flagged. Default: the cluster's maximum_lag_on_failover. */
  lagBytes: z.optional(positiveInt),
  lagSeconds: z._default(positiveNumber, 30),
  /** Newest DONE backup older than this many hours raises a warning. */
  backupMaxAgeHours: z._default(positiveNumber, 26),
  /** `.ready` files waiting to be archived over which archiving is flagged. */
  archiveBacklog: z._default(positiveInt, 10),
  /** Transactions open longer than this many seconds are listed as long-running. */
  longTransactionSeconds: z._default(positiveNumber, 300),
});

export const clusterSchema = z.strictObject({
  name: z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, dot, dash and underscore only')),
  scope: nonEmptyString,
  namespace: z.pipe(
    z._default(z.string(), '/service'),
    z.transform((ns: string) => `/${ns.replace(/^\/+|\/+$/g, '')}`),
  ),
  patroni: z.strictObject({
    /** REST endpoints of the members; when empty, discovered from the DCS (members/*: api_url). */
    endpoints: z._default(z.array(url), []),
    auth: z.optional(z.strictObject({ username: nonEmptyString, ...secretKeys, ...noInlinePassword })),
    tls: z.optional(
      z.strictObject({
        caFile: z.optional(z.string()),
        certFile: z.optional(z.string()),
        keyFile: z.optional(z.string()),
        insecure: z._default(z.boolean(), false),
      }),
    ),
    timeoutMs: z._default(positiveInt, 2000),
  }),
  etcd: z.strictObject({
    endpoints: z.array(url).check(z.minLength(1, 'at least one etcd endpoint')),
    username: z.optional(z.string()),
    ...secretKeys,
    ...noInlinePassword,
    timeoutMs: z._default(positiveInt, 2000),
  }),
  postgres: z._default(
    z.strictObject({
      user: z._default(nonEmptyString, 'postgres'),
      database: z._default(nonEmptyString, 'postgres'),
      ...secretKeys,
      ...noInlinePassword,
      sslmode: z.optional(z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full'])),
      timeoutMs: z._default(positiveInt, 3000),
    }),
    { user: 'postgres', database: 'postgres', timeoutMs: 3000 },
  ),
  haproxy: z.optional(
    z.strictObject({
      statsUrl: url,
      writeBackend: z._default(z.string(), 'write'),
      readBackend: z._default(z.string(), 'read'),
      write: z.optional(z.strictObject({ host: z.string(), port: portNumber })),
      read: z.optional(z.strictObject({ host: z.string(), port: portNumber })),
      username: z.optional(z.string()),
      ...secretKeys,
      ...noInlinePassword,
    }),
  ),
  barman: z.optional(
    z.strictObject({
      server: nonEmptyString,
      /** barman -c <config> (optional: Barman's default config otherwise). */
      config: z.optional(nonEmptyString),
      transport: z._default(execTransportSchema, { kind: 'local' }),
      timeoutMs: z._default(positiveInt, 30000),
    }),
  ),
  archiveLog: z.optional(
    z.strictObject({
      /** Path of a member's archive.log; {member} is replaced by the member's name. */
      path: nonEmptyString,
      transport: z._default(execTransportSchema, { kind: 'local' }),
      /** Per-member transports (e.g. one ssh host per member); falls back to `transport`. */
      members: z.optional(z.record(z.string(), execTransportSchema)),
    }),
  ),
  /**
   * How this machine reaches each member when the addresses Patroni advertises (container or host names)
   * do not resolve here, and which container runs it. Keyed by member name.
   */
  members: z.optional(z.record(z.string(), memberAccessSchema)),
  /** The Docker Engine API of the members' containers (container state, the failover drill's stop/start). */
  docker: z.optional(
    z.strictObject({
      /** Socket path or unix:// / tcp:// URL; default DOCKER_HOST, then /var/run/docker.sock. */
      socket: z.optional(nonEmptyString),
      timeoutMs: z._default(positiveInt, 5000),
    }),
  ),
  thresholds: z._default(thresholdsSchema, thresholdsSchema.parse({})),
  /** Present when the cluster is a pgcockpit native lab (enables lab-only operations such as the drill). */
  lab: z.optional(z.strictObject({ dir: z.string(), portBase: z.int() })),
});

export const configSchema = z.strictObject({
  clusters: z.array(clusterSchema).check(z.minLength(1, 'at least one cluster')),
  /** Poll interval of every source (the etcd watch triggers refreshes in between). */
  pollIntervalMs: z._default(z.int().check(z.minimum(200)), 2000),
  /** How often the leader alone is probed (its REST API and PostgreSQL), so its loss is flagged within 2 s. */
  leaderProbeIntervalMs: z._default(z.int().check(z.minimum(100)), 500),
  /** The audit log of operations (JSON lines). */
  auditLog: z.optional(z.string()),
  /** Directory of the model's event logs on disk, one bounded, rotated file per cluster (<dir>/<cluster>.jsonl). */
  eventLogDir: z.optional(z.string()),
});

export type ClusterConfig = z.infer<typeof clusterSchema>;
export type PgcockpitConfig = z.infer<typeof configSchema>;
export type ExecTransportConfig = z.infer<typeof execTransportSchema>;
export type SecretRef = z.infer<typeof secretRefSchema>;
export type Thresholds = z.infer<typeof thresholdsSchema>;
export type MemberAccess = z.infer<typeof memberAccessSchema>;
