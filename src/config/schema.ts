import { z } from 'zod';

/**
 * pgcockpit's configuration file (YAML): one or more clusters. Secrets are never inline: a password is
 * given as `passwordFile` (a path) or `passwordEnv` (an environment variable name).
 */

const url = z.string().regex(/^https?:\/\/[^\s/]+/, 'must be an http:// or https:// URL');

export const secretRefSchema = z
  .object({
    passwordFile: z.string().min(1).optional(),
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
  })
  .strict();

const secretKeys = {
  passwordFile: z.string().min(1).optional(),
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
};

/** `password` inline is refused with a message that says what to use instead. */
const noInlinePassword = {
  password: z
    .never({ error: 'inline passwords are not allowed: use passwordFile (a path) or passwordEnv (a variable name)' })
    .optional(),
};

export const execTransportSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('local'),
      /** Run as this OS account (through setpriv when we are root, sudo -u otherwise). */
      user: z.string().min(1).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('ssh'),
      /** A host as the system ssh knows it (so ~/.ssh/config and the agent apply), e.g. barman@backup1. */
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).optional(),
      options: z.array(z.string()).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('docker'),
      container: z.string().min(1),
      /** Docker socket or DOCKER_HOST style URL; default: DOCKER_HOST, then /var/run/docker.sock. */
      socket: z.string().min(1).optional(),
      user: z.string().min(1).optional(),
    })
    .strict(),
]);

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port');

export const memberAccessSchema = z
  .object({
    /** The member's PostgreSQL as reachable from here, host:port (e.g. a published port 127.0.0.1:15431). */
    postgres: hostPort.optional(),
    /** The member's Patroni REST API as reachable from here (e.g. http://127.0.0.1:8001). */
    restApi: url.optional(),
    /** The container that runs the member (Docker Engine API, see `docker`). */
    container: z.string().min(1).optional(),
  })
  .strict();

export const thresholdsSchema = z
  .object({
    /** Replay lag in bytes over which a replica is flagged. Default: the cluster's maximum_lag_on_failover. */
    lagBytes: z.number().int().positive().optional(),
    lagSeconds: z.number().positive().default(30),
    /** Newest DONE backup older than this many hours raises a warning. */
    backupMaxAgeHours: z.number().positive().default(26),
    /** `.ready` files waiting to be archived over which archiving is flagged. */
    archiveBacklog: z.number().int().positive().default(10),
    /** Transactions open longer than this many seconds are listed as long-running. */
    longTransactionSeconds: z.number().positive().default(300),
  })
  .strict();

export const clusterSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, dot, dash and underscore only'),
    scope: z.string().min(1),
    namespace: z
      .string()
      .default('/service')
      .transform((ns) => `/${ns.replace(/^\/+|\/+$/g, '')}`),
    patroni: z
      .object({
        /** REST endpoints of the members; when empty, discovered from the DCS (members/*: api_url). */
        endpoints: z.array(url).default([]),
        auth: z
          .object({ username: z.string().min(1), ...secretKeys, ...noInlinePassword })
          .strict()
          .optional(),
        tls: z
          .object({ caFile: z.string().optional(), certFile: z.string().optional(), keyFile: z.string().optional(), insecure: z.boolean().default(false) })
          .strict()
          .optional(),
        timeoutMs: z.number().int().positive().default(2000),
      })
      .strict(),
    etcd: z
      .object({
        endpoints: z.array(url).min(1, 'at least one etcd endpoint'),
        username: z.string().optional(),
        ...secretKeys,
        ...noInlinePassword,
        timeoutMs: z.number().int().positive().default(2000),
      })
      .strict(),
    postgres: z
      .object({
        user: z.string().min(1).default('postgres'),
        database: z.string().min(1).default('postgres'),
        ...secretKeys,
        ...noInlinePassword,
        sslmode: z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
        timeoutMs: z.number().int().positive().default(3000),
      })
      .strict()
      .default({ user: 'postgres', database: 'postgres', timeoutMs: 3000 }),
    haproxy: z
      .object({
        statsUrl: url,
        writeBackend: z.string().default('write'),
        readBackend: z.string().default('read'),
        write: z.object({ host: z.string(), port: z.number().int().min(1).max(65535) }).strict().optional(),
        read: z.object({ host: z.string(), port: z.number().int().min(1).max(65535) }).strict().optional(),
        username: z.string().optional(),
        ...secretKeys,
        ...noInlinePassword,
      })
      .strict()
      .optional(),
    barman: z
      .object({
        server: z.string().min(1),
        /** barman -c <config> (optional: Barman's default config otherwise). */
        config: z.string().min(1).optional(),
        transport: execTransportSchema.default({ kind: 'local' }),
        timeoutMs: z.number().int().positive().default(30000),
      })
      .strict()
      .optional(),
    archiveLog: z
      .object({
        /** Path of a member's archive.log; {member} is replaced by the member's name. */
        path: z.string().min(1),
        transport: execTransportSchema.default({ kind: 'local' }),
        /** Per-member transports (e.g. one ssh host per member); falls back to `transport`. */
        members: z.record(z.string(), execTransportSchema).optional(),
      })
      .strict()
      .optional(),
    /**
     * How this machine reaches each member when the addresses Patroni advertises (container or host names)
     * do not resolve here, and which container runs it. Keyed by member name.
     */
    members: z.record(z.string(), memberAccessSchema).optional(),
    /** The Docker Engine API of the members' containers (container state, the failover drill's stop/start). */
    docker: z
      .object({
        /** Socket path or unix:// / tcp:// URL; default DOCKER_HOST, then /var/run/docker.sock. */
        socket: z.string().min(1).optional(),
        timeoutMs: z.number().int().positive().default(5000),
      })
      .strict()
      .optional(),
    thresholds: thresholdsSchema.default(thresholdsSchema.parse({})),
    /** Present when the cluster is a pgcockpit native lab (enables lab-only operations such as the drill). */
    lab: z.object({ dir: z.string(), portBase: z.number().int() }).strict().optional(),
  })
  .strict();

export const configSchema = z
  .object({
    clusters: z.array(clusterSchema).min(1, 'at least one cluster'),
    /** Poll interval of every source (the etcd watch triggers refreshes in between). */
    pollIntervalMs: z.number().int().min(200).default(2000),
    /** How often the leader alone is probed (its REST API and PostgreSQL), so its loss is flagged within 2 s. */
    leaderProbeIntervalMs: z.number().int().min(100).default(500),
    /** The audit log of operations (JSON lines). */
    auditLog: z.string().optional(),
    /** Directory of the model's event logs on disk, one bounded, rotated file per cluster (<dir>/<cluster>.jsonl). */
    eventLogDir: z.string().optional(),
  })
  .strict();

export type ClusterConfig = z.infer<typeof clusterSchema>;
export type PgcockpitConfig = z.infer<typeof configSchema>;
export type ExecTransportConfig = z.infer<typeof execTransportSchema>;
export type SecretRef = z.infer<typeof secretRefSchema>;
export type Thresholds = z.infer<typeof thresholdsSchema>;
export type MemberAccess = z.infer<typeof memberAccessSchema>;
