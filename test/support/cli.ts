import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The commands started by runCli that have not exited yet. */
const running = new Set<ChildProcess>();

/** Run the real, built `pgcockpit` (bin/pgcockpit.js on dist/) with this Node, as a script would. */
export function runCli(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(packageRoot(), 'bin', 'pgcockpit.js'), ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 180_000,
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => {
      running.delete(child);
      reject(error);
    });
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * Stop every command runCli started that is still running (a test that timed out leaves its command
 * behind): SIGTERM, as an operator's Ctrl-C would (operations stop at a safe point), then SIGKILL after
 * `graceMs`. Resolves once they have all exited.
 */
export async function stopStrayChildren(graceMs = 15_000): Promise<number> {
  const strays = [...running];
  await Promise.all(
    strays.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
          child.once('close', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  return strays.length;
}
