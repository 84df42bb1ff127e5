import type { ClusterConfig } from '../config/schema.js';
import type { DcsView, PatroniCluster } from '../services/types.js';

/**
 * The config's `members` section applied to what Patroni advertises: a containerised member says
 * `db1:5432` and `http://db1:8001/patroni`, names that resolve only inside the containers' network; from
 * the cockpit's machine the member is the published 127.0.0.1:15431 and http://127.0.0.1:8001. Pure: the
 * model reads Patroni's answers through these, so every pane and every operation uses reachable addresses.
 */
export interface MemberAddress {
  host?: string;
  port?: number;
  /** Origin of the REST API (scheme://host:port), without a path. */
  restOrigin?: string;
}

export function memberAddresses(cluster: Pick<ClusterConfig, 'members'>): Map<string, MemberAddress> {
  const map = new Map<string, MemberAddress>();
  for (const [name, access] of Object.entries(cluster.members ?? {})) {
    const address: MemberAddress = {};
    if (access.postgres) {
      const at = access.postgres.lastIndexOf(':');
      address.host = access.postgres.slice(0, at);
      address.port = Number(access.postgres.slice(at + 1));
    }
    if (access.restApi) address.restOrigin = new URL(access.restApi).origin;
    if (address.host || address.restOrigin) map.set(name, address);
  }
  return map;
}

/** Patroni's api_url with its origin replaced (its path, e.g. /patroni, kept). */
export function rewriteApiUrl(apiUrl: string, restOrigin: string): string {
  try {
    const url = new URL(apiUrl);
    return `${restOrigin}${url.pathname === '/' ? '' : url.pathname}${url.search}`;
  } catch {
    return restOrigin;
  }
}

/** A conn_url (postgres://host:port/db) with host and port replaced. */
export function rewriteConnUrl(connUrl: string, host: string, port: number): string {
  return connUrl.replace(/^(\w+:\/\/(?:[^@/]*@)?)([^/@]+?)(\/|$)/, (_whole, head: string, _hostPort: string, tail: string) => `${head}${host.includes(':') ? `[${host}]` : host}:${port}${tail}`);
}

export function applyToCluster(cluster: PatroniCluster, addresses: Map<string, MemberAddress>): PatroniCluster {
  if (addresses.size === 0) return cluster;
  return {
    ...cluster,
    members: cluster.members.map((m) => {
      const address = addresses.get(m.name);
      if (!address) return m;
      return {
        ...m,
        ...(address.host !== undefined ? { host: address.host, port: address.port } : {}),
        ...(address.restOrigin !== undefined ? { apiUrl: m.apiUrl ? rewriteApiUrl(m.apiUrl, address.restOrigin) : `${address.restOrigin}/patroni` } : {}),
      };
    }),
  };
}

export function applyToDcs(view: DcsView, addresses: Map<string, MemberAddress>): DcsView {
  if (addresses.size === 0) return view;
  const members: DcsView['members'] = {};
  for (const [name, data] of Object.entries(view.members)) {
    const address = addresses.get(name);
    if (!address) {
      members[name] = data;
      continue;
    }
    const copy = { ...data };
    if (address.host !== undefined && address.port !== undefined && typeof copy.conn_url === 'string') copy.conn_url = rewriteConnUrl(copy.conn_url, address.host, address.port);
    if (address.restOrigin !== undefined) copy.api_url = typeof copy.api_url === 'string' ? rewriteApiUrl(copy.api_url, address.restOrigin) : `${address.restOrigin}/patroni`;
    members[name] = copy;
  }
  return { ...view, members };
}
