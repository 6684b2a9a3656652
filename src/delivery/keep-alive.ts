import type { WebSocket } from 'ws';

/**
 * Pings an open socket every `intervalMs` and terminates it when the pong of
 * the last ping has not come by the next one: a peer that vanished without
 * closing (a dead host, a dropped link) loses its subscriptions instead of
 * keeping them, and a link is not left idle long enough for a proxy to cut
 * it. The same keep-alive as graphql-ws's own ws server (12 s there).
 *
 * The first ping comes at a random point of the first interval: sockets that
 * connected together (a reconnect storm) would otherwise all ping in the same
 * few milliseconds every interval, 10,000 writes holding the event loop at
 * once. One pong listener per socket and one timer, not a timer and a
 * listener per ping.
 */
export class KeepAlive {
  private timer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private readonly onPong = (): void => {
    this.awaitingPong = false;
  };

  constructor(
    private readonly socket: WebSocket,
    private readonly intervalMs: number,
    /** [0, 1): where in the first interval the first ping comes. */
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    if (this.timer) return;
    this.socket.on('pong', this.onPong);
    this.timer = setTimeout(() => {
      this.timer = setInterval(() => this.beat(), this.intervalMs);
      this.beat();
    }, Math.floor(this.random() * this.intervalMs));
  }

  stop(): void {
    // clearTimeout clears an interval too.
    clearTimeout(this.timer);
    this.timer = undefined;
    this.socket.off('pong', this.onPong);
  }

  private beat(): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.awaitingPong) {
      this.socket.terminate();
      return;
    }
    this.awaitingPong = true;
    this.socket.ping();
  }
}
