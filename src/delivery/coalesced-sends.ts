import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

type Callback = (error?: Error) => void;

/**
 * Makes graphql-ws's text messages sent in one run of promise continuations
 * leave in one write: the answer to a mutation is a `next` and a `complete`,
 * and graphql-ws waits for each write's callback before the next, so each was
 * a syscall of its own (~20–30 µs here, of ~280 µs of server time per ack).
 * The TCP socket is corked on the first text message and uncorked on the next
 * tick (after the continuations), and the callback is called once the message
 * is queued: ws keeps the order, and a failed write closes the socket anyway.
 * The price: graphql-ws no longer waits for a slow reader between the messages
 * of one stream; ours are short (a snapshot, a deployment's events). Text goes
 * through `transform` first; bytes (the direct lane's pushes) are sent as they are.
 */
export function coalesceTextSends(socket: WebSocket, tcp: Socket, transform: (text: string) => string): void {
  const send = socket.send.bind(socket) as (data: unknown, options?: unknown, cb?: Callback) => void;
  let corked = false;
  const uncork = () => {
    corked = false;
    tcp.uncork();
  };
  const coalesced = (data: unknown, optionsOrCallback?: unknown, callback?: Callback): void => {
    if (typeof data !== 'string') return send(data, optionsOrCallback, callback);
    if (!corked) {
      corked = true;
      tcp.cork();
      process.nextTick(uncork);
    }
    send(transform(data));
    (typeof optionsOrCallback === 'function' ? (optionsOrCallback as Callback) : callback)?.();
  };
  (socket as unknown as { send: typeof coalesced }).send = coalesced;
}
