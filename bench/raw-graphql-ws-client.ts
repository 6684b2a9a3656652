/**
 * The graphql-transport-ws protocol by hand over a bare `ws` socket, for
 * bench/fanout-clients.ts: per message one JSON.parse, the same client work as
 * the floor's clients, so the fan-out bench compares servers rather than client
 * libraries (BENCH_FANOUT_CLIENT=library uses graphql-ws's own client instead).
 * The subset of graphql-ws's Client the bench uses: subscribe and dispose.
 */
import type { FormattedExecutionResult } from 'graphql';
import type { Client, Sink } from 'graphql-ws';
import WebSocket from 'ws';

/** The part of graphql-ws's Client the bench uses. */
export type MinimalClient = Pick<Client, 'subscribe' | 'dispose'>;
type AnySink = Sink<FormattedExecutionResult<unknown, unknown>>;
type Message = { type: string; id?: string; payload?: unknown };

export function createRawClient(url: string, connectionParams: Record<string, unknown>): MinimalClient {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const sinks = new Map<string, AnySink>();
  const queued: string[] = [];
  let acknowledged = false;
  let nextId = 1;
  const fail = (error: unknown) => {
    for (const sink of sinks.values()) sink.error(error);
    sinks.clear();
  };
  const settle = (id: string | undefined, end: (sink: AnySink) => void) => {
    const sink = id === undefined ? undefined : sinks.get(id);
    if (sink === undefined) return;
    sinks.delete(id!);
    end(sink);
  };
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
  socket.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as Message;
    switch (m.type) {
      case 'connection_ack':
        acknowledged = true;
        for (const text of queued.splice(0)) socket.send(text);
        return;
      case 'ping':
        socket.send('{"type":"pong"}');
        return;
      case 'next':
        sinks.get(m.id ?? '')?.next(m.payload as FormattedExecutionResult<unknown, unknown>);
        return;
      case 'error':
        return settle(m.id, (sink) => sink.error(m.payload));
      case 'complete':
        return settle(m.id, (sink) => sink.complete());
    }
  });
  socket.on('close', (code, reason) => fail(new Error(`socket closed: ${code} ${reason.toString()}`)));
  socket.on('error', fail);
  return {
    subscribe(payload, sink) {
      const id = String(nextId++);
      sinks.set(id, sink as AnySink);
      const text = JSON.stringify({ id, type: 'subscribe', payload });
      if (acknowledged) socket.send(text);
      else queued.push(text);
      return () => {
        if (sinks.delete(id) && socket.readyState === socket.OPEN) socket.send(JSON.stringify({ id, type: 'complete' }));
      };
    },
    dispose: () => socket.terminate(),
  };
}
