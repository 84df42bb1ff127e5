import { spawnSync } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline/promises';
import type { CommandSpec, Io } from './args.js';
import { UsageError, helpText, parseCommand } from './args.js';
import type { LabStatusReport } from '../lab/lab.js';
import { labDestroy, labDown, labEnv, labStatus, labSuperuserPassword, labUp, readLabTopology } from '../lab/lab.js';
import { LabBusyError } from '../lab/lab-state.js';
import { runLoad } from '../lab/load.js';
import { MissingPackagesError, installCommand, missingLabPackages } from '../lab/prerequisites.js';
import { defaultLabDir, defaultPortBase, parseMemberCount, parsePortBase } from '../lab/topology.js';

const common: CommandSpec['options'] = {
  dir: { type: 'string' },
  'port-base': { type: 'string' },
  members: { type: 'string' },
};
const commonHelp: Array<[string, string]> = [
  ['--dir DIR', 'the lab directory (default: PGCOCKPIT_LAB_DIR, else /var/lib/pgcockpit/lab as root, ~/.local/state/pgcockpit/lab otherwise)'],
  ['--port-base N', 'add N to every lab port, so two labs run side by side (default: PGCOCKPIT_LAB_PORT_BASE or 0)'],
];

export const LAB_COMMANDS: Record<string, CommandSpec> = {
  up: {
    name: 'lab up',
    summary: 'Start the native lab (etcd ×3, Patroni/PostgreSQL 15, HAProxy, Barman) and wait until it is ready.',
    usage: 'pgcockpit lab up [--dir DIR] [--port-base N] [--members 2-5] [--rest-auth]',
    options: { ...common, 'rest-auth': { type: 'boolean' }, json: { type: 'boolean' } },
    optionHelp: [
      ...commonHelp,
      ['--members N', 'Patroni members db1..dbN, 2 to 5 (default 3)'],
      ['--rest-auth', "protect Patroni's REST API with basic authentication"],
      ['--json', 'print the result as JSON'],
    ],
  },
  down: {
    name: 'lab down',
    summary: 'Stop the processes the lab started (replicas before the leader). Data stays.',
    usage: 'pgcockpit lab down [--dir DIR]',
    options: { dir: { type: 'string' } },
    optionHelp: [commonHelp[0] as [string, string]],
  },
  status: {
    name: 'lab status',
    summary: 'Show every lab process, its ports, its role and its memory.',
    usage: 'pgcockpit lab status [--dir DIR] [--json]',
    options: { dir: { type: 'string' }, json: { type: 'boolean' } },
    optionHelp: [commonHelp[0] as [string, string], ['--json', 'print the report as JSON']],
  },
  destroy: {
    name: 'lab destroy',
    summary: 'Stop the lab and delete its directory: data, backups, logs. Asks you to type "destroy" unless --yes.',
    usage: 'pgcockpit lab destroy [--dir DIR] [--yes]',
    options: { dir: { type: 'string' }, yes: { type: 'boolean' } },
    optionHelp: [commonHelp[0] as [string, string], ['--yes', 'do not ask (needed when not on a terminal)']],
  },
  load: {
    name: 'lab load',
    summary: 'Run a steady write workload through the write port and count acknowledged commits.',
    usage: 'pgcockpit lab load [--dir DIR] [--rate N] [--duration S] [--json]',
    options: { dir: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' }, json: { type: 'boolean' } },
    optionHelp: [
      commonHelp[0] as [string, string],
      ['--rate N', 'commits per second (default 50)'],
      ['--duration S', 'stop after S seconds (default: until Ctrl-C)'],
      ['--json', 'print the final report as JSON'],
    ],
  },
  install: {
    name: 'lab install',
    summary: "Install the Debian packages the lab needs, when missing (as root; otherwise print the command).",
    usage: 'pgcockpit lab install',
    options: {},
    optionHelp: [],
  },
  env: {
    name: 'lab env',
    summary: 'Print shell exports for the write port: eval "$(pgcockpit lab env)"; psql',
    usage: 'pgcockpit lab env [--dir DIR]',
    options: { dir: { type: 'string' } },
    optionHelp: [commonHelp[0] as [string, string]],
  },
};

export const LAB_SPEC: CommandSpec = {
  name: 'lab',
  summary: 'The native lab: a real Patroni cluster of native processes on 127.0.0.1.',
  usage: `pgcockpit lab <${Object.keys(LAB_COMMANDS).join('|')}> [options]   (pgcockpit lab <command> --help)`,
  options: {},
  optionHelp: [],
};

function labDir(value: unknown, io: Io): string {
  return typeof value === 'string' ? path.resolve(value) : defaultLabDir(io.env);
}

function formatBytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export function formatLabStatus(report: LabStatusReport): string {
  if (!report.options) return `no lab in ${report.dir}${report.exists ? ' (directory exists, no lab.json)' : ''}`;
  const lines = [`lab ${report.dir} (port base ${report.options.portBase}, ${report.options.members} members)`];
  lines.push(`${'PROCESS'.padEnd(12)}${'PID'.padEnd(9)}${'ALIVE'.padEnd(7)}${'ROLE'.padEnd(10)}${'STATE'.padEnd(12)}${'RSS'.padEnd(9)}PORTS`);
  for (const p of report.processes) {
    lines.push(
      `${p.name.padEnd(12)}${String(p.pid ?? '-').padEnd(9)}${(p.alive ? 'yes' : 'no').padEnd(7)}${(p.role ?? '-').padEnd(10)}${(p.state ?? '-').padEnd(12)}${(p.alive ? formatBytes(p.rssBytes) : '-').padEnd(9)}${p.ports.join(',') || '-'}`,
    );
  }
  lines.push(`total RSS ${formatBytes(report.totalRssBytes)}`);
  if (report.readiness) {
    lines.push(report.readiness.ready ? 'ready' : `not ready: ${report.readiness.problems.join('; ')}`);
  }
  return lines.join('\n');
}

/** `pgcockpit lab …`; returns the exit code. */
export async function labCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(`${helpText(LAB_SPEC)}\n\nCommands:\n${Object.entries(LAB_COMMANDS).map(([n, s]) => `  ${n.padEnd(9)} ${s.summary}`).join('\n')}`);
    return sub ? 0 : 2;
  }
  const spec = LAB_COMMANDS[sub];
  if (!spec) throw new UsageError(`unknown lab command "${sub}"\n\n${helpText(LAB_SPEC)}`);
  const { values } = parseCommand(spec, rest);
  if (values.help) {
    io.out(helpText(spec));
    return 0;
  }
  const dir = labDir(values.dir, io);
  const log = (line: string) => io.err(`  ${line}`);
  try {
    switch (sub) {
      case 'up': {
        let portBase: number;
        let members: number;
        try {
          portBase = typeof values['port-base'] === 'string' ? parsePortBase(values['port-base']) : defaultPortBase(io.env);
          members = typeof values.members === 'string' ? parseMemberCount(values.members) : 3;
        } catch (error) {
          throw new UsageError(`lab up: ${(error as Error).message}`);
        }
        io.err(`bringing the lab up in ${dir} (port base ${portBase}, ${members} members)`);
        const result = await labUp({ dir, portBase, members, restAuth: values['rest-auth'] === true }, log);
        if (values.json) {
          io.out(JSON.stringify({ dir, elapsedMs: result.elapsedMs, started: result.started, alreadyRunning: result.alreadyRunning, readiness: result.readiness }, null, 2));
        } else {
          const t = result.topology;
          io.out(
            [
              `lab ready in ${(result.elapsedMs / 1000).toFixed(1)} s: leader ${result.readiness.leader}, streaming ${result.readiness.streaming.join(', ')}`,
              `  write port ${t.host}:${t.haproxy.writePort} · read port ${t.haproxy.readPort} · HAProxy stats http://${t.host}:${t.haproxy.statsPort}/`,
              `  Patroni REST ${t.members.map((m) => m.restPort).join(', ')} · etcd ${t.etcd.map((e) => e.clientPort).join(', ')}`,
              `  cockpit config ${t.paths.cockpitConfig}`,
              `  psql: eval "$(pgcockpit lab env${dir === defaultLabDir(io.env) ? '' : ` --dir ${dir}`})"; psql`,
            ].join('\n'),
          );
        }
        return 0;
      }
      case 'down': {
        const result = await labDown(dir, log);
        io.out(result.nothingRunning ? `nothing to stop: no lab process is running in ${dir}` : `stopped ${result.stopped.join(', ')}`);
        return 0;
      }
      case 'status': {
        const report = await labStatus(dir);
        io.out(values.json ? JSON.stringify(report, null, 2) : formatLabStatus(report));
        return report.options ? 0 : 3;
      }
      case 'destroy': {
        if (!values.yes) {
          if (!io.isTTY) {
            io.err(`refusing to destroy ${dir} without --yes (not on a terminal); it deletes the lab's data and backups`);
            return 1;
          }
          const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(`This deletes ${dir}: all lab data, backups and logs. Type "destroy" to confirm: `);
          rl.close();
          if (answer.trim() !== 'destroy') {
            io.err('not confirmed; nothing changed');
            return 1;
          }
        }
        const result = await labDestroy(dir, log);
        io.out(result.removed ? `destroyed ${dir}` : `nothing to destroy: ${dir} does not exist`);
        return 0;
      }
      case 'load': {
        const topology = readLabTopology(dir);
        const rate = values.rate === undefined ? 50 : Number(values.rate);
        if (!Number.isFinite(rate) || rate <= 0 || rate > 5000) throw new UsageError(`--rate must be a number from 1 to 5000, got "${String(values.rate)}"`);
        const duration = values.duration === undefined ? undefined : Number(values.duration);
        if (duration !== undefined && (!Number.isFinite(duration) || duration <= 0)) throw new UsageError(`--duration must be a positive number of seconds, got "${String(values.duration)}"`);
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        io.err(`writing ${rate} commits/s through ${topology.host}:${topology.haproxy.writePort}${duration ? ` for ${duration} s` : ' until Ctrl-C'}`);
        const report = await runLoad({
          target: { host: topology.host, port: topology.haproxy.writePort, user: 'postgres', password: labSuperuserPassword(topology), database: 'postgres' },
          ratePerSecond: rate,
          ...(duration ? { durationMs: duration * 1000 } : {}),
          signal: controller.signal,
          onProgress: (p) =>
            io.err(`  ${(p.elapsedMs / 1000).toFixed(0)} s · acknowledged ${p.acknowledged} · errors ${p.errors} · reconnects ${p.reconnects}${p.lastError && p.errors ? ` · last error: ${p.lastError}` : ''}`),
        });
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        const { acknowledgedSeqs, ...summary } = report;
        void acknowledgedSeqs;
        io.out(values.json ? JSON.stringify(summary) : `run ${report.runId}: ${report.acknowledged} commits acknowledged, ${report.errors} errors, ${report.reconnects} reconnects in ${(report.elapsedMs / 1000).toFixed(1)} s`);
        return 0;
      }
      case 'install': {
        const missing = missingLabPackages();
        if (missing.length === 0) {
          io.out('every package the lab needs is installed');
          return 0;
        }
        const command = installCommand(missing);
        if (process.getuid?.() !== 0) {
          io.err(`the lab needs: ${missing.join(' ')}; run as root:\n  ${command}`);
          return 1;
        }
        io.err(`installing ${missing.join(' ')}`);
        const result = spawnSync('sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
        return result.status === 0 ? 0 : 2;
      }
      case 'env': {
        io.out(labEnv(dir));
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof MissingPackagesError || error instanceof LabBusyError) {
      io.err(`pgcockpit lab ${sub}: ${error.message}`);
      return 1;
    }
    io.err(`pgcockpit lab ${sub}: ${(error as Error).message}`);
    return 2;
  }
  return 2;
}
