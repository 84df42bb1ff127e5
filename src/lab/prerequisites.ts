import fs from 'node:fs';

/** What the native lab needs from Debian, binary by binary. */
export const LAB_PACKAGES: Array<{ binary: string; pkg: string }> = [
  { binary: '/usr/lib/postgresql/15/bin/postgres', pkg: 'postgresql-15' },
  { binary: '/usr/bin/patroni', pkg: 'patroni' },
  { binary: '/usr/bin/etcd', pkg: 'etcd-server' },
  { binary: '/usr/bin/etcdctl', pkg: 'etcd-client' },
  { binary: '/usr/sbin/haproxy', pkg: 'haproxy' },
  { binary: '/usr/bin/barman', pkg: 'barman' },
  { binary: '/usr/bin/barman-wal-archive', pkg: 'barman-cli' },
];

export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';

export function missingLabPackages(exists: (file: string) => boolean = fs.existsSync): string[] {
  return [...new Set(LAB_PACKAGES.filter((p) => !exists(p.binary)).map((p) => p.pkg))];
}

export function installCommand(packages: string[]): string {
  return `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

export class MissingPackagesError extends Error {
  override name = 'MissingPackagesError';
  constructor(readonly packages: string[]) {
    super(
      `the native lab needs Debian packages that are not installed: ${packages.join(', ')}\n` +
        `  install them with: pgcockpit lab install   (as root)\n` +
        `  or by hand:        ${installCommand(packages)}`,
    );
  }
}
