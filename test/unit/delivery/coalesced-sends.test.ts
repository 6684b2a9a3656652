import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { coalesceTextSends } from '../../../src/delivery/coalesced-sends.js';

/** A websocket and its TCP socket that log what happens to them, in order. */
function setUp() {
  const log: string[] = [];
  const tcp = { cork: () => log.push('cork'), uncork: () => log.push('uncork') };
  const socket = {
    send(data: unknown, options?: unknown, cb?: unknown) {
      log.push(`send ${typeof data === 'string' ? data : `bytes ${String(data)}`}${options === undefined ? '' : ' +options'}${cb === undefined ? '' : ' +callback'}`);
    },
  };
  coalesceTextSends(socket as unknown as WebSocket, tcp as unknown as Socket, (text) => text.toUpperCase());
  const ws = socket as unknown as { send(data: unknown, options?: unknown, cb?: unknown): void };
  return { log, ws };
}

const nextTick = () => new Promise((resolve) => process.nextTick(resolve));

describe('coalesceTextSends', () => {
  it('sends the text messages of one tick in one write (corked until the next tick), calling each callback at once', async () => {
    const { log, ws } = setUp();
    const answered: string[] = [];
    // As graphql-ws answers a mutation: `next`, wait for its callback, then `complete`.
    await Promise.resolve().then(async () => {
      await new Promise<void>((resolve) => ws.send('next', () => (answered.push('next'), resolve())));
      await new Promise<void>((resolve) => ws.send('complete', () => (answered.push('complete'), resolve())));
    });
    expect(answered).toEqual(['next', 'complete']);
    expect(log).toEqual(['cork', 'send NEXT', 'send COMPLETE']);
    await nextTick();
    expect(log).toEqual(['cork', 'send NEXT', 'send COMPLETE', 'uncork']);
    // A later tick corks again.
    ws.send('ping');
    await nextTick();
    expect(log.slice(4)).toEqual(['cork', 'send PING', 'uncork']);
  });

  it('finds the callback of a text message sent with options too', async () => {
    const { log, ws } = setUp();
    let called = false;
    ws.send('next', { binary: false }, () => (called = true));
    expect(called).toBe(true);
    expect(log).toEqual(['cork', 'send NEXT']);
    await nextTick();
    expect(log.at(-1)).toBe('uncork');
  });

  it('passes bytes (the direct lane) through as they are: no transform, no cork, options and callback kept', () => {
    const { log, ws } = setUp();
    const callback = () => undefined;
    ws.send(Buffer.from('push'), { binary: false }, callback);
    expect(log).toEqual(['send bytes push +options +callback']);
  });
});
