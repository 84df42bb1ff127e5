import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const valid = `clusters:
  - name: lab
    scope: patroni1
    namespace: service/
    patroni:
      endpoints: [http://127.0.0.1:8001]
    etcd:
      endpoints: [http://127.0.0.1:2379]
    barman:
      server: patroni1
`;

function problems(text: string): string[] {
  try {
    parseConfig(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('parseConfig', () => {
  it('fills in the defaults and normalizes the namespace', () => {
    const config = parseConfig(valid, 'test.yaml');
    expect(config.pollIntervalMs).toBe(2000);
    expect(config.leaderProbeIntervalMs).toBe(500);
    const [cluster] = config.clusters;
    expect(cluster?.namespace).toBe('/service');
    expect(cluster?.patroni.timeoutMs).toBe(2000);
    expect(cluster?.postgres).toEqual({ user: 'postgres', database: 'postgres', timeoutMs: 3000 });
    expect(cluster?.barman?.transport).toEqual({ kind: 'local' });
    expect(cluster?.thresholds).toEqual({ lagSeconds: 30, backupMaxAgeHours: 26, archiveBacklog: 10, longTransactionSeconds: 300 });
  });

  it('names each bad key with its line, in our words or zod’s English ones', () => {
    const text = `clusters:
  - name: "bad name"
    scope: ""
    surprise: 1
    patroni:
      endpoints: [ftp://x]
    etcd:
      endpoints: []
      password: hunter2
    postgres:
      sslmode: maybe
      timeoutMs: "3"
    barman:
      server: b
      transport: { kind: ftp }
    thresholds: { archiveBacklog: 2.5 }
pollIntervalMs: 100
`;
    expect(problems(text)).toEqual([
      'clusters[0].name (line 2): letters, digits, dot, dash and underscore only',
      'clusters[0].scope (line 3): Too small: expected string to have >=1 characters',
      'clusters[0].patroni.endpoints[0] (line 6): must be an http:// or https:// URL',
      'clusters[0].etcd.endpoints (line 8): at least one etcd endpoint',
      'clusters[0].etcd.password (line 9): inline passwords are not allowed: use passwordFile (a path) or passwordEnv (a variable name)',
      'clusters[0].postgres.sslmode (line 11): Invalid option: expected one of "disable"|"prefer"|"require"|"verify-ca"|"verify-full"',
      'clusters[0].postgres.timeoutMs (line 12): Invalid input: expected number, received string',
      "clusters[0].barman.transport.kind (line 15): Invalid discriminator value. Expected 'local' | 'ssh' | 'docker'",
      'clusters[0].thresholds.archiveBacklog (line 16): Invalid input: expected int, received number',
      'clusters[0] (line 2): Unrecognized key: "surprise"',
      'pollIntervalMs (line 17): Too small: expected number to be >=200',
    ]);
  });

  it('refuses a cluster name used twice', () => {
    expect(problems(`clusters:\n${valid.slice('clusters:\n'.length).repeat(2)}`)).toEqual(['clusters: the name "lab" is used twice']);
  });
});
