import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../../src/delivery/async-queue.js';
import { DirectLane, LANES_PER_SLICE, PayloadBatches } from '../../../src/delivery/direct-lane.js';
import { MessageScheduler } from '../../../src/delivery/message-scheduler.js';

/** A lane's socket that records what is sent and how it was closed. */
function fakeSocket() {
  const socket = {
    isOpen: true,
    sent: [] as string[],
    closed: null as { code: number; reason: string } | null,
    sendBytes(message: Buffer) {
      socket.sent.push(message.toString());
    },
    close(code: number, reason: string) {
      socket.closed = { code, reason };
      socket.isOpen = false;
    },
  };
  return socket;
}

type Event = { v: number };
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setUp(payloadOf: (e: Event) => Promise<string> = (e) => Promise.resolve(`{"data":{"v":${e.v}}}`)) {
  const queue = new AsyncQueue<Event>();
  const socket = fakeSocket();
  new DirectLane(queue, 'sub"1', socket, async (e) => Buffer.from(await payloadOf(e)), new PayloadBatches());
  return { queue, socket };
}

describe('DirectLane', () => {
  it('leaves buffered values to the consumer, then writes each later value as a next message, in order', async () => {
    const { queue, socket } = setUp();
    queue.push({ v: 1 }); // the snapshot: buffered before anyone reads
    expect(await queue.next()).toEqual({ value: { v: 1 }, done: false });
    const waiting = queue.next(); // the consumer caught up and waits
    for (const v of [2, 3, 4]) queue.push({ v });
    await settle();
    expect(socket.sent.map((t) => JSON.parse(t))).toEqual([2, 3, 4].map((v) => ({ id: 'sub"1', type: 'next', payload: { data: { v } } })));
    queue.end();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it('keeps the order when a later payload is ready before an earlier one', async () => {
    let releaseFirst: (text: string) => void = () => {};
    const { queue, socket } = setUp((e) => (e.v === 1 ? new Promise((resolve) => (releaseFirst = resolve)) : Promise.resolve(`${e.v}`)));
    void queue.next();
    queue.push({ v: 1 });
    queue.push({ v: 2 });
    await settle();
    expect(socket.sent).toEqual([]);
    releaseFirst('1');
    await settle();
    expect(socket.sent.map((t) => JSON.parse(t).payload)).toEqual([1, 2]);
  });

  it('does not divert while the consumer is busy: those values are buffered for it', async () => {
    const { queue, socket } = setUp();
    queue.push({ v: 1 });
    queue.push({ v: 2 });
    await settle();
    expect(socket.sent).toEqual([]);
    expect((await queue.next()).value).toEqual({ v: 1 });
    expect((await queue.next()).value).toEqual({ v: 2 });
  });

  it('writes nothing once the subscriber left or the socket is no longer open', async () => {
    const { queue, socket } = setUp();
    void queue.next();
    queue.push({ v: 1 });
    await queue.return();
    await settle();
    expect(socket.sent).toEqual([]);

    const other = setUp();
    void other.queue.next();
    other.socket.isOpen = false;
    other.queue.push({ v: 1 });
    await settle();
    expect(other.socket.sent).toEqual([]);
  });

  it('closes the socket (4500, graphql-ws internal error) when a payload cannot be made, so the client resubscribes and loses nothing', async () => {
    const { queue, socket } = setUp((e) => (e.v === 1 ? Promise.reject(new Error('boom')) : Promise.resolve('{}')));
    void queue.next();
    queue.push({ v: 1 });
    queue.push({ v: 2 });
    await settle();
    expect(socket.closed).toEqual({ code: 4500, reason: 'Internal server error' });
    expect(socket.sent).toEqual([]);
  });

  it('a later payload failing while an earlier one is still made is handled in its turn: the earlier is written, then the socket closes', async () => {
    let releaseFirst: (text: string) => void = () => {};
    const { queue, socket } = setUp((e) => (e.v === 1 ? new Promise((resolve) => (releaseFirst = resolve)) : Promise.reject(new Error('boom'))));
    void queue.next();
    queue.push({ v: 1 });
    queue.push({ v: 2 }); // rejects at once, with nothing waiting for it yet (vitest fails on an unhandled rejection)
    await settle();
    expect(socket.closed).toBeNull();
    releaseFirst('1');
    await settle();
    expect(socket.sent.map((t) => JSON.parse(t).payload)).toEqual([1]);
    expect(socket.closed).toEqual({ code: 4500, reason: 'Internal server error' });
  });

  it('a socket that refuses a write is closed (4500), and nothing after it is written', async () => {
    const { queue, socket } = setUp();
    socket.sendBytes = () => {
      throw new Error('write after end');
    };
    void queue.next();
    queue.push({ v: 1 });
    queue.push({ v: 2 });
    await settle();
    expect(socket.closed).toEqual({ code: 4500, reason: 'Internal server error' });
    expect(socket.sent).toEqual([]);
  });

  describe('with other lanes waiting for the same payload', () => {
    /** `n` subscribers of one push: lanes sharing one PayloadBatches, each given the same payload promise per event. */
    function fleet(n: number, payloadOf: (e: Event) => Promise<Buffer>, messages?: MessageScheduler) {
      const batches = new PayloadBatches(messages);
      const made = new Map<Event, Promise<Buffer>>();
      const shared = (e: Event) => made.get(e) ?? made.set(e, payloadOf(e)).get(e)!;
      const lanes = Array.from({ length: n }, (_, i) => {
        const queue = new AsyncQueue<Event>();
        const socket = fakeSocket();
        new DirectLane(queue, `s${i}`, socket, shared, batches);
        void queue.next();
        return { queue, socket };
      });
      /** Payloads still awaited by some lane: none once every push is written. */
      const waitingFor = () => (batches as unknown as { waiting: Map<unknown, unknown> }).waiting.size;
      return Object.assign(lanes, { waitingFor });
    }

    it('writes every lane once the shared payload is made, each with its own id, and each lane in its own order', async () => {
      let release: (b: Buffer) => void = () => {};
      const first = new Promise<Buffer>((resolve) => (release = resolve));
      const lanes = fleet(3, (e) => (e.v === 1 ? first : Promise.resolve(Buffer.from(`${e.v}`))));
      const [one, two] = [{ v: 1 }, { v: 2 }];
      for (const { queue } of lanes) queue.push(one);
      lanes[0]!.queue.push(two); // the first lane also has a later push, ready before the earlier one
      await settle();
      expect(lanes.flatMap((l) => l.socket.sent)).toEqual([]);
      expect(lanes.waitingFor()).toBe(1); // the three lanes wait together, for the one payload of `one`
      release(Buffer.from('1'));
      await settle();
      expect(lanes.map((l) => l.socket.sent.map((t) => JSON.parse(t) as unknown))).toEqual([
        [{ id: 's0', type: 'next', payload: 1 }, { id: 's0', type: 'next', payload: 2 }],
        [{ id: 's1', type: 'next', payload: 1 }],
        [{ id: 's2', type: 'next', payload: 1 }],
      ]);
      expect(lanes.waitingFor()).toBe(0);
    });

    it('a payload that cannot be made closes every lane waiting for it, and only those', async () => {
      const lanes = fleet(3, (e) => (e.v === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(Buffer.from('{}'))));
      lanes[0]!.queue.push({ v: 1 });
      lanes[1]!.queue.push({ v: 1 });
      lanes[2]!.queue.push({ v: 2 });
      await settle();
      expect(lanes.map((l) => l.socket.closed?.code ?? null)).toEqual([4500, 4500, null]);
      expect(lanes.map((l) => l.socket.sent.length)).toEqual([0, 0, 1]);
      expect(lanes.waitingFor()).toBe(0);
    });

    it(`writes a large fleet ${LANES_PER_SLICE} lanes at a time, giving the event loop a turn between slices, each lane in its order`, async () => {
      const n = LANES_PER_SLICE * 2 + 10;
      const lanes = fleet(n, (e) => Promise.resolve(Buffer.from(`${e.v}`)));
      const [one, two] = [{ v: 1 }, { v: 2 }];
      for (const { queue } of lanes) queue.push(one);
      for (const { queue } of lanes) queue.push(two);
      // Microtasks only: the first slice is written, the rest waits for the loop's next turns.
      for (let i = 0; i < 10; i++) await Promise.resolve();
      expect(lanes.filter((l) => l.socket.sent.length > 0)).toHaveLength(LANES_PER_SLICE);
      await new Promise((resolve) => setImmediate(resolve));
      expect(lanes.filter((l) => l.socket.sent.length > 0).length).toBeGreaterThan(LANES_PER_SLICE);
      await settle();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(lanes.every((l) => l.socket.sent.map((t) => (JSON.parse(t) as { payload: number }).payload).join() === '1,2')).toBe(true);
      expect(lanes.waitingFor()).toBe(0);
    });

    it('holds incoming messages back from the first slice written to the last', async () => {
      const messages = new MessageScheduler();
      const lanes = fleet(LANES_PER_SLICE + 1, () => Promise.resolve(Buffer.from('{}')), messages);
      const one = { v: 1 };
      for (const { queue } of lanes) queue.push(one);
      for (let i = 0; i < 10; i++) await Promise.resolve();
      const handled: string[] = [];
      messages.run(() => handled.push(`after ${lanes.filter((l) => l.socket.sent.length > 0).length} written`));
      expect(handled).toEqual([]);
      await settle();
      await settle();
      expect(handled).toEqual([`after ${LANES_PER_SLICE + 1} written`]);
    });

    it('a lane that left is skipped; the others are written', async () => {
      const lanes = fleet(2, () => Promise.resolve(Buffer.from('{}')));
      for (const { queue } of lanes) queue.push({ v: 1 });
      await lanes[0]!.queue.return();
      await settle();
      expect(lanes.map((l) => l.socket.sent.length)).toEqual([0, 1]);
      expect(lanes.waitingFor()).toBe(0);
    });
  });
});
