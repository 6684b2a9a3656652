import type { Socket } from 'node:net';
import { CloseCode, type WebSocket as GraphQLWsSocket } from 'graphql-ws';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { LaneSocket } from './direct-lane.js';
import { KeepAlive } from './keep-alive.js';
import type { MessageScheduler } from './message-scheduler.js';

/** Ping interval, and how long a pong may take (graphql-ws's default). */
const KEEP_ALIVE_MS = 12_000;
/** graphql-ws's bound on a close reason (the frame allows 123 bytes). */
const MAX_CLOSE_REASON_LENGTH = 123;
const AS_TEXT = { binary: false } as const;

export interface SocketAdapterOptions {
  /** Puts a shared result back into a graphql-ws message (SharedResults.expand); other messages unchanged. */
  expand: (text: string) => string;
  /** Incoming messages wait while a push is being written. */
  messages: Pick<MessageScheduler, 'run'>;
  logger: Logger;
  /** Close reasons then never carry an internal error's message. */
  production: boolean;
}

/** The close reason for an internal error: its message outside production when short enough, as graphql-ws gives. */
export function internalErrorReason(error: unknown, production: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  return production || message.length > MAX_CLOSE_REASON_LENGTH ? 'Internal server error' : message;
}

/**
 * One websocket connection as graphql-ws's server sees it (its `WebSocket`),
 * and the one writer of that socket: graphql-ws's messages through send(), a
 * direct lane's through sendBytes(). Our counterpart of graphql-ws's
 * `use/ws.ts`, which it replaces so that sends are ours to shape instead of
 * being patched on the socket from outside.
 */
export class SocketAdapter implements GraphQLWsSocket, LaneSocket {
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.tcp.uncork();
  };

  constructor(
    private readonly socket: WebSocket,
    /** The TCP socket under the websocket, corked to coalesce writes. */
    private readonly tcp: Pick<Socket, 'cork' | 'uncork'>,
    private readonly o: SocketAdapterOptions,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /**
   * graphql-ws's messages, with shared results spliced back in. Those sent in
   * one run of promise continuations leave in one write: the answer to a
   * mutation is a `next` and a `complete`, and graphql-ws waits for each send
   * before the next, so each was a syscall of its own (~20–30 µs here, of
   * ~280 µs of server time per ack). The TCP socket is corked on the first
   * message and uncorked on the next tick (after the continuations); send
   * returns once the message is queued: ws keeps the order, and a failed write
   * closes the socket anyway. The price: graphql-ws no longer waits for a slow
   * reader between the messages of one stream; ours are short (a snapshot, a
   * deployment's events). Nothing is sent once the socket is no longer open.
   */
  send(text: string): void {
    if (!this.isOpen) return;
    if (!this.corked) {
      this.corked = true;
      this.tcp.cork();
      process.nextTick(this.uncork);
    }
    this.socket.send(this.o.expand(text));
  }

  /** A direct lane's `next` message, already UTF-8 bytes: sent as a text message as it is, not corked. */
  sendBytes(message: Buffer): void {
    this.socket.send(message, AS_TEXT);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    const run = async (text: string): Promise<void> => {
      try {
        await handle(text);
      } catch (error) {
        this.o.logger.error({ err: error }, 'a websocket message could not be handled; its socket closes');
        this.closeOnInternalError(error);
      }
    };
    this.socket.on('message', (data) => {
      const text = String(data);
      this.o.messages.run(() => void run(text));
    });
  }

  /**
   * Hands the connection to graphql-ws (`open` calls its server's opened()),
   * keeps it alive with pings, and tells graphql-ws when it closed.
   */
  serve(open: () => (code: number, reason: string) => Promise<void>): void {
    this.socket.once('error', (error) => {
      // A peer that broke the websocket protocol (a bad frame, a message over the size limit): ws closes the socket.
      this.o.logger.warn({ err: error }, 'websocket error; its socket closes');
      this.closeOnInternalError(error);
    });
    const keepAlive = new KeepAlive(this.socket, KEEP_ALIVE_MS);
    keepAlive.start();
    const closed = open();
    this.socket.once('close', (code, reason) => {
      keepAlive.stop();
      void closed(code, String(reason));
    });
  }

  private closeOnInternalError(error: unknown): void {
    this.close(CloseCode.InternalServerError, internalErrorReason(error, this.o.production));
  }
}
