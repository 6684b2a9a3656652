import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { SocketAdapter } from '../../../src/delivery/socket-adapter.js';
import { captureLogs, LogLevel } from '../../support/log-capture.js';

/** An adapter over a websocket and its TCP socket that log what happens to them, in order. */
function setUp({ production = false } = {}) {
  const log: string[] = [];
  const tcp = { cork: () => log.push('cork'), uncork: () => log.push('uncork') };
  const socket = Object.assign(new EventEmitter(), {
    OPEN: 1,
    readyState: 1,
    protocol: 'graphql-transport-ws',
    send(data: unknown, options?: { binary: boolean }) {
      log.push(`send ${typeof data === 'string' ? data : `bytes ${String(data)}`}${options === undefined ? '' : ` binary:${options.binary}`}`);
    },
    close(code: number, reason: string) {
      log.push(`close ${code} ${reason}`);
    },
  });
  const logs = captureLogs();
  const adapter = new SocketAdapter(socket as unknown as WebSocket, tcp, {
    expand: (text) => text.toUpperCase(),
    messages: { run: (task) => task() },
    logger: logs.logger,
    production,
  });
  return { log, adapter, socket, logs };
}

const nextTick = () => new Promise((resolve) => process.nextTick(resolve));

describe('SocketAdapter', () => {
  it('sends the graphql-ws messages of one tick in one write (corked until the next tick), each send returning at once', async () => {
    const { log, adapter } = setUp();
    const answered: string[] = [];
    // As graphql-ws answers a mutation: `next`, wait for its send, then `complete`.
    await Promise.resolve().then(async () => {
      await adapter.send('next');
      answered.push('next');
      await adapter.send('complete');
      answered.push('complete');
    });
    expect(answered).toEqual(['next', 'complete']);
    expect(log).toEqual(['cork', 'send NEXT', 'send COMPLETE']);
    await nextTick();
    expect(log).toEqual(['cork', 'send NEXT', 'send COMPLETE', 'uncork']);
    // A later tick corks again.
    adapter.send('ping');
    await nextTick();
    expect(log.slice(4)).toEqual(['cork', 'send PING', 'uncork']);
  });

  it('sends nothing for graphql-ws once the socket is no longer open', () => {
    const { log, adapter, socket } = setUp();
    socket.readyState = 2;
    adapter.send('next');
    expect(log).toEqual([]);
  });

  it("sends a lane's bytes (the direct lane) as they are, as a text message: no expansion, no cork", () => {
    const { log, adapter } = setUp();
    adapter.sendBytes(Buffer.from('push'));
    expect(log).toEqual(['send bytes push binary:false']);
  });

  it('hands graphql-ws each message as text, and closes the socket (4500) with the reason when handling one fails', async () => {
    const { log, adapter, socket, logs } = setUp();
    const handled: string[] = [];
    adapter.onMessage(async (data) => {
      handled.push(data);
      if (data === 'bad') throw new Error('no handler for this');
    });
    socket.emit('message', Buffer.from('good'));
    socket.emit('message', Buffer.from('bad'));
    await nextTick();
    expect(handled).toEqual(['good', 'bad']);
    expect(log).toEqual(['close 4500 no handler for this']);
    expect(logs.atLeast(LogLevel.error).map((l) => l.msg)).toEqual(['a websocket message could not be handled; its socket closes']);
  });

  it('in production, closes on an internal error with a reason that says nothing of it', async () => {
    const { log, adapter, socket } = setUp({ production: true });
    adapter.onMessage(() => Promise.reject(new Error('a secret detail')));
    socket.emit('message', Buffer.from('{}'));
    await nextTick();
    expect(log).toEqual(['close 4500 Internal server error']);
  });

  it('tells graphql-ws when the socket closed, with its code and reason as text', () => {
    const { adapter, socket } = setUp();
    const closes: Array<[number, string]> = [];
    adapter.serve(() => async (code, reason) => void closes.push([code, reason]));
    socket.emit('close', 1000, Buffer.from('bye'));
    expect(closes).toEqual([[1000, 'bye']]);
  });

  it('closes the socket (4500) on a websocket error, logging it as a warning', () => {
    const { log, adapter, socket, logs } = setUp();
    adapter.serve(() => async () => undefined);
    socket.emit('error', new Error('Max payload size exceeded'));
    expect(log).toEqual(['close 4500 Max payload size exceeded']);
    expect(logs.atLeast(LogLevel.warn).map((l) => [l.level, l.msg])).toEqual([[LogLevel.warn, 'websocket error; its socket closes']]);
    socket.emit('close', 1009, Buffer.from(''));
  });
});
