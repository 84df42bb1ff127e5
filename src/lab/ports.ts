import fs from 'node:fs';
import net from 'node:net';

/** Is this TCP port free to listen on at this address? */
export function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Who listens on a TCP port: the pid and command line, found through /proc/net/tcp{,6} (socket inode)
 * and /proc/<pid>/fd. Undefined when it cannot be told (another user's process while not root).
 */
export function findListener(port: number): { pid: number; command: string } | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const state = fields[3];
      const inode = fields[9];
      if (!local || state !== '0A' || !inode) continue; // 0A = LISTEN
      const hexPort = local.split(':')[1];
      if (hexPort && parseInt(hexPort, 16) === port) inodes.add(inode);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match?.[1] && inodes.has(match[1])) {
        let command = '';
        try {
          command = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
        } catch {
          /* gone meanwhile */
        }
        return { pid: Number(entry), command };
      }
    }
  }
  return undefined;
}
