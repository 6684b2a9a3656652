import { createHash } from 'node:crypto';
import { getEventListeners, setMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { DeliveredConfig } from '../../../src/agent/agent-types.js';
import { DeliveredConfigs } from '../../../src/agent/config-store.js';

function delivered(profileName: string, version: number, data: Record<string, unknown> = { version }): DeliveredConfig {
  const hash = createHash('sha256').update(JSON.stringify(data)).digest('hex');
  return { profileName, version, hash, data, file: null, deliveredAt: new Date() };
}

/** Whether a promise has settled by the time queued microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('DeliveredConfigs', () => {
  it('keeps the last config per profile and lists profiles sorted', () => {
    const store = new DeliveredConfigs();
    store.set(delivered('web', 1));
    store.set(delivered('api', 4));
    store.set(delivered('web', 2));
    expect(store.get('web')?.version).toBe(2);
    expect(store.get('nope')).toBeUndefined();
    expect(store.profiles()).toEqual(['api', 'web']);
  });

  it('keeps an older version that comes after a newer one, as a rollback delivers it', () => {
    const store = new DeliveredConfigs();
    store.set(delivered('web', 5));
    store.set(delivered('web', 4));
    expect(store.get('web')?.version).toBe(4);
  });

  it('answers a wait at once when the config already differs from the hash, or when there is one and the hash is null', async () => {
    const store = new DeliveredConfigs();
    const v1 = delivered('web', 1);
    store.set(v1);
    const signal = new AbortController().signal;
    await expect(store.changed('web', 'other', signal)).resolves.toBe(v1);
    await expect(store.changed('web', null, signal)).resolves.toBe(v1);
    expect(store.pendingWaits()).toBe(0);
  });

  it('holds a wait until a set changes the hash, and not for a set of the same hash or of another profile', async () => {
    const store = new DeliveredConfigs();
    const v1 = delivered('web', 1);
    store.set(v1);
    const wait = store.changed('web', v1.hash, new AbortController().signal);
    store.set({ ...v1, deliveredAt: new Date() });
    store.set(delivered('api', 1));
    expect(await settled(wait)).toBe(false);
    const v2 = delivered('web', 2);
    store.set(v2);
    await expect(wait).resolves.toBe(v2);
    expect(store.pendingWaits()).toBe(0);
  });

  it('holds a wait with a null hash until the profile gets its first config', async () => {
    const store = new DeliveredConfigs();
    const wait = store.changed('web', null, new AbortController().signal);
    expect(await settled(wait)).toBe(false);
    const v1 = delivered('web', 1);
    store.set(v1);
    await expect(wait).resolves.toBe(v1);
  });

  it('resolves a wait with undefined when its signal aborts, or has already aborted', async () => {
    const store = new DeliveredConfigs();
    const ac = new AbortController();
    const wait = store.changed('web', null, ac.signal);
    ac.abort();
    await expect(wait).resolves.toBeUndefined();
    await expect(store.changed('web', null, ac.signal)).resolves.toBeUndefined();
    store.set(delivered('web', 1));
    expect(store.pendingWaits()).toBe(0);
  });

  it('leaves no waiter and no abort listener behind after many aborted waits', async () => {
    const store = new DeliveredConfigs();
    store.set(delivered('web', 1));
    const hash = store.get('web')!.hash;
    const controllers = Array.from({ length: 1000 }, () => new AbortController());
    const waits = controllers.map((ac, i) => store.changed(i % 2 ? 'web' : 'api', i % 2 ? hash : null, ac.signal));
    expect(store.pendingWaits()).toBe(1000);
    for (const ac of controllers) ac.abort();
    expect(await Promise.all(waits)).toEqual(Array(1000).fill(undefined));
    expect(store.pendingWaits()).toBe(0);
    expect(controllers.every((ac) => getEventListeners(ac.signal, 'abort').length === 0)).toBe(true);
  });

  it('removes its abort listener from a long-lived signal when a set wakes the wait', async () => {
    const store = new DeliveredConfigs();
    const shared = new AbortController().signal;
    setMaxListeners(1000, shared);
    const waits = Array.from({ length: 500 }, () => store.changed('web', null, shared));
    expect(getEventListeners(shared, 'abort')).toHaveLength(500);
    store.set(delivered('web', 1));
    await Promise.all(waits);
    expect(getEventListeners(shared, 'abort')).toHaveLength(0);
    expect(store.pendingWaits()).toBe(0);
  });
});
