import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import type { AsyncQueue } from '../pubsub/async-queue.js';

const CLOSE_BRACE = 0x7d; // }

/**
 * Writes a subscription's events straight to its socket as `next` messages
 * around the once-serialized result, instead of through graphql-ws's
 * per-subscriber iteration (an async queue, an async map, its for-await loop,
 * onNext and a stringify per subscriber and push: most of a fan-out's CPU after
 * the socket writes). The queue hands it an event only while graphql-ws has
 * sent everything before and waits for more, so messages keep their order.
 * Only for a feed that never ends by itself: graphql-ws's own `complete` could
 * otherwise overtake the last events.
 */
export class DirectLane<T extends object> {
  private chain: Promise<void> = Promise.resolve();
  /** A string, not a Buffer: a small Buffer kept per subscription would pin a whole 8 KiB pool slab. */
  private readonly prefix: string;
  private readonly prefixBytes: number;

  constructor(
    private readonly queue: AsyncQueue<T>,
    id: string,
    private readonly socket: WebSocket,
    /** The message payload for an event, as JSON bytes (serialized once per event and document by the caller). */
    private readonly payloadOf: (event: T) => Promise<Buffer>,
  ) {
    this.prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    this.prefixBytes = Buffer.byteLength(this.prefix);
    queue.divert((event) => this.take(event));
  }

  private take(event: T): void {
    const payload = this.payloadOf(event);
    this.chain = this.chain.then(async () => {
      try {
        const bytes = await payload;
        // The subscriber left (complete, or its socket closed) while the payload was made.
        if (this.queue.isClosed || this.socket.readyState !== this.socket.OPEN) return;
        // Bytes, not a string: a copy of the shared buffer instead of a UTF-8 encoding per socket.
        const message = Buffer.allocUnsafe(this.prefixBytes + bytes.length + 1);
        message.write(this.prefix, 0);
        bytes.copy(message, this.prefixBytes);
        message[message.length - 1] = CLOSE_BRACE;
        this.socket.send(message, { binary: false });
      } catch {
        // Nothing may be skipped: the client reconnects and resubscribes, and gets its current config first.
        this.socket.close(CloseCode.InternalServerError, 'Internal server error');
      }
    });
  }
}
