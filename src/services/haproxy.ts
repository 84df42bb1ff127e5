import { readSecret } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import type { HttpAgent } from './http.js';
import { basicAuthHeader, createAgent, httpCall, originOf } from './http.js';
import type { CallOptions, HaproxyRouting, HaproxyServer } from './types.js';
import { ServiceError } from './types.js';

/**
 * HAProxy adapter: GET the stats page as CSV (`…/;csv`), parse it, and say which servers the write and read
 * backends route to. The CSV parser is pure and shared (the lab's readiness probe uses it too).
 */

/** One row of HAProxy's stats CSV, keyed by the header's field names (pxname, svname, status, …). */
export type HaproxyCsvRow = Record<string, string>;

/** Split one CSV line; HAProxy doesn't quote, but a quoted field (with commas or doubled quotes) is honoured. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  fields.push(field);
  return fields;
}

/**
 * Parse HAProxy's stats CSV (`show stat` / `GET /;csv`): the first line is `# pxname,svname,…`, then one row per
 * frontend, backend and server. Throws when the header is missing the columns every version has.
 */
export function parseHaproxyStatsCsv(csv: string): HaproxyCsvRow[] {
  const lines = csv.split(/\r?\n/).filter((line) => line.trim() !== '');
  const headerLine = lines[0];
  if (!headerLine?.startsWith('#')) throw new Error('not an HAProxy stats CSV: the first line is not a "# pxname,svname,…" header');
  const header = splitCsvLine(headerLine.replace(/^#\s*/, ''));
  for (const required of ['pxname', 'svname', 'status']) {
    if (!header.includes(required)) throw new Error(`not an HAProxy stats CSV: the header has no "${required}" column`);
  }
  return lines.slice(1).map((line) => {
    const values = splitCsvLine(line);
    const row: HaproxyCsvRow = {};
    header.forEach((name, index) => {
      if (name) row[name] = values[index] ?? '';
    });
    return row;
  });
}

/**
 * A server's status word: `UP 1/3` (UP, going down) → UP, `DOWN 1/2` (DOWN, going up) → DOWN; MAINT, DRAIN, NOLB,
 * `no check` stay as they are. A server takes new connections when UP or `no check` (NOLB, DRAIN, MAINT don't).
 */
export function serverStatusWord(status: string): string {
  const trimmed = status.trim();
  if (/^UP\b/.test(trimmed)) return 'UP';
  if (/^DOWN\b/.test(trimmed)) return 'DOWN';
  return trimmed;
}

export function isServerUp(statusWord: string): boolean {
  return statusWord === 'UP' || statusWord === 'no check';
}

function optionalNumber(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Server rows (not FRONTEND/BACKEND) of the given backends, and which of them take traffic. */
export function routingFromCsv(rows: HaproxyCsvRow[], writeBackend: string, readBackend: string): HaproxyRouting {
  const servers: HaproxyServer[] = [];
  for (const row of rows) {
    const backend = row.pxname ?? '';
    const server = row.svname ?? '';
    if (server === 'FRONTEND' || server === 'BACKEND') continue;
    if (backend !== writeBackend && backend !== readBackend) continue;
    const status = serverStatusWord(row.status ?? '');
    const entry: HaproxyServer = { backend, server, status, up: isServerUp(status) };
    const sessions = optionalNumber(row.scur);
    if (sessions !== undefined) entry.currentSessions = sessions;
    const lastChange = optionalNumber(row.lastchg);
    if (lastChange !== undefined) entry.lastChangeSeconds = lastChange;
    if (row.check_status) entry.checkStatus = row.check_status;
    servers.push(entry);
  }
  return {
    servers,
    writeTargets: servers.filter((s) => s.backend === writeBackend && s.up).map((s) => s.server),
    readTargets: servers.filter((s) => s.backend === readBackend && s.up).map((s) => s.server),
  };
}

export interface HaproxyAdapterOptions {
  statsUrl: string;
  writeBackend: string;
  readBackend: string;
  username?: string;
  password?: string;
  timeoutMs: number;
}

const DEFAULT_TIMEOUT_MS = 2000;

export class HaproxyAdapter {
  private readonly agent: HttpAgent;

  constructor(private readonly options: HaproxyAdapterOptions) {
    this.agent = createAgent();
  }

  static fromConfig(config: NonNullable<ClusterConfig['haproxy']>, env: NodeJS.ProcessEnv = process.env, timeoutMs = DEFAULT_TIMEOUT_MS): HaproxyAdapter {
    const options: HaproxyAdapterOptions = { statsUrl: config.statsUrl, writeBackend: config.writeBackend, readBackend: config.readBackend, timeoutMs };
    if (config.username) {
      options.username = config.username;
      const password = readSecret(config, env);
      if (password !== undefined) options.password = password;
    }
    return new HaproxyAdapter(options);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The raw stats CSV (for fixtures and diagnostics). */
  async statsCsv(options: CallOptions = {}): Promise<string> {
    const headers: Record<string, string> = {};
    if (this.options.username) headers.authorization = basicAuthHeader(this.options.username, this.options.password);
    const answer = await httpCall({
      source: 'haproxy',
      peer: 'HAProxy stats',
      agent: this.agent,
      method: 'GET',
      url: this.options.statsUrl,
      headers,
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (answer.status === 401 || answer.status === 403) {
      throw new ServiceError('haproxy', 'auth', `HAProxy stats ${answer.endpoint} refused the request (${answer.status}): check haproxy.username and its password`, answer.endpoint);
    }
    if (answer.status !== 200) throw new ServiceError('haproxy', 'http', `HAProxy stats ${answer.endpoint} answered ${answer.status}`, answer.endpoint);
    return answer.text;
  }

  async routing(options: CallOptions = {}): Promise<HaproxyRouting> {
    const csv = await this.statsCsv(options);
    let rows: HaproxyCsvRow[];
    try {
      rows = parseHaproxyStatsCsv(csv);
    } catch (error) {
      throw new ServiceError('haproxy', 'malformed', `HAProxy stats ${originOf(this.options.statsUrl)}: ${(error as Error).message} (is the URL the CSV page, ending in ";csv"?)`, originOf(this.options.statsUrl));
    }
    const routing = routingFromCsv(rows, this.options.writeBackend, this.options.readBackend);
    const backends = new Set(rows.map((r) => r.pxname));
    const missing = [this.options.writeBackend, this.options.readBackend].filter((b) => !backends.has(b));
    if (missing.length) {
      throw new ServiceError('haproxy', 'malformed', `HAProxy stats ${originOf(this.options.statsUrl)} list no backend named ${missing.map((m) => `"${m}"`).join(' or ')} (haproxy.writeBackend/readBackend in the config)`, originOf(this.options.statsUrl));
    }
    return routing;
  }
}
