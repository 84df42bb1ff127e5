import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { defaultLabDir } from '../lab/topology.js';
import type { PgcockpitConfig, SecretRef } from './schema.js';
import { configSchema } from './schema.js';
import { traceStartup } from '../util/startup-trace.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
  }
}

/**
 * Which config file to read: --config, then $PGCOCKPIT_CONFIG, then ~/.config/pgcockpit/config.yaml,
 * then the default native lab's own (written by `pgcockpit lab up`).
 */
export function resolveConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): { path: string; origin: string } {
  if (explicit) return { path: path.resolve(explicit), origin: '--config' };
  if (env.PGCOCKPIT_CONFIG) return { path: path.resolve(env.PGCOCKPIT_CONFIG), origin: 'PGCOCKPIT_CONFIG' };
  const xdg = env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config');
  const user = path.join(xdg, 'pgcockpit', 'config.yaml');
  if (fs.existsSync(user)) return { path: user, origin: 'user config' };
  return { path: path.join(defaultLabDir(env), 'pgcockpit.yaml'), origin: 'the native lab (default)' };
}

function describeIssuePath(issuePath: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of issuePath) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(top level)';
}

/** Parse and validate config text. Problems name the key, its line, and what is wrong. */
export function parseConfig(text: string, file: string): PgcockpitConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        return `${pos ? `line ${pos.line}, column ${pos.col}: ` : ''}not valid YAML: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const data: unknown = doc.toJS();
  const result = configSchema.safeParse(data);
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.map((issue) => {
        const node = doc.getIn(issue.path as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
        const line = node?.range ? ` (line ${lineCounter.linePos(node.range[0]).line})` : '';
        return `${describeIssuePath(issue.path)}${line}: ${issue.message}`;
      }),
    );
  }
  const names = new Set<string>();
  for (const cluster of result.data.clusters) {
    if (names.has(cluster.name)) throw new ConfigError(file, [`clusters: the name "${cluster.name}" is used twice`]);
    names.add(cluster.name);
  }
  return result.data;
}

export function loadConfig(file: string): PgcockpitConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      file,
      [code === 'ENOENT' ? 'no such file (start the native lab with `pgcockpit lab up`, or give --config)' : `cannot read it (${code ?? (error as Error).message})`],
    );
  }
  traceStartup('config read');
  const config = parseConfig(text, file);
  traceStartup('config parsed');
  return config;
}

/** Read a secret by reference. The value is never logged; errors name the reference, not the value. */
export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (ref.passwordEnv) {
    const value = env[ref.passwordEnv];
    if (value === undefined) throw new Error(`the environment variable ${ref.passwordEnv} (passwordEnv) is not set`);
    return value;
  }
  if (ref.passwordFile) {
    try {
      return fs.readFileSync(ref.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new Error(`cannot read the password file ${ref.passwordFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
    }
  }
  return undefined;
}
