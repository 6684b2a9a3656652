import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { Color, Environment, InstanceStatus } from '../../src/domain/enums.js';
import { BadInputError } from '../../src/domain/errors.js';
import type { InstanceMetrics } from '../../src/domain/instance.js';
import { type InstanceRegistry, METRICS_HISTORY_LENGTH, type NewInstance } from '../../src/registry/instance-registry.js';
import { MemoryInstanceRegistry } from '../../src/registry/memory-registry.js';
import { RedisInstanceRegistry } from '../../src/registry/redis-registry.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0 + ms);
const { HEALTHY, DEGRADED, STALE } = InstanceStatus;

function instance(id: string, overrides: Partial<NewInstance> = {}): NewInstance {
  const base = { service: 'checkout', environment: Environment.PRODUCTION, color: null, metadata: null, registeredAt: at(0) };
  return { id, host: `${id}.local`, ...base, ...overrides };
}

/** The behaviour every InstanceRegistry must show; `factory` gives a fresh, empty registry per test. */
export function describeRegistryContract(name: string, factory: () => InstanceRegistry): void {
  describe(`InstanceRegistry contract: ${name}`, () => {
    let reg: InstanceRegistry;
    beforeEach(() => void (reg = factory()));

    const registerAll = async (...items: NewInstance[]): Promise<unknown> => Promise.all(items.map((i) => reg.register(i)));
    const ids = async (filter = {}): Promise<string[]> => (await reg.list(filter)).map((r) => r.id);
    const counts = (healthy: number, degraded: number, stale: number) => ({ HEALTHY: healthy, DEGRADED: degraded, STALE: stale });

    it('register and get round-trip every field', async () => {
      const metadata = { zone: 'eu-1', build: { sha: 'abc', n: 7 }, tags: ['a', 1, true, null] };
      const input = instance('i1', { color: Color.BLUE, metadata, registeredAt: at(5) });
      const expected = {
        id: 'i1', service: 'checkout', environment: Environment.PRODUCTION, host: 'i1.local', color: Color.BLUE, metadata,
        status: HEALTHY, registeredAt: at(5), lastHeartbeatAt: at(5), metrics: null, staleSince: null, degradedAt: null,
      };
      expect(await reg.register(input)).toEqual(expected);
      const got = await reg.get('i1');
      expect(got).toEqual(expected);
      for (const date of [got?.registeredAt, got?.lastHeartbeatAt]) expect(date).toBeInstanceOf(Date);
    });

    it('keeps a null color and null metadata apart from GREEN and {}; an unknown id is null', async () => {
      await registerAll(instance('a'), instance('b', { color: Color.GREEN, metadata: {} }));
      expect(await reg.get('a')).toMatchObject({ color: null, metadata: null });
      expect(await reg.get('b')).toMatchObject({ color: Color.GREEN, metadata: {} });
      expect(await reg.get('nope')).toBeNull();
    });

    it('hands out copies: changing a returned record changes nothing stored', async () => {
      const input = instance('i1', { metadata: { zone: 'a' } });
      const registered = await reg.register(input);
      (registered.metadata as { zone: string }).zone = 'x';
      (input.metadata as { zone: string }).zone = 'y';
      const got = (await reg.get('i1'))!;
      got.status = DEGRADED;
      got.registeredAt.setTime(0);
      expect(await reg.get('i1')).toMatchObject({ status: HEALTHY, metadata: { zone: 'a' }, registeredAt: at(0) });
    });

    it('registering an existing id replaces it and drops its history', async () => {
      await reg.register(instance('i1'));
      await reg.heartbeat('i1', at(10), { errorRate: 0.1 });
      await reg.register(instance('i1', { service: 'search', registeredAt: at(20) }));
      expect(await reg.get('i1')).toMatchObject({ service: 'search', metrics: null, lastHeartbeatAt: at(20) });
      expect(await reg.history('i1', 20)).toEqual([]);
      expect([await ids({ service: 'checkout' }), await ids({ service: 'search' })]).toEqual([[], ['i1']]);
      expect(await reg.countByStatus()).toEqual(counts(1, 0, 0));
    });

    it('restore stores an instance the registry does not hold, as register does: HEALTHY, listed, and a target once subscribed', async () => {
      const input = instance('lost', { color: Color.GREEN, registeredAt: at(7) });
      const restored = await reg.restore(input);
      expect(restored).toEqual({
        id: 'lost', service: 'checkout', environment: Environment.PRODUCTION, host: 'lost.local', color: Color.GREEN, metadata: null,
        status: HEALTHY, registeredAt: at(7), lastHeartbeatAt: at(7), metrics: null, staleSince: null, degradedAt: null,
      });
      expect(await reg.get('lost')).toEqual(restored);
      expect(await ids({ service: 'checkout', status: HEALTHY })).toEqual(['lost']);
      await reg.connected('lost');
      expect(await reg.liveInstances('checkout', Environment.PRODUCTION)).toEqual([{ id: 'lost', color: Color.GREEN }]);
      expect(await reg.heartbeat('lost', at(8), { errorRate: 0.1 })).toMatchObject({ lastHeartbeatAt: at(8), metrics: { errorRate: 0.1 } });
      expect(await reg.countByStatus()).toEqual(counts(1, 0, 0));
    });

    it('restore leaves an instance the registry holds as it is, history included, and returns it', async () => {
      await reg.register(instance('i1', { metadata: { zone: 'a' } }));
      await reg.heartbeat('i1', at(10), { requestCount: 3 });
      await reg.setStatus('i1', DEGRADED);
      const held = await reg.get('i1');
      const restored = await reg.restore(instance('i1', { service: 'search', host: 'other', registeredAt: at(20) }));
      expect(restored).toEqual(held);
      expect(await reg.get('i1')).toEqual(held);
      expect(await reg.history('i1', 5)).toEqual([{ at: at(10), metrics: { requestCount: 3 } }]);
      expect([await ids({ service: 'checkout' }), await ids({ service: 'search' })]).toEqual([['i1'], []]);
    });

    it('restores at once keep one record; a deregistered id can be restored again (ends are kept elsewhere)', async () => {
      const results = await Promise.all([1, 2, 3].map((n) => reg.restore(instance('r', { host: `h${n}`, registeredAt: at(n) }))));
      expect(new Set(results.map((r) => r.host)).size).toBe(1);
      expect(await ids()).toEqual(['r']);
      expect(await reg.countByStatus()).toEqual(counts(1, 0, 0));
      await reg.deregister('r');
      expect(await reg.restore(instance('r', { registeredAt: at(9) }))).toMatchObject({ id: 'r', registeredAt: at(9) });
      expect(await ids()).toEqual(['r']);
    });

    it('lists by service, environment and status, alone and combined', async () => {
      expect(await ids()).toEqual([]);
      await registerAll(instance('a'), instance('b', { environment: Environment.STAGING }), instance('c', { service: 'search' }));
      await reg.register(instance('d', { service: 'search', environment: Environment.STAGING }));
      await reg.setStatus('b', DEGRADED);
      await reg.setStatus('c', DEGRADED);
      expect(await ids()).toEqual(['a', 'b', 'c', 'd']);
      expect(await ids({ service: 'checkout' })).toEqual(['a', 'b']);
      expect(await ids({ environment: Environment.STAGING })).toEqual(['b', 'd']);
      expect(await ids({ status: DEGRADED })).toEqual(['b', 'c']);
      expect(await ids({ service: 'search', environment: Environment.STAGING })).toEqual(['d']);
      expect(await ids({ service: 'checkout', status: DEGRADED })).toEqual(['b']);
      expect(await ids({ environment: Environment.PRODUCTION, status: HEALTHY })).toEqual(['a']);
      expect(await ids({ service: 'search', environment: Environment.PRODUCTION, status: DEGRADED })).toEqual(['c']);
      expect(await ids({ service: 'other' })).toEqual([]);
      expect(await ids({ environment: Environment.DEVELOPMENT })).toEqual([]);
      expect(await ids({ status: STALE })).toEqual([]);
      expect(await ids({ service: 'checkout', environment: Environment.DEVELOPMENT })).toEqual([]);
    });

    it('lists oldest registration first, then by id', async () => {
      await registerAll(instance('c', { registeredAt: at(2) }), instance('b', { registeredAt: at(1) }), instance('a', { registeredAt: at(2) }));
      expect(await ids()).toEqual(['b', 'a', 'c']);
      expect(await ids({ service: 'checkout' })).toEqual(['b', 'a', 'c']);
    });

    it('liveInstances gives id and color of the non-STALE instances of one service and environment, oldest first', async () => {
      expect(await reg.liveInstances('checkout', Environment.PRODUCTION)).toEqual([]);
      await registerAll(
        instance('a', { color: Color.BLUE, registeredAt: at(2) }),
        instance('b', { registeredAt: at(1) }),
        instance('c', { color: Color.GREEN, registeredAt: at(3) }),
        instance('d', { registeredAt: at(4) }),
        instance('staging', { environment: Environment.STAGING }),
        instance('search', { service: 'search' }),
        instance('check', { service: 'check' }),
      );
      for (const id of ['a', 'b', 'c', 'd', 'staging', 'search', 'check']) await reg.connected(id);
      await reg.setStatus('c', DEGRADED);
      for (const id of ['a', 'b', 'c']) await reg.heartbeat(id, at(20), null);
      await reg.markStale(at(10), at(30));
      expect(await reg.liveInstances('checkout', Environment.PRODUCTION)).toEqual([
        { id: 'b', color: null },
        { id: 'a', color: Color.BLUE },
        { id: 'c', color: Color.GREEN },
      ]);
      await reg.heartbeat('d', at(40), null);
      await reg.deregister('a');
      expect((await reg.liveInstances('checkout', Environment.PRODUCTION)).map((i) => i.id)).toEqual(['b', 'c', 'd']);
      expect(await reg.liveInstances('checkout', Environment.DEVELOPMENT)).toEqual([]);
    });

    it('liveInstances leaves out instances that hold no subscription: never subscribed, or the last one closed', async () => {
      await registerAll(instance('a', { registeredAt: at(1) }), instance('b', { registeredAt: at(2) }), instance('c', { registeredAt: at(3) }));
      await reg.connected('a');
      await reg.connected('b');
      await reg.connected('b');
      await reg.disconnected('b', at(5));
      expect((await reg.liveInstances('checkout', Environment.PRODUCTION)).map((i) => i.id)).toEqual(['a', 'b']);
      await reg.disconnected('b', at(6));
      expect((await reg.liveInstances('checkout', Environment.PRODUCTION)).map((i) => i.id)).toEqual(['a']);
    });

    it('presence counts subscriptions over all replicas and remembers when the last one closed', async () => {
      await registerAll(instance('a'), instance('b'));
      expect(await reg.presence(['a', 'b'])).toEqual(new Map());
      await reg.connected('a');
      await reg.connected('a');
      await reg.disconnected('a', at(5));
      expect(await reg.presence(['a', 'b'])).toEqual(new Map([['a', { connections: 1, disconnectedAt: null }]]));
      await reg.disconnected('a', at(7));
      expect(await reg.presence(['a'])).toEqual(new Map([['a', { connections: 0, disconnectedAt: at(7) }]]));
      await reg.connected('a');
      expect(await reg.presence(['a'])).toEqual(new Map([['a', { connections: 1, disconnectedAt: null }]]));
      expect(await reg.presence([])).toEqual(new Map());
    });

    it('keeps no presence of a deregistered instance once its last subscription closed', async () => {
      await registerAll(instance('a'), instance('b'));
      await reg.connected('a');
      await reg.connected('b');
      await reg.disconnected('b', at(3));
      await reg.deregister('a');
      await reg.deregister('b');
      await reg.disconnected('a', at(4));
      expect(await reg.presence(['a', 'b'])).toEqual(new Map());
    });

    it('heartbeat updates lastHeartbeatAt, metrics and history', async () => {
      await reg.register(instance('i1'));
      const metrics: InstanceMetrics = { errorRate: 0.01, latencyP99Ms: 120.5, requestCount: 42, custom: { queue: 3 } };
      const record = await reg.heartbeat('i1', at(1000), metrics);
      expect(record).toMatchObject({ id: 'i1', lastHeartbeatAt: at(1000), metrics, status: HEALTHY });
      expect(await reg.get('i1')).toEqual(record);
      expect(await reg.history('i1', 5)).toEqual([{ at: at(1000), metrics }]);
    });

    it('keeps the newest 20 samples, newest first, and honours the limit', async () => {
      await reg.register(instance('i1'));
      for (let n = 1; n <= 25; n += 1) await reg.heartbeat('i1', at(n), { requestCount: n });
      const history = await reg.history('i1', 100);
      expect(history).toHaveLength(METRICS_HISTORY_LENGTH);
      expect(history.map((s) => s.metrics.requestCount)).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
      expect(history[0]?.at).toEqual(at(25));
      expect((await reg.history('i1', 3)).map((s) => s.metrics.requestCount)).toEqual([25, 24, 23]);
      expect(await reg.history('i1', 0)).toEqual([]);
      expect(await reg.history('unknown', 5)).toEqual([]);
    });

    it('histories returns the samples of several instances in one call, each newest first', async () => {
      await registerAll(instance('a'), instance('b'), instance('c'));
      for (let n = 1; n <= 3; n += 1) await reg.heartbeat('a', at(n), { requestCount: n });
      await reg.heartbeat('b', at(10), { errorRate: 0.5, latencyP99Ms: 12.5, custom: { queue: 2 } });
      await reg.heartbeat('b', at(11), null);
      await reg.heartbeat('c', at(20), { requestCount: 7 });
      const got = await reg.histories(['b', 'a'], 20);
      expect([...got.keys()].sort()).toEqual(['a', 'b']);
      expect(got.get('a')).toEqual([
        { at: at(3), metrics: { requestCount: 3 } },
        { at: at(2), metrics: { requestCount: 2 } },
        { at: at(1), metrics: { requestCount: 1 } },
      ]);
      expect(got.get('b')).toEqual([{ at: at(10), metrics: { errorRate: 0.5, latencyP99Ms: 12.5, custom: { queue: 2 } } }]);
      for (const samples of got.values()) for (const s of samples) expect(s.at).toBeInstanceOf(Date);
      for (const id of ['a', 'b', 'c']) expect((await reg.histories([id], 20)).get(id)).toEqual(await reg.history(id, 20));
    });

    it('histories gives unknown ids, and instances without metrics, an empty list', async () => {
      await registerAll(instance('quiet'), instance('loud'));
      await reg.heartbeat('loud', at(1), { errorRate: 0.1 });
      await reg.heartbeat('quiet', at(1), null);
      await reg.register(instance('gone'));
      await reg.heartbeat('gone', at(2), { errorRate: 0.2 });
      await reg.deregister('gone');
      const got = await reg.histories(['nope', 'quiet', 'gone', 'loud'], 5);
      expect(got.get('nope')).toEqual([]);
      expect(got.get('quiet')).toEqual([]);
      expect(got.get('gone')).toEqual([]);
      expect(got.get('loud')).toEqual([{ at: at(1), metrics: { errorRate: 0.1 } }]);
      expect((await reg.histories([], 20)).size).toBe(0);
    });

    it('histories honours the limit and keeps at most 20 samples', async () => {
      await registerAll(instance('a'), instance('b'));
      for (let n = 1; n <= 25; n += 1) await reg.heartbeat('a', at(n), { requestCount: n });
      for (let n = 1; n <= 4; n += 1) await reg.heartbeat('b', at(n), { requestCount: 100 + n });
      const counts = (m: Map<string, Array<{ metrics: InstanceMetrics }>>, id: string) => m.get(id)?.map((s) => s.metrics.requestCount);
      const all = await reg.histories(['a', 'b'], 100);
      expect(all.get('a')).toHaveLength(METRICS_HISTORY_LENGTH);
      expect(counts(all, 'a')).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
      expect(counts(all, 'b')).toEqual([104, 103, 102, 101]);
      const two = await reg.histories(['a', 'b'], 2);
      expect(counts(two, 'a')).toEqual([25, 24]);
      expect(counts(two, 'b')).toEqual([104, 103]);
      const none = await reg.histories(['a', 'b'], 0);
      expect([none.get('a'), none.get('b')]).toEqual([[], []]);
    });

    it('histories hands out copies', async () => {
      await reg.register(instance('a'));
      await reg.heartbeat('a', at(1), { errorRate: 0.1, custom: { q: 1 } });
      const first = (await reg.histories(['a'], 20)).get('a')!;
      first[0]!.metrics.errorRate = 0.9;
      first[0]!.at.setTime(0);
      expect((await reg.histories(['a'], 20)).get('a')).toEqual([{ at: at(1), metrics: { errorRate: 0.1, custom: { q: 1 } } }]);
    });

    it('a heartbeat without metrics keeps the previous metrics and adds no sample', async () => {
      await reg.register(instance('i1'));
      await reg.heartbeat('i1', at(1), { errorRate: 0.2 });
      const record = await reg.heartbeat('i1', at(2), null);
      expect(record).toMatchObject({ lastHeartbeatAt: at(2), metrics: { errorRate: 0.2 } });
      expect(await reg.history('i1', 20)).toHaveLength(1);
    });

    it('a heartbeat for an unknown id is null and creates nothing', async () => {
      expect(await reg.heartbeat('ghost', at(1), { errorRate: 0 })).toBeNull();
      expect(await reg.get('ghost')).toBeNull();
      expect(await reg.history('ghost', 20)).toEqual([]);
      expect(await reg.countByStatus()).toEqual(counts(0, 0, 0));
      expect(await reg.markStale(at(10_000), at(10_000))).toEqual([]);
    });

    it('a heartbeat after deregister is null and does not resurrect the instance', async () => {
      await reg.register(instance('i1'));
      await reg.deregister('i1');
      expect(await reg.heartbeat('i1', at(1), { errorRate: 0 })).toBeNull();
      expect(await reg.setStatus('i1', DEGRADED)).toBeNull();
      expect(await reg.get('i1')).toBeNull();
      expect(await ids({ service: 'checkout' })).toEqual([]);
      expect(await reg.countByStatus()).toEqual(counts(0, 0, 0));
    });

    it('setStatus switches HEALTHY and DEGRADED, null when unknown, refuses STALE', async () => {
      await reg.register(instance('i1'));
      expect(await reg.setStatus('i1', DEGRADED)).toMatchObject({ id: 'i1', status: DEGRADED });
      expect((await reg.get('i1'))?.status).toBe(DEGRADED);
      expect(await reg.setStatus('i1', HEALTHY)).toMatchObject({ status: HEALTHY });
      expect(await reg.setStatus('unknown', DEGRADED)).toBeNull();
      await expect(reg.setStatus('i1', STALE)).rejects.toBeInstanceOf(BadInputError);
    });

    it('DEGRADED records when the verdict came (now by default), each verdict moves it on, HEALTHY clears it', async () => {
      await reg.register(instance('i1'));
      const before = Date.now();
      const now = (await reg.setStatus('i1', DEGRADED))!.degradedAt!;
      expect(now.getTime()).toBeGreaterThanOrEqual(before);
      expect(now.getTime()).toBeLessThanOrEqual(Date.now());
      expect(await reg.setStatus('i1', DEGRADED, at(40))).toMatchObject({ status: DEGRADED, degradedAt: at(40) });
      expect(await reg.get('i1')).toMatchObject({ degradedAt: at(40) });
      expect(await reg.setStatus('i1', DEGRADED, at(50))).toMatchObject({ degradedAt: at(50) });
      expect(await reg.setStatus('i1', HEALTHY, at(60))).toMatchObject({ status: HEALTHY, degradedAt: null });
      expect(await reg.heartbeat('i1', at(70), { errorRate: 0 })).toMatchObject({ degradedAt: null });
    });

    it('recover sets HEALTHY only what is still DEGRADED by the same verdict', async () => {
      await registerAll(instance('a'), instance('b'), instance('c'), instance('h'));
      for (const id of ['a', 'b', 'c']) await reg.setStatus(id, DEGRADED, at(10));
      expect(await reg.recover('a', at(10))).toBe(true);
      expect(await reg.get('a')).toMatchObject({ status: HEALTHY, degradedAt: null });
      expect(await reg.recover('a', at(10))).toBe(false);
      // A newer verdict named b since the caller read it: the newer verdict wins.
      await reg.setStatus('b', DEGRADED, at(20));
      expect(await reg.recover('b', at(10))).toBe(false);
      expect(await reg.get('b')).toMatchObject({ status: DEGRADED, degradedAt: at(20) });
      // c went STALE since: recovering would make a silent instance HEALTHY.
      await reg.markStale(at(100), at(30));
      expect(await reg.recover('c', at(10))).toBe(false);
      expect((await reg.get('c'))?.status).toBe(STALE);
      expect(await reg.recover('h', at(10))).toBe(false);
      expect(await reg.recover('unknown', at(10))).toBe(false);
      expect(await reg.get('unknown')).toBeNull();
      expect(await ids({ status: HEALTHY })).toEqual([]);
      expect(await reg.countByStatus()).toEqual(counts(0, 0, 4));
      await reg.heartbeat('a', at(40), null);
      expect(await ids({ status: HEALTHY })).toEqual(['a']);
    });

    it('recover moves the instance between the status indexes', async () => {
      await registerAll(instance('a'), instance('b', { service: 'search' }));
      await reg.setStatus('a', DEGRADED, at(10));
      expect(await ids({ status: DEGRADED })).toEqual(['a']);
      expect(await reg.countByStatus()).toEqual(counts(1, 1, 0));
      expect(await reg.recover('a', at(10))).toBe(true);
      expect(await ids({ status: DEGRADED })).toEqual([]);
      expect(await ids({ service: 'checkout', status: HEALTHY })).toEqual(['a']);
      expect(await reg.countByStatus()).toEqual(counts(2, 0, 0));
      expect(await reg.countByService()).toEqual(expect.arrayContaining([{ service: 'checkout', environment: Environment.PRODUCTION, status: HEALTHY, count: 1 }]));
    });

    it('a DEGRADED instance that goes STALE comes back DEGRADED with its verdict time; a HEALTHY one HEALTHY', async () => {
      await registerAll(instance('d'), instance('h'));
      await reg.setStatus('d', DEGRADED, at(5));
      expect((await reg.markStale(at(10), at(20))).sort()).toEqual(['d', 'h']);
      expect(await reg.get('d')).toMatchObject({ status: STALE, staleSince: at(20), degradedAt: at(5) });
      expect(await reg.heartbeat('d', at(30), null)).toMatchObject({ status: DEGRADED, staleSince: null, degradedAt: at(5) });
      expect(await reg.heartbeat('h', at(30), null)).toMatchObject({ status: HEALTHY, degradedAt: null });
      expect(await ids({ status: DEGRADED })).toEqual(['d']);
      expect(await reg.countByStatus()).toEqual(counts(1, 1, 0));
      expect(await reg.removeStale(at(1_000_000))).toEqual([]);
      expect(await reg.markStale(at(31), at(40))).toEqual(['d', 'h']);
      // Marked HEALTHY while STALE (a verdict's explicit answer): it forgets the verdict and comes back HEALTHY.
      await reg.setStatus('d', HEALTHY);
      await reg.markStale(at(1_000), at(50));
      expect(await reg.heartbeat('d', at(60), null)).toMatchObject({ status: HEALTHY, degradedAt: null });
    });

    it('statuses gives the status of each id it holds in one call, and leaves unknown ids out', async () => {
      await registerAll(instance('a'), instance('b'), instance('c'));
      await reg.setStatus('b', DEGRADED);
      await reg.heartbeat('a', at(20), null);
      await reg.markStale(at(10), at(30));
      expect(await reg.statuses(['a', 'b', 'c', 'gone'])).toEqual(new Map([['a', HEALTHY], ['b', STALE], ['c', STALE]]));
      await reg.heartbeat('b', at(40), null);
      await reg.deregister('c');
      expect(await reg.statuses(['c', 'b', 'b'])).toEqual(new Map([['b', DEGRADED]]));
      expect(await reg.statuses([])).toEqual(new Map());
    });

    it('deregister removes the record, its history and its index entries', async () => {
      await registerAll(instance('a'), instance('b'));
      await reg.heartbeat('a', at(1), { errorRate: 0 });
      expect(await reg.deregister('a')).toBe(true);
      expect(await reg.deregister('a')).toBe(false);
      expect(await reg.deregister('never')).toBe(false);
      expect(await reg.get('a')).toBeNull();
      expect(await reg.history('a', 20)).toEqual([]);
      expect(await ids({ service: 'checkout' })).toEqual(['b']);
      expect(await ids({ status: HEALTHY })).toEqual(['b']);
      expect(await reg.countByStatus()).toEqual(counts(1, 0, 0));
    });

    it('markStale marks only heartbeats before the cutoff, once', async () => {
      await registerAll(instance('old'), instance('edge'), instance('fresh'), instance('deg'));
      await reg.heartbeat('edge', at(100), null);
      await reg.heartbeat('fresh', at(200), null);
      await reg.setStatus('deg', DEGRADED);
      expect((await reg.markStale(at(100), at(300))).sort()).toEqual(['deg', 'old']);
      expect(await reg.get('old')).toMatchObject({ status: STALE, staleSince: at(300), lastHeartbeatAt: at(0) });
      expect(await reg.get('edge')).toMatchObject({ status: HEALTHY, staleSince: null });
      expect(await reg.markStale(at(100), at(400))).toEqual([]);
      expect((await reg.get('old'))?.staleSince).toEqual(at(300));
      expect(await ids({ status: STALE })).toEqual(['deg', 'old']);
    });

    it('concurrent markStale calls report each instance once', async () => {
      await registerAll(instance('a'), instance('b'), instance('c'));
      const results = await Promise.all([1, 2, 3].map(() => reg.markStale(at(1), at(2))));
      expect(results.flat().sort()).toEqual(['a', 'b', 'c']);
    });

    it('a STALE instance that heartbeats is HEALTHY again and leaves the stale set', async () => {
      await reg.register(instance('i1'));
      await reg.markStale(at(1), at(10));
      expect(await reg.heartbeat('i1', at(20), null)).toMatchObject({ status: HEALTHY, staleSince: null, lastHeartbeatAt: at(20) });
      expect(await reg.removeStale(at(1_000_000))).toEqual([]);
      expect(await reg.countByStatus()).toEqual(counts(1, 0, 0));
      expect(await reg.markStale(at(21), at(30))).toEqual(['i1']);
    });

    it('setStatus on a STALE instance clears staleSince; the reaper can mark it again', async () => {
      await reg.register(instance('i1'));
      await reg.markStale(at(1), at(10));
      expect(await reg.setStatus('i1', DEGRADED)).toMatchObject({ status: DEGRADED, staleSince: null });
      expect(await reg.removeStale(at(1_000_000))).toEqual([]);
      expect(await reg.markStale(at(1), at(50))).toEqual(['i1']);
      expect((await reg.get('i1'))?.staleSince).toEqual(at(50));
    });

    it('removeStale removes only instances STALE since before the cutoff', async () => {
      await registerAll(instance('a'), instance('b'), instance('c'), instance('live', { registeredAt: at(500) }));
      await reg.heartbeat('a', at(1), { errorRate: 0.5 });
      await reg.markStale(at(10), at(100));
      await reg.heartbeat('c', at(150), null);
      await reg.markStale(at(200), at(200));
      expect(await reg.removeStale(at(100))).toEqual([]);
      expect((await reg.removeStale(at(101))).sort()).toEqual(['a', 'b']);
      expect(await reg.get('a')).toBeNull();
      expect(await reg.history('a', 20)).toEqual([]);
      expect(await ids()).toEqual(['c', 'live']);
      expect(await reg.removeStale(at(10_000))).toEqual(['c']);
      expect(await ids()).toEqual(['live']);
    });

    it('countByStatus follows every kind of change', async () => {
      expect(await reg.countByStatus()).toEqual(counts(0, 0, 0));
      await registerAll(instance('a'), instance('b'), instance('c', { registeredAt: at(50) }));
      expect(await reg.countByStatus()).toEqual(counts(3, 0, 0));
      await reg.setStatus('b', DEGRADED);
      expect(await reg.countByStatus()).toEqual(counts(2, 1, 0));
      await reg.markStale(at(10), at(10));
      expect(await reg.countByStatus()).toEqual(counts(1, 0, 2));
      await reg.heartbeat('a', at(20), null);
      expect(await reg.countByStatus()).toEqual(counts(2, 0, 1));
      await reg.removeStale(at(11));
      expect(await reg.countByStatus()).toEqual(counts(2, 0, 0));
      await reg.deregister('c');
      expect(await reg.countByStatus()).toEqual(counts(1, 0, 0));
    });

    /** countByService as sorted "service/environment/status=count" strings. */
    const byService = async (): Promise<string[]> =>
      (await reg.countByService()).map((c) => `${c.service}/${c.environment}/${c.status}=${c.count}`).sort();

    it('countByService counts by service, environment and status, and leaves zero counts out', async () => {
      expect(await reg.countByService()).toEqual([]);
      await registerAll(
        instance('a'),
        instance('b'),
        instance('c', { environment: Environment.STAGING }),
        instance('d', { service: 'search' }),
        instance('e', { service: 'search', environment: Environment.DEVELOPMENT }),
      );
      expect(await byService()).toEqual([
        'checkout/PRODUCTION/HEALTHY=2',
        'checkout/STAGING/HEALTHY=1',
        'search/DEVELOPMENT/HEALTHY=1',
        'search/PRODUCTION/HEALTHY=1',
      ]);
      await reg.setStatus('b', DEGRADED);
      expect(await byService()).toEqual([
        'checkout/PRODUCTION/DEGRADED=1',
        'checkout/PRODUCTION/HEALTHY=1',
        'checkout/STAGING/HEALTHY=1',
        'search/DEVELOPMENT/HEALTHY=1',
        'search/PRODUCTION/HEALTHY=1',
      ]);
      const counted = await reg.countByService();
      expect(counted.every((c) => c.count > 0)).toBe(true);
      expect(counted.find((c) => c.service === 'checkout' && c.status === DEGRADED)).toEqual({
        service: 'checkout', environment: Environment.PRODUCTION, status: DEGRADED, count: 1,
      });
    });

    it('countByService follows heartbeat, markStale, removeStale and deregister', async () => {
      await registerAll(instance('a'), instance('b'), instance('c'), instance('s', { service: 'search', registeredAt: at(50) }));
      await reg.heartbeat('a', at(20), null);
      await reg.markStale(at(10), at(30));
      expect(await byService()).toEqual(['checkout/PRODUCTION/HEALTHY=1', 'checkout/PRODUCTION/STALE=2', 'search/PRODUCTION/HEALTHY=1']);
      await reg.heartbeat('b', at(40), null);
      expect(await byService()).toEqual(['checkout/PRODUCTION/HEALTHY=2', 'checkout/PRODUCTION/STALE=1', 'search/PRODUCTION/HEALTHY=1']);
      expect(await reg.removeStale(at(31))).toEqual(['c']);
      expect(await byService()).toEqual(['checkout/PRODUCTION/HEALTHY=2', 'search/PRODUCTION/HEALTHY=1']);
      await reg.deregister('s');
      expect(await byService()).toEqual(['checkout/PRODUCTION/HEALTHY=2']);
      await reg.deregister('a');
      await reg.deregister('b');
      expect(await reg.countByService()).toEqual([]);
    });

    it('countByService keeps services with a common prefix apart, and follows a re-registration to another service', async () => {
      await registerAll(
        instance('a', { service: 'check' }),
        instance('b', { service: 'checkout' }),
        instance('c', { service: 'checkout-v2' }),
        instance('d', { service: 'checkout-v2' }),
      );
      expect(await byService()).toEqual(['check/PRODUCTION/HEALTHY=1', 'checkout-v2/PRODUCTION/HEALTHY=2', 'checkout/PRODUCTION/HEALTHY=1']);
      await reg.register(instance('b', { service: 'check', environment: Environment.STAGING, registeredAt: at(5) }));
      expect(await byService()).toEqual(['check/PRODUCTION/HEALTHY=1', 'check/STAGING/HEALTHY=1', 'checkout-v2/PRODUCTION/HEALTHY=2']);
    });

    it('countByService agrees with list() and countByStatus() for many services', async () => {
      const envs = [Environment.DEVELOPMENT, Environment.STAGING, Environment.PRODUCTION];
      const items = Array.from({ length: 60 }, (_, i) =>
        instance(`m${i}`, { service: `svc-${i % 20}`, environment: envs[i % 3]!, registeredAt: at(i) }),
      );
      await Promise.all(items.map((item) => reg.register(item)));
      for (let i = 0; i < 60; i += 4) await reg.setStatus(`m${i}`, DEGRADED);
      const counted = await reg.countByService();
      expect(new Set(counted.map((c) => c.service)).size).toBe(20);
      expect(counted.reduce((sum, c) => sum + c.count, 0)).toBe(60);
      const totals = counts(0, 0, 0);
      for (const c of counted) totals[c.status] += c.count;
      expect(totals).toEqual(await reg.countByStatus());
      for (const c of counted) {
        expect((await reg.list({ service: c.service, environment: c.environment, status: c.status })).length, JSON.stringify(c)).toBe(c.count);
      }
      const keys = counted.map((c) => `${c.service}/${c.environment}/${c.status}`);
      expect(new Set(keys).size).toBe(keys.length);
    });

    it('lists 1,000 instances of a service quickly', async () => {
      const many = Array.from({ length: 1000 }, (_, i) => instance(`n${String(i).padStart(4, '0')}`, { registeredAt: at(i) }));
      await Promise.all(many.map((item) => reg.register(item)));
      await reg.register(instance('other', { service: 'search' }));
      const started = performance.now();
      const listed = await reg.list({ service: 'checkout' });
      expect(performance.now() - started).toBeLessThan(2000);
      expect(listed).toHaveLength(1000);
      expect(listed[999]?.id).toBe('n0999');
      expect((await reg.list({ service: 'checkout', environment: Environment.PRODUCTION, status: HEALTHY })).length).toBe(1000);
    });

    it('concurrent heartbeat and deregister never leave half an instance', async () => {
      const pairs = Array.from({ length: 50 }, (_, i) => `c${i}`);
      await Promise.all(pairs.map((id) => reg.register(instance(id))));
      // Several orders (one connection runs commands as sent); every third id registers again at the end.
      const beat = (id: string, i: number): Promise<unknown> => reg.heartbeat(id, at(i + 1), { requestCount: i });
      await Promise.all(
        pairs.flatMap((id, i) => {
          if (i % 3 === 0) return [beat(id, i), reg.deregister(id), beat(id, i), reg.register(instance(id, { registeredAt: at(i) }))];
          return i % 3 === 1 ? [beat(id, i), reg.deregister(id)] : [reg.deregister(id), beat(id, i)];
        }),
      );
      const listed = await ids();
      expect(listed).toEqual(pairs.filter((_, i) => i % 3 === 0));
      for (const id of listed) expect(await reg.get(id)).toMatchObject({ id, service: 'checkout', host: `${id}.local` });
      for (const id of pairs.filter((p) => !listed.includes(p))) expect(await reg.get(id)).toBeNull();
      expect(await reg.countByStatus()).toEqual(counts(listed.length, 0, 0));
    });
  });
}

describeRegistryContract('memory', () => new MemoryInstanceRegistry());

describe('RedisInstanceRegistry', () => {
  const suitePrefix = `hotswap-test:${randomUUID()}:`;
  let redis: Redis;
  let n = 0;
  beforeAll(() => void (redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 2 })));
  afterAll(async () => {
    const keys = await keysUnder(redis, suitePrefix);
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    await redis.quit();
  });

  describeRegistryContract('redis', () => new RedisInstanceRegistry(redis, `${suitePrefix}${(n += 1)}:`));

  it('countByService counts only the instances under its own prefix, even a prefix with glob characters', async () => {
    const glob = new RedisInstanceRegistry(redis, `${suitePrefix}g*[?]:`);
    const other = new RedisInstanceRegistry(redis, `${suitePrefix}gx[?]:`);
    const nested = new RedisInstanceRegistry(redis, `${suitePrefix}g*[?]:inner:`);
    await glob.register(instance('a'));
    await other.register(instance('b'));
    await other.register(instance('c', { service: 'search' }));
    await nested.register(instance('d'));
    expect(await glob.countByService()).toEqual([{ service: 'checkout', environment: Environment.PRODUCTION, status: HEALTHY, count: 1 }]);
    expect((await other.countByService()).map((c) => `${c.service}=${c.count}`).sort()).toEqual(['checkout=1', 'search=1']);
    expect(await nested.countByService()).toEqual([{ service: 'checkout', environment: Environment.PRODUCTION, status: HEALTHY, count: 1 }]);
  });

  it('counts the subscriptions of every live replica, and stops counting those of a replica that no longer keeps its presence', async () => {
    const prefix = `${suitePrefix}replicas:`;
    const a = new RedisInstanceRegistry(redis, prefix, 'ra');
    const b = new RedisInstanceRegistry(redis, prefix, 'rb');
    await a.register(instance('i1', { registeredAt: at(1) }));
    await a.register(instance('i2', { registeredAt: at(2) }));
    await a.connected('i1');
    await b.connected('i1');
    await b.connected('i2');
    expect(await a.presence(['i1', 'i2'])).toEqual(new Map([['i1', { connections: 2, disconnectedAt: null }], ['i2', { connections: 1, disconnectedAt: null }]]));
    // Replica b died: its key expires (here: is deleted), and what it held stops counting.
    await redis.del(`${prefix}replica:rb`);
    expect(await a.presence(['i1', 'i2'])).toEqual(new Map([['i1', { connections: 1, disconnectedAt: null }], ['i2', { connections: 0, disconnectedAt: null }]]));
    expect((await a.liveInstances('checkout', Environment.PRODUCTION)).map((i) => i.id)).toEqual(['i1']);
  });

  it('writes a replica\'s subscriptions again when Redis comes back empty', async () => {
    const prefix = `${suitePrefix}emptied:`;
    const reg = new RedisInstanceRegistry(redis, prefix, 'r1');
    await reg.register(instance('i1'));
    await reg.connected('i1');
    await reg.connected('i1');
    await reg.connected('i2');
    await reg.disconnected('i2', at(3));
    await redis.del(...(await keysUnder(redis, prefix)));
    await reg.register(instance('i1')); // restored from its token, as the service does
    expect(await reg.liveInstances('checkout', Environment.PRODUCTION)).toEqual([]);
    await reg.keepPresence();
    expect(await reg.presence(['i1', 'i2'])).toEqual(new Map([['i1', { connections: 2, disconnectedAt: null }]]));
    expect((await reg.liveInstances('checkout', Environment.PRODUCTION)).map((i) => i.id)).toEqual(['i1']);
    await reg.keepPresence();
    expect(await reg.presence(['i1'])).toEqual(new Map([['i1', { connections: 2, disconnectedAt: null }]]));
  });

  it('leaves no keys behind after deregister (presence included) but the replica\'s own, and close() keeps the shared connection open', async () => {
    const prefix = `${suitePrefix}cleanup:`;
    const reg = new RedisInstanceRegistry(redis, prefix, 'r-cleanup');
    await reg.register(instance('i1', { color: Color.BLUE, metadata: { a: 1 } }));
    await reg.heartbeat('i1', at(1), { errorRate: 0 });
    await reg.connected('i1');
    await reg.disconnected('i1', at(2));
    expect(await keysUnder(redis, prefix)).toContain(`${prefix}history:i1`);
    expect(await keysUnder(redis, prefix)).toContain(`${prefix}presence:i1`);
    await reg.deregister('i1');
    expect(await keysUnder(redis, prefix)).toEqual([`${prefix}replica:r-cleanup`]);
    await reg.close();
    expect(await redis.ping()).toBe('PONG');
  });
});

/** SCAN for every key under the prefix. */
async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 })) keys.push(...(batch as string[]));
  return keys;
}
