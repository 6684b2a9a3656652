/**
 * Client worker of bench/fanout.bench.ts, forked with `node --import tsx`, so the
 * simulated instances have their own event loop (and fd budget).
 *
 * mode 'hotswap': one graphql-ws connection per instance, with its own token
 * (the protocol by hand, `client: 'raw'`, or graphql-ws's client, 'library'),
 * subscribed to configUpdates(instanceId); "connected" once each got its first
 * message (the active version, proof the subscription is live). After `expect`,
 * the receive time of that version is recorded and acked with reportConfigApplied
 * over the same websocket (or HTTP).
 * mode 'floor': bare `ws` clients of bench/fanout-floor.ts; records the receive
 * time of the message (the config) carrying the expected version (parsed, as a
 * real client would).
 * mode 'etcd': watches of one key of etcd (bench/fanout-etcd.ts) by the lean gRPC
 * client of bench/fanout-etcd-client.ts, all on one HTTP/2 connection per
 * process (`shared`) or each on its own; the value of the put is the same
 * config, parsed the same way.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { etcdConnection, ownConnectionWatch } from './fanout-etcd-client.js';
import { type Creds, type FromWorker, gql, mapLimit, now, type ToWorker } from './fanout-support.js';
import { createRawClient, type MinimalClient } from './raw-graphql-ws-client.js';

const SUBSCRIBE = 'subscription($id: ID!) { configUpdates(instanceId: $id) { profileName version hash data deploymentId } }';
const ACK =
  'mutation($id: ID!, $p: String!, $v: Int!) { reportConfigApplied(instanceId: $id, profileName: $p, version: $v, success: true, reloadMs: 0) }';

type Update = { configUpdates: { profileName: string; version: number } };

const send = (m: FromWorker) => process.send!(m);

let received: number[] = [];
let acked: number[] = [];
let expected: number | null = null;
let ackFailures = 0;
let firstError: string | null = null;
let outstanding = 0;
let finish: (() => void) | null = null;
const closers: Array<() => void> = [];

const noteError = (e: unknown) => {
  const text = e instanceof Error ? e.message : Array.isArray(e) ? JSON.stringify(e) : String((e as { reason?: string })?.reason ?? e);
  firstError ??= text;
};
/**
 * Acks wait until every instance of this process has received the version (or
 * nothing arrived for ACK_QUIET_MS): this one process plays many instances, and
 * one instance's ack (a socket write, and its answer to read) must not hold back
 * the receive recorded for the next, as it never would on separate machines.
 */
const ACK_QUIET_MS = 10;
let receivedCount = 0;
const pendingAcks: Array<() => void> = [];
let quiet: NodeJS.Timeout | undefined;
const flushAcks = () => {
  clearTimeout(quiet);
  quiet = undefined;
  for (const send of pendingAcks.splice(0)) send();
};
/** Flushes once a check finds no receive since the previous one (one timer per 10 ms, not one per message). */
const whenQuiet = (seen: number) => {
  quiet = setTimeout(() => (receivedCount === seen ? flushAcks() : whenQuiet(receivedCount)), ACK_QUIET_MS);
};
const deferAck = (send: () => void) => {
  pendingAcks.push(send);
  if (++receivedCount === received.length) flushAcks();
  else if (quiet === undefined) whenQuiet(receivedCount);
};
const settle = () => {
  if (expected !== null && outstanding === 0) finish?.();
};

/** Opens `n` connections, at most `concurrency` being set up at once; `open(i)` resolves when connection i is live. */
async function openAll(n: number, concurrency: number, open: (i: number) => Promise<void>): Promise<void> {
  const t = now();
  let ok = 0;
  let failed = 0;
  await mapLimit(Array.from({ length: n }, (_, i) => i), concurrency, async (i) => {
    try {
      await open(i);
      ok++;
    } catch (e) {
      failed++;
      noteError(e);
    }
  });
  send({ evt: 'connected', ok, failed, firstError, ms: now() - t });
}

async function connectHotSwap(m: Extract<ToWorker, { mode: 'hotswap' }>): Promise<void> {
  const wsUrl = m.url.replace(/^http/, 'ws');
  received = new Array(m.clients.length).fill(Number.NaN);
  acked = new Array(m.clients.length).fill(Number.NaN);
  const ack = (client: MinimalClient, c: Creds, i: number, profileName: string, version: number) => {
    const done = (ok: boolean, error?: unknown) => {
      if (!Number.isNaN(acked[i]!)) return;
      acked[i] = now();
      if (!ok) {
        ackFailures++;
        noteError(error);
      }
      outstanding--;
      settle();
    };
    const variables = { id: c.id, p: profileName, v: version };
    if (m.ack === 'http') {
      gql(m.url, c.token, ACK, variables).then(() => done(true), (e: unknown) => done(false, e));
      return;
    }
    client.subscribe<{ reportConfigApplied: boolean }>(
      { query: ACK, variables },
      {
        next: (r) => done(!r.errors && r.data?.reportConfigApplied === true, r.errors),
        error: (e) => done(false, e),
        complete: () => done(false, 'ack completed without an answer'),
      },
    );
  };
  await openAll(m.clients.length, m.concurrency, (i) => {
    const c = m.clients[i]!;
    return new Promise<void>((resolve, reject) => {
      const connectionParams = { authorization: `Bearer ${c.token}` };
      const client: MinimalClient =
        m.client === 'raw'
          ? createRawClient(wsUrl, connectionParams)
          : createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams, lazy: true, retryAttempts: 0, keepAlive: 0 });
      let live = false;
      const unsubscribe = client.subscribe<Update>(
        { query: SUBSCRIBE, variables: { id: c.id } },
        {
          next: (r) => {
            const u = r.data?.configUpdates;
            if (!u) return noteError(r.errors);
            if (!live) {
              live = true;
              resolve();
            }
            if (expected !== null && u.version === expected && Number.isNaN(received[i]!)) {
              received[i] = now();
              // The ack keeps two fields, not the parsed message: 10,000 configs kept alive until the
              // acks go out would make every collection during the receives copy them all.
              const { profileName, version } = u;
              deferAck(() => ack(client, c, i, profileName, version));
            }
          },
          error: (e) => (live ? noteError(e) : reject(e instanceof Error ? e : new Error(JSON.stringify(e)))),
          complete: () => (live ? undefined : reject(new Error('subscription completed before its first message'))),
        },
      );
      closers.push(() => {
        unsubscribe();
        void client.dispose();
      });
    });
  });
}

async function connectFloor(m: Extract<ToWorker, { mode: 'floor' }>): Promise<void> {
  received = new Array(m.count).fill(Number.NaN);
  acked = [];
  await openAll(m.count, m.concurrency, (i) => {
    return new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(m.url);
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.on('message', (data: Buffer) => {
        const t = now();
        const config = JSON.parse(data.toString()) as { seed?: number };
        if (expected !== null && Number.isNaN(received[i]!) && config.seed === expected) {
          received[i] = t;
          outstanding--;
          settle();
        }
      });
      closers.push(() => ws.terminate());
    });
  });
}

/** etcd: `count` watches of one key, on a connection each or on one `shared` connection (bench/fanout-etcd-client.ts). */
async function connectEtcd(m: Extract<ToWorker, { mode: 'etcd' }>): Promise<void> {
  received = new Array(m.count).fill(Number.NaN);
  acked = [];
  const shared = m.shared ? etcdConnection(m.address) : undefined;
  if (shared) closers.push(shared.close);
  const watch = shared?.watch ?? ownConnectionWatch(m.address);
  await openAll(m.count, m.concurrency, async (i) => {
    const stop = await watch(m.key, (value, t) => {
      if (expected === null || !Number.isNaN(received[i]!)) return;
      const config = JSON.parse(value.toString()) as { seed?: number };
      if (config.seed === expected) {
        received[i] = t;
        outstanding--;
        settle();
      }
    }, noteError);
    closers.push(stop);
  });
}

process.on('message', (raw) => {
  const m = raw as ToWorker;
  switch (m.cmd) {
    case 'connect':
      void (m.mode === 'hotswap' ? connectHotSwap(m) : m.mode === 'floor' ? connectFloor(m) : connectEtcd(m)).catch((e: unknown) => {
        noteError(e);
        send({ evt: 'connected', ok: 0, failed: -1, firstError, ms: Number.NaN });
      });
      return;
    case 'expect': {
      // Each connection is outstanding until it received (and, for HotSwap, acked) this version.
      received.fill(Number.NaN);
      acked.fill(Number.NaN);
      receivedCount = 0;
      ackFailures = 0;
      firstError = null;
      outstanding = received.length;
      expected = m.version;
      const timer = setTimeout(() => finish?.(), m.timeoutMs);
      finish = () => {
        finish = null;
        clearTimeout(timer);
        send({ evt: 'done', received, acked, ackFailures, firstError });
      };
      // A full GC before the push: the heap this process built playing every instance (connections,
      // their snapshots) is collected now, not in the middle of the receives it times.
      (globalThis as { gc?: () => void }).gc?.();
      send({ evt: 'armed' });
      settle();
      return;
    }
    case 'close':
      for (const close of closers.splice(0)) close();
      setTimeout(() => process.exit(0), 200);
      return;
  }
});
process.on('disconnect', () => process.exit(0));
send({ evt: 'ready' });
