import { describe, expect, it } from 'vitest';
import { ConfigApplier, type SendAck } from '../../src/client/config-applier.js';
import type { ConfigUpdate } from '../../src/client/index.js';

const A = { instanceId: 'instance-a', token: 'token-a' };
const B = { instanceId: 'instance-b', token: 'token-b' };

function update(version: number, extra: Partial<ConfigUpdate> = {}): ConfigUpdate {
  return { profileName: 'orders-api', version, hash: `hash-${version}`, data: { v: version }, deploymentId: null, traceparent: null, ...extra };
}

function setup(onConfig: (u: ConfigUpdate) => void | Promise<void> = () => {}) {
  const acks: Array<{ instanceId: string; version: number; success: boolean; reloadMs: number | null; error: string | null }> = [];
  const applied: number[] = [];
  const sendAck: SendAck = async (who, ack) => {
    acks.push({ instanceId: who.instanceId, version: ack.version, success: ack.success, reloadMs: ack.reloadMs, error: ack.error });
    return true;
  };
  const silent = { info: () => {}, warn: () => {}, error: () => {} };
  const applier = new ConfigApplier({
    onConfig: async (u) => {
      await onConfig(u);
      applied.push(u.version);
    },
    cache: undefined,
    sendAck,
    logger: silent,
  });
  return { applier, acks, applied };
}

describe('client config applier', () => {
  it('applies one update at a time, in arrival order, and acks each with its reload time', async () => {
    let running = 0;
    const { applier, acks, applied } = setup(async (u) => {
      running++;
      expect(running).toBe(1);
      await new Promise((r) => setTimeout(r, 30 - u.version * 10)); // later updates are quicker
      running--;
    });
    await Promise.all([1, 2, 3].map((v) => applier.receive(update(v), A)));
    expect(applied).toEqual([1, 2, 3]);
    expect(acks.map((a) => [a.version, a.success])).toEqual([[1, true], [2, true], [3, true]]);
    expect(acks[0]!.reloadMs).toBeGreaterThanOrEqual(15);
    expect(applier.current('orders-api')).toMatchObject({ version: 3, data: { v: 3 } });
  });

  it('does not apply or re-ack the same config re-sent to the same registration', async () => {
    const { applier, acks, applied } = setup();
    await applier.receive(update(1, { deploymentId: 'd1' }), A);
    await applier.receive(update(1), A); // re-sent on resubscribe
    expect(applied).toEqual([1]);
    expect(acks).toHaveLength(1);
  });

  it('acks a re-sent config without applying it for a new registration, or when a deployment pushed it', async () => {
    const { applier, acks, applied } = setup();
    await applier.receive(update(1), A);
    await applier.receive(update(1), B);
    await applier.receive(update(1, { deploymentId: 'd2' }), B);
    expect(applied).toEqual([1]);
    expect(acks.map((a) => a.instanceId)).toEqual(['instance-a', 'instance-b', 'instance-b']);
    expect(new Set(acks.map((a) => a.reloadMs)).size).toBe(1); // the reload time of the one real apply
  });

  it('applies a config with the same version but another hash', async () => {
    const { applier, applied } = setup();
    await applier.receive(update(1), A);
    await applier.receive(update(1, { hash: 'other' }), A);
    expect(applied).toEqual([1, 1]);
  });

  it('acks a failure with the error message and keeps the previous config current', async () => {
    const { applier, acks } = setup((u) => {
      if (u.version === 2) throw new Error('bad pool size');
    });
    await applier.receive(update(1), A);
    await applier.receive(update(2), A);
    expect(acks[1]).toMatchObject({ version: 2, success: false, error: 'bad pool size' });
    expect(applier.current('orders-api')?.version).toBe(1);
    await applier.receive(update(2), A); // tried again when sent again
    expect(acks).toHaveLength(3);
  });

  it('restores cached configs without acking, then acks them when HotSwap sends the same', async () => {
    const { applier, acks, applied } = setup();
    await applier.restore([{ profileName: 'orders-api', version: 4, hash: 'hash-4', data: { v: 4 }, reloadMs: 7 }]);
    expect(applied).toEqual([4]);
    expect(applier.current('orders-api')).toMatchObject({ version: 4, deploymentId: null });
    expect(acks).toEqual([]);
    await applier.receive(update(4), A);
    expect(applied).toEqual([4]);
    expect(acks).toEqual([{ instanceId: 'instance-a', version: 4, success: true, reloadMs: 7, error: null }]);
  });

  it('keeps its own copy of the data, as HotSwap sent it', async () => {
    const { applier } = setup((u) => {
      u.data.v = 'mutated by the app';
    });
    await applier.receive(update(1), A);
    expect(applier.current('orders-api')?.data).toEqual({ v: 1 });
  });

  it('drops what is queued after close()', async () => {
    const { applier, applied } = setup(() => new Promise((r) => setTimeout(r, 20)));
    void applier.receive(update(1), A);
    void applier.receive(update(2), A);
    await new Promise((r) => setTimeout(r, 5));
    await applier.close();
    expect(applied).toEqual([1]);
  });
});
