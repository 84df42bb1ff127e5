import { describe, expect, it } from 'vitest';
import { deriveSnapshot } from '../../src/model/derive.js';
import { applyToCluster, applyToDcs, memberAddresses, rewriteApiUrl, rewriteConnUrl } from '../../src/model/member-access.js';
import { containerDetail, containerLabel, containerNeedsNote } from '../../src/ui/container-label.js';
import { memberHealth } from '../../src/ui/member-health.js';
import { fakeContext, fakeHealthyReadings } from './fake-readings.js';

/**
 * Members that run in containers: the config's `members` map turns the addresses Patroni advertises
 * (container names) into the ones this machine reaches, and their container's state reaches the members.
 */

describe('member addresses from the config', () => {
  const addresses = memberAddresses({ members: { db1: { postgres: '127.0.0.1:15431', restApi: 'http://127.0.0.1:8001/ignored', container: 'pgcockpit-db1' }, db2: { container: 'pgcockpit-db2' } } });

  it('maps only members with an address', () => {
    expect([...addresses.keys()]).toEqual(['db1']);
    expect(addresses.get('db1')).toEqual({ host: '127.0.0.1', port: 15431, restOrigin: 'http://127.0.0.1:8001' });
  });

  it('rewrites api_url (keeping its path) and conn_url (keeping user and database)', () => {
    expect(rewriteApiUrl('http://db1:8001/patroni', 'http://127.0.0.1:8001')).toBe('http://127.0.0.1:8001/patroni');
    expect(rewriteConnUrl('postgres://db1:15431/postgres', '127.0.0.1', 15431)).toBe('postgres://127.0.0.1:15431/postgres');
    expect(rewriteConnUrl('postgres://replicator@db1:5432/postgres', '127.0.0.1', 15431)).toBe('postgres://replicator@127.0.0.1:15431/postgres');
  });

  it('applies to /cluster and to the DCS members, and leaves other members alone', () => {
    const r = fakeHealthyReadings();
    const cluster = applyToCluster(
      { ...(r.cluster as NonNullable<typeof r.cluster>), members: (r.cluster?.members ?? []).map((m) => ({ ...m, host: m.name, port: 5432, apiUrl: `http://${m.name}:8008/patroni` })) },
      addresses,
    );
    expect(cluster.members.find((m) => m.name === 'db1')).toMatchObject({ host: '127.0.0.1', port: 15431, apiUrl: 'http://127.0.0.1:8001/patroni' });
    expect(cluster.members.find((m) => m.name === 'db2')).toMatchObject({ host: 'db2', port: 5432, apiUrl: 'http://db2:8008/patroni' });
    const dcs = applyToDcs({ members: { db1: { conn_url: 'postgres://db1:5432/postgres', api_url: 'http://db1:8008/patroni', role: 'master' } }, history: [], revision: 1 }, addresses);
    expect(dcs.members.db1).toMatchObject({ conn_url: 'postgres://127.0.0.1:15431/postgres', api_url: 'http://127.0.0.1:8001/patroni', role: 'master' });
  });
});

describe('container state in the model and the panes', () => {
  it('each member shows its container; a stopped container makes an unreachable member "stopped"', () => {
    const r = fakeHealthyReadings();
    r.containerNames = { db1: 'pgcockpit-db1', db2: 'pgcockpit-db2', db3: 'pgcockpit-db3' };
    r.containers = {
      db1: { container: 'pgcockpit-db1', status: 'running', running: true, health: 'healthy', restartCount: 0 },
      db2: { container: 'pgcockpit-db2', status: 'exited', running: false, exitCode: 137, finishedAt: '2026-11-21T12:00:00.123Z' },
    };
    r.sources['patroni:db2'] = { source: 'patroni', key: 'patroni:db2', error: 'refused the connection', failingSince: 1 };
    r.sources['postgres:db2'] = { source: 'postgres', key: 'postgres:db2', error: 'refused the connection', failingSince: 1 };
    r.sources['docker:db3'] = { source: 'docker', key: 'docker:db3', error: 'container pgcockpit-db3 does not exist (the Docker API at unix:///run/podman/podman.sock)', failingSince: 1 };
    const snapshot = deriveSnapshot(r, fakeContext());
    const [db1, db2, db3] = snapshot.members;
    expect(db1?.container).toMatchObject({ name: 'pgcockpit-db1', status: 'running', running: true });
    expect(containerNeedsNote(db1?.container)).toBe(false);
    expect(db2?.state).toBe('stopped');
    expect(containerLabel(db2?.container as NonNullable<typeof db2>['container'] & object)).toBe('exited (137)');
    expect(containerDetail(db2?.container as NonNullable<NonNullable<typeof db2>['container']>)).toBe('container pgcockpit-db2: exited (137) · stopped at 2026-11-21T12:00:00Z');
    expect(db3?.container?.error).toContain('does not exist');
    expect(containerLabel(db3?.container as NonNullable<NonNullable<typeof db3>['container']>)).toBe(
      'state unknown (container pgcockpit-db3 does not exist (the Docker API at unix:///run/podman/podman.sock))',
    );
    const health = memberHealth(db2 as NonNullable<typeof db2>, { leader: 'db1', thresholdBytes: 1 << 20 });
    expect(health.notes).toContain('container exited (137)');
    expect(health.level).toBe('critical');
  });

  it('a member whose container the config names stays listed when Patroni forgets it', () => {
    const r = fakeHealthyReadings();
    r.containerNames = { db1: 'pgcockpit-db1', db2: 'pgcockpit-db2', db3: 'pgcockpit-db3', db4: 'pgcockpit-db4' };
    r.containers = { db4: { container: 'pgcockpit-db4', status: 'exited', running: false, exitCode: 0 } };
    const db4 = deriveSnapshot(r, fakeContext()).members.find((m) => m.name === 'db4');
    expect(db4).toMatchObject({ name: 'db4', role: 'unknown', state: 'stopped', container: { name: 'pgcockpit-db4', status: 'exited', exitCode: 0 } });
  });
});
