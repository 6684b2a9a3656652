import { describe, expect, it, vi } from 'vitest';
import { Environment, InstanceStatus } from '../../src/domain/enums.js';
import type { InstanceMetrics } from '../../src/domain/instance.js';
import type { NewInstance } from '../../src/registry/instance-registry.js';
import { MemoryInstanceRegistry } from '../../src/registry/memory-registry.js';
import { InstanceRecovery, MAX_RECOVERY_PEERS } from '../../src/workers/instance-recovery.js';

const T0 = Date.parse('2025-03-01T12:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);
const { HEALTHY, DEGRADED, STALE } = InstanceStatus;

const GOOD: InstanceMetrics = { errorRate: 0.01, latencyP99Ms: 100 };
const BAD: InstanceMetrics = { errorRate: 0.3, latencyP99Ms: 480 };

function instance(id: string, service = 'checkout', environment = Environment.PRODUCTION): NewInstance {
  return { id, service, environment, host: `${id}.local`, color: null, metadata: null, registeredAt: at(0) };
}

/** A registry with `peers` HEALTHY instances and `degraded` ones marked DEGRADED at 100 s, all bad before it. */
async function fleet(o: { peers: string[]; degraded: string[]; service?: string }): Promise<MemoryInstanceRegistry> {
  const registry = new MemoryInstanceRegistry();
  await addFleet(registry, o);
  return registry;
}

async function addFleet(registry: MemoryInstanceRegistry, o: { peers: string[]; degraded: string[]; service?: string }): Promise<void> {
  for (const id of [...o.peers, ...o.degraded]) await registry.register(instance(id, o.service));
  for (const s of [70, 80, 90]) {
    for (const id of o.peers) await registry.heartbeat(id, at(s), GOOD);
    for (const id of o.degraded) await registry.heartbeat(id, at(s), BAD);
  }
  for (const id of o.degraded) await registry.setStatus(id, DEGRADED, at(100));
}

/** Every id heartbeats at `seconds`, with the metrics `metricsOf` gives it (null: a heartbeat without metrics). */
async function beat(registry: MemoryInstanceRegistry, seconds: number[], metricsOf: Record<string, InstanceMetrics | null>): Promise<void> {
  for (const s of seconds) for (const [id, m] of Object.entries(metricsOf)) await registry.heartbeat(id, at(s), m);
}

const status = async (registry: MemoryInstanceRegistry, id: string) => (await registry.get(id))?.status;

describe('InstanceRecovery', () => {
  it('is a scheduled job named instance-recovery at the interval it is given, and refuses a non-positive one', () => {
    const job = new InstanceRecovery(new MemoryInstanceRegistry(), { intervalMs: 10_000 }).job();
    expect(job).toMatchObject({ name: 'instance-recovery', intervalMs: 10_000 });
    expect(() => new InstanceRecovery(new MemoryInstanceRegistry(), { intervalMs: 0 })).toThrow(RangeError);
  });

  it('sets a DEGRADED instance HEALTHY once 3 heartbeats since the verdict are like its HEALTHY peers, and logs why', async () => {
    const registry = await fleet({ peers: ['p1', 'p2'], degraded: ['d1'] });
    const logger = { info: vi.fn() };
    const recovery = new InstanceRecovery(registry, { intervalMs: 1000, logger });
    await beat(registry, [110, 120], { p1: GOOD, p2: GOOD, d1: GOOD });
    expect(await recovery.runOnce()).toEqual([]);
    expect(await status(registry, 'd1')).toBe(DEGRADED);

    await beat(registry, [130], { p1: GOOD, p2: GOOD, d1: GOOD });
    expect(await recovery.runOnce()).toEqual(['d1']);
    expect(await registry.get('d1')).toMatchObject({ status: HEALTHY, degradedAt: null });
    expect(logger.info).toHaveBeenCalledWith(
      expect.objectContaining({ instanceId: 'd1', service: 'checkout', environment: Environment.PRODUCTION, reason: expect.stringMatching(/: recovered$/) }),
      'instance HEALTHY again',
    );
    expect(await recovery.runOnce()).toEqual([]);
  });

  it('keeps an instance DEGRADED while its heartbeats stay beyond the tolerance', async () => {
    const registry = await fleet({ peers: ['p1', 'p2'], degraded: ['d1'] });
    await beat(registry, [110, 120, 130, 140], { p1: GOOD, p2: GOOD, d1: { errorRate: 0.05, latencyP99Ms: 100 } });
    expect(await new InstanceRecovery(registry, { intervalMs: 1000 }).runOnce()).toEqual([]);
    expect(await status(registry, 'd1')).toBe(DEGRADED);
  });

  it('never recovers an instance that heartbeats without metrics, however long', async () => {
    const registry = await fleet({ peers: ['p1'], degraded: ['silent'] });
    const recovery = new InstanceRecovery(registry, { intervalMs: 1000 });
    for (let s = 110; s < 400; s += 10) {
      await beat(registry, [s], { p1: GOOD, silent: null });
      expect(await recovery.runOnce()).toEqual([]);
    }
    expect(await registry.get('silent')).toMatchObject({ status: DEGRADED, degradedAt: at(100), lastHeartbeatAt: at(390) });
  });

  it('judges each service and environment against its own HEALTHY peers', async () => {
    const registry = await fleet({ peers: ['p1'], degraded: ['d1'] });
    // search's instances all have 5 % errors: normal there, not for checkout.
    await addFleet(registry, { peers: ['s1'], degraded: ['sd'], service: 'search' });
    const usual = { errorRate: 0.05, latencyP99Ms: 100 };
    await beat(registry, [110, 120, 130], { p1: GOOD, d1: usual, s1: usual, sd: usual });
    expect(await new InstanceRecovery(registry, { intervalMs: 1000 }).runOnce()).toEqual(['sd']);
    expect(await status(registry, 'd1')).toBe(DEGRADED);
  });

  it('recovers instances with no HEALTHY peer when they are far better than before the verdict (a whole fleet rolled back)', async () => {
    const registry = await fleet({ peers: [], degraded: ['d1', 'd2'] });
    await beat(registry, [110, 120, 130], { d1: GOOD, d2: { errorRate: 0.298, latencyP99Ms: 470 } });
    expect(await new InstanceRecovery(registry, { intervalMs: 1000 }).runOnce()).toEqual(['d1']);
    expect(await status(registry, 'd2')).toBe(DEGRADED);
  });

  it('a DEGRADED instance that went STALE comes back DEGRADED, and recovers on its heartbeats after coming back', async () => {
    const registry = await fleet({ peers: ['p1'], degraded: ['d1'] });
    expect(await registry.markStale(at(105), at(140))).toEqual(['d1', 'p1']);
    expect(await registry.get('d1')).toMatchObject({ status: STALE, degradedAt: at(100) });
    const recovery = new InstanceRecovery(registry, { intervalMs: 1000 });
    expect(await recovery.runOnce()).toEqual([]);

    await beat(registry, [150], { p1: GOOD, d1: null });
    expect(await registry.get('d1')).toMatchObject({ status: DEGRADED, staleSince: null, degradedAt: at(100) });
    expect(await status(registry, 'p1')).toBe(HEALTHY);
    expect(await recovery.runOnce()).toEqual([]);
    await beat(registry, [160, 170, 180], { p1: GOOD, d1: GOOD });
    expect(await recovery.runOnce()).toEqual(['d1']);
  });

  it('leaves alone an instance a newer verdict named, or the reaper marked STALE, while it decided', async () => {
    class Racing extends MemoryInstanceRegistry {
      race: ((id: string) => Promise<unknown>) | undefined;
      override async recover(id: string, degradedAt: Date): Promise<boolean> {
        await this.race?.(id);
        return super.recover(id, degradedAt);
      }
    }
    const registry = new Racing();
    await addFleet(registry, { peers: ['p1'], degraded: ['d1', 'd2'] });
    await beat(registry, [110, 120, 130], { p1: GOOD, d1: GOOD });
    await beat(registry, [105, 115, 125], { d2: GOOD });
    // d2 heartbeat last at 125 s: the only one a cutoff of 126 s marks.
    registry.race = (id) => (id === 'd1' ? registry.setStatus(id, DEGRADED, at(135)) : registry.markStale(at(126), at(136)));
    expect(await new InstanceRecovery(registry, { intervalMs: 1000 }).runOnce()).toEqual([]);
    expect(await registry.get('d1')).toMatchObject({ status: DEGRADED, degradedAt: at(135) });
    expect(await status(registry, 'd2')).toBe(STALE);
  });

  it(`reads the recent samples of at most ${MAX_RECOVERY_PEERS} HEALTHY peers per service, spread over them`, async () => {
    const peers = Array.from({ length: 250 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    const registry = await fleet({ peers, degraded: ['d1'] });
    await beat(registry, [110, 120, 130], { d1: GOOD, ...Object.fromEntries(peers.map((id) => [id, GOOD])) });
    const histories = vi.spyOn(registry, 'histories');
    expect(await new InstanceRecovery(registry, { intervalMs: 1000 }).runOnce()).toEqual(['d1']);
    const peerCall = histories.mock.calls.find(([ids]) => !ids.includes('d1'))!;
    expect(peerCall[0]).toHaveLength(MAX_RECOVERY_PEERS);
    expect(peerCall[0][0]).toBe('p000');
    expect(peerCall[0].at(-1)).toBe('p249');
    expect(peerCall[1]).toBe(3);
  });

  it('stops between services once its signal aborts', async () => {
    const registry = await fleet({ peers: ['p1'], degraded: ['d1'] });
    await addFleet(registry, { peers: ['s1'], degraded: ['sd'], service: 'search' });
    await beat(registry, [110, 120, 130], { p1: GOOD, d1: GOOD, s1: GOOD, sd: GOOD });
    const controller = new AbortController();
    controller.abort();
    expect(await new InstanceRecovery(registry, { intervalMs: 1000 }).runOnce(controller.signal)).toEqual([]);
  });
});
