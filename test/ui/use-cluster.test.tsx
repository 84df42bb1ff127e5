import { afterEach, describe, expect, it } from 'vitest';
import { Text } from 'ink';
import { cleanup } from 'ink-testing-library';
import type { ClusterStore } from '../../src/model/store.js';
import { batchStore } from '../../src/ui/batch-store.js';
import { useEvents, useLagHistory, useSnapshot } from '../../src/ui/use-cluster.js';
import { FakeClusterStore } from '../support/fake-store.js';
import { FAKE_NOW, fakeLagSamples, fakeLabSnapshot } from '../support/fake-snapshots.js';
import { renderInk } from '../support/ink.js';

afterEach(() => cleanup());

function Probe({ store, renders }: { store: ClusterStore; renders: { count: number } }) {
  const snapshot = useSnapshot(store);
  const events = useEvents(store);
  const lag = useLagHistory(store, 'db2');
  renders.count += 1;
  return <Text>{`leader=${snapshot.leader ?? '-'} events=${events.length} lag=${lag.length}`}</Text>;
}

describe('store hooks', () => {
  it('re-render on a change of the snapshot, the events or the lag history', async () => {
    const store = new FakeClusterStore(fakeLabSnapshot());
    const ui = renderInk(<Probe store={store} renders={{ count: 0 }} />);
    await ui.waitForFrame('leader=db1 events=0 lag=0');
    store.setSnapshot({ ...fakeLabSnapshot(), leader: 'db2' });
    await ui.waitForFrame('leader=db2');
    store.recordEvent({ at: FAKE_NOW, kind: 'operation', message: 'switchover requested' });
    await ui.waitForFrame('events=1');
    store.setLagHistory('db2', fakeLagSamples(FAKE_NOW, 1000));
    await ui.waitForFrame('lag=30');
    ui.unmount();
    expect(store.listenerCount).toBe(0);
  });

  it('a burst of changes through batchStore costs one render', async () => {
    const store = new FakeClusterStore(fakeLabSnapshot());
    const renders = { count: 0 };
    const batched = batchStore(store, 30);
    const ui = renderInk(<Probe store={batched} renders={renders} />);
    await ui.waitForFrame('events=0');
    const before = renders.count;
    for (let i = 1; i <= 100; i += 1) store.recordEvent({ at: FAKE_NOW + i, kind: 'operation', message: `line ${i}` });
    await ui.waitForFrame('events=100');
    expect(renders.count - before).toBe(1);
  });
});
