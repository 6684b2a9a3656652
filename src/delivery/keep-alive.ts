import type { WebSocket } from 'ws';

/**
 * Pings an open socket every `intervalMs` and terminates it when the pong has
 * not come within the next `intervalMs`: a peer that vanished without closing
 * (a dead host, a dropped link) loses its subscriptions instead of keeping
 * them, and a link is not left idle long enough for a proxy to cut it. The
 * same keep-alive as graphql-ws's own ws server (12 s there).
 */
export class KeepAlive {
  private interval: NodeJS.Timeout | undefined;
  private pongWait: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.interval ??= setInterval(() => this.ping(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.interval);
    clearTimeout(this.pongWait);
    this.interval = undefined;
    this.pongWait = undefined;
  }

  private ping(): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.pongWait = setTimeout(() => this.socket.terminate(), this.intervalMs);
    this.socket.once('pong', () => {
      clearTimeout(this.pongWait);
      this.pongWait = undefined;
    });
    this.socket.ping();
  }
}
