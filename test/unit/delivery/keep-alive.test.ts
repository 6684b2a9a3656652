import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { KeepAlive } from '../../../src/delivery/keep-alive.js';

/** A socket that logs its pings and whether it was terminated; `pong()` answers as a live peer would. */
function fakeSocket(random = () => 1) {
  const log: string[] = [];
  const socket = Object.assign(new EventEmitter(), {
    OPEN: 1,
    readyState: 1,
    ping: () => log.push('ping'),
    terminate: () => log.push('terminate'),
    pong: () => socket.emit('pong'),
  });
  return { socket, log, keepAlive: new KeepAlive(socket as unknown as WebSocket, 1000, random) };
}

describe('KeepAlive', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pings every interval and keeps a socket whose peer answers', () => {
    const { socket, log, keepAlive } = fakeSocket();
    keepAlive.start();
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(1000);
      socket.pong();
    }
    vi.advanceTimersByTime(999);
    expect(log).toEqual(['ping', 'ping', 'ping']);
    keepAlive.stop();
  });

  it('terminates a socket whose pong has not come within the interval', () => {
    const { log, keepAlive } = fakeSocket();
    keepAlive.start();
    vi.advanceTimersByTime(1999);
    expect(log).toEqual(['ping']);
    vi.advanceTimersByTime(1);
    expect(log).toContain('terminate');
    keepAlive.stop();
  });

  it('pings first at a random point of the first interval, then every interval: sockets that connected together ping apart', () => {
    const a = fakeSocket(() => 0.25);
    const b = fakeSocket(() => 0.75);
    a.keepAlive.start();
    b.keepAlive.start();
    vi.advanceTimersByTime(250);
    expect([a.log, b.log]).toEqual([['ping'], []]);
    vi.advanceTimersByTime(500);
    expect([a.log, b.log]).toEqual([['ping'], ['ping']]);
    a.socket.pong();
    b.socket.pong();
    vi.advanceTimersByTime(500);
    expect([a.log, b.log]).toEqual([['ping', 'ping'], ['ping']]);
    a.keepAlive.stop();
    b.keepAlive.stop();
    expect(a.socket.listenerCount('pong')).toBe(0);
  });

  it('does not ping a socket that is no longer open, and stops for good (stop may be called twice)', () => {
    const { socket, log, keepAlive } = fakeSocket();
    keepAlive.start();
    socket.readyState = 2;
    vi.advanceTimersByTime(1000);
    expect(log).toEqual([]);
    socket.readyState = 1;
    vi.advanceTimersByTime(1000);
    expect(log).toEqual(['ping']);
    keepAlive.stop();
    keepAlive.stop();
    vi.advanceTimersByTime(5000);
    expect(log).toEqual(['ping']);
    expect(vi.getTimerCount()).toBe(0);
  });
});
