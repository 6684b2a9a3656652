import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { Environment, InstanceStatus } from '../../src/domain/enums.js';
import { instanceStatusAt } from '../../src/domain/instance.js';
import { type EndReason } from '../../src/domain/instance-identity.js';
import type { NewInstance } from '../../src/registry/instance-registry.js';
import { MemoryInstanceRegistry } from '../../src/registry/memory-registry.js';
import { InstanceReaper, type ReaperChange } from '../../src/workers/instance-reaper.js';
import { Scheduler } from '../../src/workers/scheduler.js';

const INTERVAL = 10_000;
const GRACE = 60_000;
const T0 = Date.parse('2024-05-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0 + ms);

function instance(id: string, registeredAt = at(0)): NewInstance {
  return { id, service: 'checkout', environment: Environment.PRODUCTION, host: `${id}.local`, color: null, metadata: null, registeredAt };
}

/** The ended-instance log in memory (PostgreSQL in the app): what is recorded and taken back, in order. */
class FakeEnds {
  readonly ended = new Map<string, EndReason>();
  readonly calls: string[] = [];
  failing = false;
  constructor(private readonly registry: { has(id: string): boolean }) {}
  recordEnded(ids: readonly string[], reason: EndReason): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    if (this.failing) return Promise.reject(new Error('the database is down'));
    // What the registry still holds when the end is recorded: the end must come first.
    this.calls.push(`record ${reason} ${ids.join(',')} while held: ${ids.filter((id) => this.registry.has(id)).join(',')}`);
    for (const id of ids) this.ended.set(id, reason);
    return Promise.resolve();
  }
  withdrawEnded(ids: readonly string[], reason: EndReason): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    this.calls.push(`withdraw ${reason} ${ids.join(',')}`);
    for (const id of ids) if (this.ended.get(id) === reason) this.ended.delete(id);
    return Promise.resolve();
  }
}

/** A memory registry that says synchronously whether it holds an id. */
class Registry extends MemoryInstanceRegistry {
  held = new Set<string>();
  override async register(i: NewInstance) {
    this.held.add(i.id);
    return super.register(i);
  }
  override async removeStale(cutoff: Date) {
    const removed = await super.removeStale(cutoff);
    for (const id of removed) this.held.delete(id);
    return removed;
  }
  has(id: string): boolean {
    return this.held.has(id);
  }
}

/** A reaper over a fresh registry with a clock the test moves. */
function setup(options: { missedBeats?: number } = {}) {
  const registry = new Registry();
  const ends = new FakeEnds(registry);
  const changes: ReaperChange[] = [];
  const clock = { now: at(0) };
  const reaper = new InstanceReaper(registry, ends, {
    heartbeatIntervalMs: INTERVAL,
    graceMs: GRACE,
    now: () => clock.now,
    onChange: (change) => changes.push(change),
    ...options,
  });
  const runAt = (ms: number): Promise<ReaperChange> => {
    clock.now = at(ms);
    return reaper.runOnce();
  };
  return { registry, ends, reaper, changes, runAt };
}

describe('InstanceReaper', () => {
  it('marks STALE after more than 3 missed beats, as instanceStatusAt does', async () => {
    const { registry, runAt } = setup();
    await registry.register(instance('i1'));
    expect(instanceStatusAt(at(0), at(3 * INTERVAL), INTERVAL)).toBe(InstanceStatus.HEALTHY);
    expect(await runAt(3 * INTERVAL)).toEqual({ stale: [], removed: [] });
    expect((await registry.get('i1'))?.status).toBe(InstanceStatus.HEALTHY);

    expect(instanceStatusAt(at(0), at(3 * INTERVAL + 1), INTERVAL)).toBe(InstanceStatus.STALE);
    expect(await runAt(3 * INTERVAL + 1)).toEqual({ stale: ['i1'], removed: [] });
    expect(await registry.get('i1')).toMatchObject({ status: InstanceStatus.STALE, staleSince: at(3 * INTERVAL + 1) });
  });

  it('honours missedBeats', async () => {
    const { registry, runAt } = setup({ missedBeats: 5 });
    await registry.register(instance('i1'));
    expect((await runAt(5 * INTERVAL)).stale).toEqual([]);
    expect((await runAt(5 * INTERVAL + 1)).stale).toEqual(['i1']);
  });

  it('removes an instance STALE for longer than the grace period', async () => {
    const { registry, runAt } = setup();
    await registry.register(instance('i1'));
    const staleAt = 3 * INTERVAL + 1;
    await runAt(staleAt);
    expect(await runAt(staleAt + GRACE)).toEqual({ stale: [], removed: [] });
    expect(await registry.get('i1')).not.toBeNull();
    expect(await runAt(staleAt + GRACE + 1)).toEqual({ stale: [], removed: ['i1'] });
    expect(await registry.get('i1')).toBeNull();
  });

  it('calls onChange with the ids of each run that changed something', async () => {
    const { registry, changes, runAt } = setup();
    await registry.register(instance('a'));
    await registry.register(instance('b', at(5_000)));
    await runAt(3 * INTERVAL + 1);
    await runAt(3 * INTERVAL + 2);
    await runAt(3 * INTERVAL + 5_001);
    await runAt(3 * INTERVAL + 1 + GRACE + 1);
    expect(changes).toEqual([
      { stale: ['a'], removed: [] },
      { stale: ['b'], removed: [] },
      { stale: [], removed: ['a'] },
    ]);
  });

  it('records a removed instance as REAPED before the registry forgets it, so its token cannot restore it', async () => {
    const { registry, ends, runAt } = setup();
    await registry.register(instance('a'));
    await registry.register(instance('b', at(5_000)));
    await runAt(3 * INTERVAL + 1);
    expect(await runAt(3 * INTERVAL + 1 + GRACE + 1)).toEqual({ stale: ['b'], removed: ['a'] });
    expect(ends.calls).toEqual(['record REAPED a while held: a']);
    expect([...ends.ended]).toEqual([['a', 'REAPED']]);
  });

  it('removes nothing when the end cannot be recorded (PostgreSQL down), and removes it on the next run', async () => {
    const { registry, ends, runAt } = setup();
    await registry.register(instance('a'));
    await runAt(3 * INTERVAL + 1);
    ends.failing = true;
    await expect(runAt(3 * INTERVAL + 1 + GRACE + 1)).rejects.toThrow('the database is down');
    expect(await registry.get('a')).not.toBeNull();
    ends.failing = false;
    expect((await runAt(3 * INTERVAL + 1 + GRACE + 2)).removed).toEqual(['a']);
    expect(ends.ended.get('a')).toBe('REAPED');
  });

  it('takes the end back for an instance that heartbeats between the listing and the removal', async () => {
    const { registry, ends, runAt } = setup();
    await registry.register(instance('a'));
    await registry.register(instance('b'));
    await runAt(3 * INTERVAL + 1);
    const removeStale = registry.removeStale.bind(registry);
    registry.removeStale = async (cutoff) => {
      await registry.heartbeat('b', at(3 * INTERVAL + GRACE), null);
      return removeStale(cutoff);
    };
    expect((await runAt(3 * INTERVAL + 1 + GRACE + 1)).removed).toEqual(['a']);
    expect(ends.calls).toEqual(['record REAPED a,b while held: a,b', 'withdraw REAPED b']);
    expect([...ends.ended]).toEqual([['a', 'REAPED']]);
  });

  it('keeps the end of an instance another replica removed first', async () => {
    const { registry, ends, runAt } = setup();
    await registry.register(instance('a'));
    await runAt(3 * INTERVAL + 1);
    const removeStale = registry.removeStale.bind(registry);
    registry.removeStale = async (cutoff) => {
      await removeStale(cutoff); // the other replica's reaper
      return removeStale(cutoff);
    };
    expect((await runAt(3 * INTERVAL + 1 + GRACE + 1)).removed).toEqual([]);
    expect(ends.calls).toEqual(['record REAPED a while held: a']);
    expect(ends.ended.get('a')).toBe('REAPED');
  });

  it('a heartbeat before the grace period ends saves a STALE instance', async () => {
    const { registry, runAt } = setup();
    await registry.register(instance('i1'));
    await runAt(3 * INTERVAL + 1);
    await registry.heartbeat('i1', at(3 * INTERVAL + GRACE), { errorRate: 0 });
    expect(await runAt(3 * INTERVAL + 1 + GRACE + 1)).toEqual({ stale: [], removed: [] });
    expect((await registry.get('i1'))?.status).toBe(InstanceStatus.HEALTHY);
  });

  it('a heartbeat in time keeps an instance HEALTHY', async () => {
    const { registry, runAt } = setup();
    await registry.register(instance('i1'));
    await registry.heartbeat('i1', at(2 * INTERVAL), null);
    expect(await runAt(4 * INTERVAL)).toEqual({ stale: [], removed: [] });
    expect((await registry.get('i1'))?.status).toBe(InstanceStatus.HEALTHY);
  });

  it('refuses an interval, missedBeats or grace that makes no sense', () => {
    const registry = new MemoryInstanceRegistry();
    const ends = new FakeEnds(new Registry());
    expect(() => new InstanceReaper(registry, ends, { heartbeatIntervalMs: 0, graceMs: 1 })).toThrow(RangeError);
    expect(() => new InstanceReaper(registry, ends, { heartbeatIntervalMs: 1, missedBeats: 0, graceMs: 1 })).toThrow(RangeError);
    expect(() => new InstanceReaper(registry, ends, { heartbeatIntervalMs: 1, graceMs: -1 })).toThrow(RangeError);
  });

  it('job() is named instance-reaper and runs every heartbeat interval; an aborted run does nothing', async () => {
    const { registry, reaper } = setup();
    await registry.register(instance('i1', new Date(0)));
    const job = reaper.job();
    expect(job).toMatchObject({ name: 'instance-reaper', intervalMs: INTERVAL });
    const controller = new AbortController();
    controller.abort();
    await job.run(controller.signal);
    expect((await registry.get('i1'))?.status).toBe(InstanceStatus.HEALTHY);
  });

  it('runs on a real Scheduler, and stop() resolves and ends the runs', async () => {
    const registry = new MemoryInstanceRegistry();
    const markStale = vi.spyOn(registry, 'markStale');
    const reaper = new InstanceReaper(registry, new FakeEnds(new Registry()), { heartbeatIntervalMs: 10, graceMs: 60_000 });
    await registry.register(instance('i1', new Date(Date.now() - 1_000)));
    const scheduler = new Scheduler(pino({ level: 'silent' }));
    scheduler.register(reaper.job());
    scheduler.start();
    try {
      await vi.waitFor(async () => expect((await registry.get('i1'))?.status).toBe(InstanceStatus.STALE), {
        timeout: 2_000,
        interval: 5,
      });
    } finally {
      await expect(scheduler.stop()).resolves.toBeUndefined();
    }
    const runs = markStale.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(markStale.mock.calls.length).toBe(runs);
  });
});
