/**
 * The floor for bench/fanout.bench.ts: a bare `ws` WebSocketServer on loopback,
 * forked as its own process. On `broadcast` it sends one pre-serialized message
 * (the config HotSwap deploys, the value etcd's watchers get) to every
 * connected client: no GraphQL, no per-subscriber serialization, no database.
 */
import { WebSocketServer } from 'ws';

export type ToFloor = { cmd: 'broadcast'; payload: string } | { cmd: 'close' };
export type FromFloor = { evt: 'listening'; url: string } | { evt: 'sent'; clients: number; ms: number };

const send = (m: FromFloor) => process.send!(m);

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 4096 });
wss.on('listening', () => {
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected address');
  send({ evt: 'listening', url: `ws://127.0.0.1:${address.port}` });
});

process.on('message', (raw) => {
  const m = raw as ToFloor;
  if (m.cmd === 'broadcast') {
    const t = performance.now();
    // Encoded once: the floor pays only the framing and the write per client.
    const bytes = Buffer.from(m.payload);
    for (const client of wss.clients) client.send(bytes, { binary: false });
    send({ evt: 'sent', clients: wss.clients.size, ms: performance.now() - t });
  } else {
    for (const client of wss.clients) client.terminate();
    wss.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
