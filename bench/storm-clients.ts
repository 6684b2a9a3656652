/**
 * Client worker of bench/storm.bench.ts, forked with `node --import tsx`:
 * instances that hold a configUpdates subscription (the graphql-ws protocol by
 * hand over a bare `ws` socket, one JSON.parse per message) and, when their
 * socket closes, reconnect as the client library does: after 100 ms × 2^attempt
 * capped at 1 s, with equal jitter (src/client/backoff.ts's defaults there are
 * larger; these make the storm as dense as a fleet's can be).
 */
import WebSocket from 'ws';
import { type Creds, mapLimit } from './fanout-support.js';

export type ToStorm = { cmd: 'connect'; url: string; clients: Creds[]; concurrency: number } | { cmd: 'report' } | { cmd: 'close' };
export type FromStorm =
  | { evt: 'ready' }
  | { evt: 'connected'; ok: number; failed: number; firstError: string | null }
  /** Per instance: Date.now() of the first message of its current subscription (NaN: none), and the version it carried. */
  | { evt: 'report'; subscribedAt: number[]; versions: number[]; reconnects: number; firstError: string | null };

const SUBSCRIBE = 'subscription($id: ID!) { configUpdates(instanceId: $id) { profileName version hash data deploymentId } }';
const send = (m: FromStorm) => process.send!(m);

let subscribedAt: number[] = [];
let versions: number[] = [];
let reconnects = 0;
let firstError: string | null = null;
let closing = false;
const sockets = new Set<WebSocket>();

const backoff = (attempt: number) => {
  const cap = Math.min(1000, 100 * 2 ** attempt);
  return cap / 2 + Math.random() * (cap / 2);
};

/** Keeps instance `i` subscribed; resolves when its first subscription got its first message. */
function hold(url: string, c: Creds, i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let attempt = 0;
    let everLive = false;
    const open = () => {
      const ws = new WebSocket(url, 'graphql-transport-ws');
      sockets.add(ws);
      let live = false;
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${c.token}` } })));
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString()) as { type: string; payload?: { data?: { configUpdates?: { version: number } } } };
        if (m.type === 'connection_ack') ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIBE, variables: { id: c.id } } }));
        else if (m.type === 'ping') ws.send('{"type":"pong"}');
        else if (m.type === 'next' && !live) {
          live = true;
          attempt = 0;
          subscribedAt[i] = Date.now();
          versions[i] = m.payload?.data?.configUpdates?.version ?? Number.NaN;
          if (!everLive) {
            everLive = true;
            resolve();
          }
        } else if (m.type === 'error') {
          firstError ??= JSON.stringify(m.payload);
        }
      });
      ws.on('error', (e) => void (firstError ??= e.message));
      ws.on('close', () => {
        sockets.delete(ws);
        if (closing) return;
        if (!everLive) return reject(new Error(`instance ${c.id}: closed before its first message`));
        subscribedAt[i] = Number.NaN;
        reconnects++;
        setTimeout(open, backoff(attempt++));
      });
    };
    open();
  });
}

process.on('message', (raw) => {
  const m = raw as ToStorm;
  switch (m.cmd) {
    case 'connect': {
      subscribedAt = new Array(m.clients.length).fill(Number.NaN);
      versions = new Array(m.clients.length).fill(Number.NaN);
      let ok = 0;
      let failed = 0;
      void mapLimit(m.clients, m.concurrency, (c, i) =>
        hold(m.url, c, i).then(
          () => void ok++,
          (e: unknown) => {
            failed++;
            firstError ??= String(e);
          },
        ),
      ).then(() => send({ evt: 'connected', ok, failed, firstError }));
      return;
    }
    case 'report':
      send({ evt: 'report', subscribedAt, versions, reconnects, firstError });
      return;
    case 'close':
      closing = true;
      for (const ws of sockets) ws.terminate();
      setTimeout(() => process.exit(0), 200);
      return;
  }
});
process.on('disconnect', () => process.exit(0));
send({ evt: 'ready' });
