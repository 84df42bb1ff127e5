import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSecret } from '../config/load.js';
import type { ClusterConfig, PgcockpitConfig } from '../config/schema.js';

/**
 * The audit log of operations: JSON lines (one per start, step end, warning, refusal and end), appended
 * synchronously so that a crash leaves every line written so far. Who: the OS user (and the sudo user),
 * the SSH client address. Never a secret: parameters hold none, and every line is scrubbed of the
 * cluster's configured passwords before it is written, in case an error message ever carried one.
 */

export interface OperatorIdentity {
  user: string;
  /** The account that ran sudo, when it did. */
  sudoUser?: string;
  /** The SSH client's address (SSH_CLIENT / SSH_CONNECTION), when logged in over SSH. */
  sshClient?: string;
  host: string;
  pid: number;
}

export function operatorIdentity(env: NodeJS.ProcessEnv = process.env): OperatorIdentity {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = env.USER ?? env.LOGNAME ?? String(process.getuid?.() ?? '?');
  }
  const identity: OperatorIdentity = { user, host: os.hostname(), pid: process.pid };
  if (env.SUDO_USER && env.SUDO_USER !== user) identity.sudoUser = env.SUDO_USER;
  const ssh = (env.SSH_CLIENT ?? env.SSH_CONNECTION ?? '').trim().split(/\s+/)[0];
  if (ssh) identity.sshClient = ssh;
  return identity;
}

/** config `auditLog`, else /var/log/pgcockpit/audit.log as root, else $XDG_STATE_HOME/pgcockpit/audit.log. */
export function auditLogPath(config: Pick<PgcockpitConfig, 'auditLog'> | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (config?.auditLog) return path.resolve(config.auditLog);
  if (process.getuid?.() === 0) return '/var/log/pgcockpit/audit.log';
  const state = env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'pgcockpit', 'audit.log');
}

/** Every password the cluster's config references (to scrub from audit lines); unreadable ones are skipped. */
export function clusterSecrets(cluster: ClusterConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const refs = [cluster.patroni.auth, cluster.etcd, cluster.postgres, cluster.haproxy].filter((r) => r !== undefined);
  const secrets: string[] = [];
  for (const ref of refs) {
    try {
      const value = readSecret(ref, env);
      if (value && value.length >= 4) secrets.push(value);
    } catch {
      // A reference that cannot be read holds nothing to scrub.
    }
  }
  return secrets;
}

export interface AuditRecord {
  time: string;
  event: 'start' | 'step' | 'warning' | 'refused' | 'end';
  operationId: string;
  cluster: string;
  scope: string;
  operation: string;
  params: Record<string, unknown>;
  user: string;
  sudoUser?: string;
  sshClient?: string;
  host: string;
  pid: number;
  [key: string]: unknown;
}

export interface AuditSink {
  write(record: AuditRecord): void;
}

export class AuditLog implements AuditSink {
  constructor(
    readonly file: string,
    private readonly secrets: readonly string[] = [],
  ) {}

  write(record: AuditRecord): void {
    let line = JSON.stringify(record);
    for (const secret of this.secrets) line = line.split(secret).join('***');
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o750 });
    fs.appendFileSync(this.file, `${line}\n`, { mode: 0o640 });
  }
}

/** Read an audit log back (tests, `pgcockpit audit` one day). Lines that don't parse are skipped. */
export function readAuditLog(file: string): AuditRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const records: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as AuditRecord);
    } catch {
      // skip
    }
  }
  return records;
}
