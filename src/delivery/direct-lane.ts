import { CloseCode } from 'graphql-ws';
import type { AsyncQueue } from './async-queue.js';
import type { MessageScheduler } from './message-scheduler.js';

const CLOSE_BRACE = 0x7d; // }

/** What a lane writes to: its connection's socket adapter. */
export interface LaneSocket {
  readonly isOpen: boolean;
  /** Sends a text message given as its UTF-8 bytes; throws when the socket refuses it. */
  sendBytes(message: Buffer): void;
  close(code: number, reason: string): void;
}

/** What a lane is told when the payload it waits for is made: its bytes, or undefined when making it failed. */
interface Waiter {
  ready(bytes: Buffer | undefined): void;
}

/**
 * Groups the lanes that wait for the same payload (one push, one GraphQL
 * document: every subscriber of a push, as a rule), so that one callback
 * writes all of them when it is made, instead of a promise chain per
 * subscriber: for a push to 10,000 sockets that was ~30,000 promises and
 * closures alive at once, a burst of garbage between the first and the last
 * write. One per websocket server.
 */
export class PayloadBatches {
  private readonly waiting = new Map<Promise<Buffer>, Waiter[]>();

  /** `messages`: held back while a payload's lanes are written (message-scheduler.ts). */
  constructor(private readonly messages?: MessageScheduler) {}

  wait(payload: Promise<Buffer>, waiter: Waiter): void {
    const batch = this.waiting.get(payload);
    if (batch) {
      batch.push(waiter);
      return;
    }
    const waiters = [waiter];
    this.waiting.set(payload, waiters);
    const release = (bytes: Buffer | undefined) => {
      // Forgotten first: a lane written here may wait for its next payload, even this one again.
      this.waiting.delete(payload);
      this.messages?.hold();
      readyInSlices(waiters, bytes, 0, () => this.messages?.release());
    };
    payload.then(release, () => release(undefined));
  }
}

/**
 * Lanes written in one go before the event loop gets a turn: 10,000 socket
 * writes in one loop held it ~600 ms, and lease renewals and timers waited
 * behind them (incoming messages wait for the whole push: MessageScheduler).
 * A lane waits for its next payload only once it wrote this one, so slicing
 * keeps each lane's order.
 */
export const LANES_PER_SLICE = 512;

function readyInSlices(waiters: readonly Waiter[], bytes: Buffer | undefined, from: number, done: () => void): void {
  const end = Math.min(from + LANES_PER_SLICE, waiters.length);
  for (let i = from; i < end; i++) {
    try {
      waiters[i]!.ready(bytes);
    } catch {
      // A lane that fails (it closes its own socket on a failed write) must not keep the others from theirs.
    }
  }
  if (end < waiters.length) setImmediate(readyInSlices, waiters, bytes, end, done);
  else done();
}

/**
 * Writes a subscription's events straight to its socket as `next` messages
 * around the once-serialized result, instead of through graphql-ws's
 * per-subscriber iteration (an async queue, an async map, its for-await loop,
 * onNext and a stringify per subscriber and push: most of a fan-out's CPU after
 * the socket writes). The queue hands it an event only while graphql-ws has
 * sent everything before and waits for more, so messages keep their order;
 * within the lane, each payload is written after the ones taken before it.
 * Only for a feed that never ends by itself: graphql-ws's own `complete` could
 * otherwise overtake the last events.
 */
export class DirectLane<T extends object> implements Waiter {
  /** Payloads taken and not written yet, oldest first; the lane waits for the oldest only. */
  private readonly backlog: Array<Promise<Buffer>> = [];
  /** A string, not a Buffer: a small Buffer kept per subscription would pin a whole 8 KiB pool slab. */
  private readonly prefix: string;
  private readonly prefixBytes: number;

  constructor(
    private readonly queue: AsyncQueue<T>,
    id: string,
    private readonly socket: LaneSocket,
    /** The message payload for an event, as JSON bytes (made once per event and document by the caller). */
    private readonly payloadOf: (event: T) => Promise<Buffer>,
    private readonly batches: PayloadBatches,
  ) {
    this.prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    this.prefixBytes = Buffer.byteLength(this.prefix);
    queue.divert((event) => this.take(event));
  }

  ready(bytes: Buffer | undefined): void {
    this.backlog.shift();
    // The subscriber left (complete, or its socket closed) while the payload was made.
    if (this.queue.isClosed || !this.socket.isOpen) return this.drop();
    if (bytes === undefined || !this.write(bytes)) {
      // Nothing may be skipped: the client reconnects and resubscribes, and gets its current config first.
      this.socket.close(CloseCode.InternalServerError, 'Internal server error');
      return this.drop();
    }
    const next = this.backlog[0];
    if (next !== undefined) this.batches.wait(next, this);
  }

  private take(event: T): void {
    const payload = this.payloadOf(event);
    this.backlog.push(payload);
    if (this.backlog.length === 1) this.batches.wait(payload, this);
    // Behind another payload: a failure is handled when its turn comes, not reported as unhandled before.
    else payload.catch(() => undefined);
  }

  /** Sends `payload` as a `next` message; false when the socket refused it. */
  private write(payload: Buffer): boolean {
    try {
      // Bytes, not a string: a copy of the shared buffer instead of a UTF-8 encoding per socket.
      const message = Buffer.allocUnsafe(this.prefixBytes + payload.length + 1);
      message.write(this.prefix, 0);
      payload.copy(message, this.prefixBytes);
      message[message.length - 1] = CLOSE_BRACE;
      this.socket.sendBytes(message);
      return true;
    } catch {
      return false;
    }
  }

  /** Nothing more is written: the payloads still to come are not waited for. */
  private drop(): void {
    this.backlog.length = 0;
  }
}
