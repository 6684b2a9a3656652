/**
 * Client worker of bench/soak.ts, forked with `node --import tsx`: simulated
 * instances with their own event loop (and fd budget).
 *
 * Each instance registers over HTTP (colors alternate BLUE/GREEN by global
 * index), opens one graphql-ws connection with its own token, subscribes to
 * configUpdates, and from then on, over that same websocket: acks every update
 * it receives (reportConfigApplied) and heartbeats every `heartbeatMs` with
 * fixed healthy metrics. Heartbeats are spread evenly over the interval across
 * all workers: instance i beats at wall-clock times ≡ phase(i) (mod heartbeatMs),
 * phase(i) = (i + jitter) / total × heartbeatMs. A heartbeat due while the
 * instance's previous one is unanswered is skipped (and counted).
 * `stats` answers with the counters of the window since the previous `stats`.
 */
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { type Creds, gql, mapLimit, now } from './fanout-support.js';
import type { Registered } from './fanout-setup.js';

export type ToSoak =
  | {
    cmd: 'start';
    url: string;
    /** INSTANCE token allowed to register instances of `service`. */
    registrar: string;
    service: string;
    environment: string;
    /** Global index of this worker's first instance, its number of instances, and the fleet size. */
    first: number;
    count: number;
    total: number;
    heartbeatMs: number;
    concurrency: number;
  }
  | { cmd: 'stats' }
  | { cmd: 'close' };

/** Counters of one window (between two `stats`), except `lost` (a total). */
export interface WindowStats {
  lost: number;
  hbOk: number;
  hbFailed: number;
  hbSkipped: number;
  /** Round-trip times (ms) of the heartbeats answered in the window. */
  hbMs: number[];
  acksOk: number;
  acksFailed: number;
  /** The first few distinct error texts of the window. */
  errors: string[];
}

export type FromSoak =
  | { evt: 'ready' }
  | { evt: 'started'; ok: number; failed: number; firstError: string | null; creds: Creds[]; ms: number }
  | { evt: 'stats'; stats: WindowStats };

const REGISTER_COLORED = `mutation($s: String!, $e: Environment!, $h: String!, $c: Color) {
  registerInstance(input: { service: $s, environment: $e, host: $h, color: $c }) { instance { id } token } }`;
const SUBSCRIBE = 'subscription($id: ID!) { configUpdates(instanceId: $id) { profileName version hash deploymentId } }';
const ACK =
  'mutation($id: ID!, $p: String!, $v: Int!) { reportConfigApplied(instanceId: $id, profileName: $p, version: $v, success: true, reloadMs: 0) }';
const HEARTBEAT = 'mutation($id: ID!, $m: InstanceMetricsInput) { heartbeat(instanceId: $id, metrics: $m) { id } }';
const METRICS = { errorRate: 0.01, latencyP99Ms: 50, requestCount: 100 };
const MAX_ERRORS = 5;

interface Sim {
  index: number;
  /** ms into each heartbeat interval. */
  phase: number;
  creds?: Creds;
  client?: Client;
  live: boolean;
  beating: boolean;
}

type Update = { configUpdates: { profileName: string; version: number } };

const send = (m: FromSoak) => process.send!(m);

let lost = 0;
let closing = false;
let w = emptyWindow();
const sims: Sim[] = [];
let ticker: NodeJS.Timeout | undefined;

function emptyWindow(): Omit<WindowStats, 'lost'> {
  return { hbOk: 0, hbFailed: 0, hbSkipped: 0, hbMs: [], acksOk: 0, acksFailed: 0, errors: [] };
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (Array.isArray(e)) return JSON.stringify(e).slice(0, 300);
  const reason = (e as { reason?: unknown; code?: unknown } | null)?.reason;
  if (reason !== undefined) return `closed (${String((e as { code?: unknown }).code)}): ${String(reason)}`;
  return String(e);
}

function noteError(e: unknown): void {
  const text = errorText(e);
  if (w.errors.length < MAX_ERRORS && !w.errors.includes(text)) w.errors.push(text);
}

/** Runs a single-result operation over the instance's websocket; `done` is called exactly once. */
function operation<T>(client: Client, query: string, variables: Record<string, unknown>, done: (data: T | null, error?: unknown) => void): void {
  let settled = false;
  const finish = (data: T | null, error?: unknown) => {
    if (settled) return;
    settled = true;
    done(data, error);
  };
  client.subscribe<T>(
    { query, variables },
    {
      next: (r) => (r.errors || !r.data ? finish(null, r.errors ?? 'no data') : finish(r.data)),
      error: (e) => finish(null, e),
      complete: () => finish(null, 'completed without an answer'),
    },
  );
}

function beat(sim: Sim): void {
  if (!sim.live || !sim.client || !sim.creds) return;
  if (sim.beating) {
    w.hbSkipped++;
    return;
  }
  sim.beating = true;
  const t = now();
  operation<{ heartbeat: { id: string } }>(sim.client, HEARTBEAT, { id: sim.creds.id, m: METRICS }, (data, error) => {
    sim.beating = false;
    if (data?.heartbeat) {
      w.hbOk++;
      w.hbMs.push(now() - t);
    } else {
      w.hbFailed++;
      noteError(error);
    }
  });
}

function ack(sim: Sim, u: Update['configUpdates']): void {
  operation<{ reportConfigApplied: boolean }>(sim.client!, ACK, { id: sim.creds!.id, p: u.profileName, v: u.version }, (data, error) => {
    if (data?.reportConfigApplied === true) w.acksOk++;
    else {
      w.acksFailed++;
      noteError(error);
    }
  });
}

/** One 10 ms ticker walks the instances in phase order and beats those due (catching up after a stall). */
function startTicker(heartbeatMs: number): void {
  const order = [...sims].sort((a, b) => a.phase - b.phase);
  if (order.length === 0) return;
  let cycleStart = Math.floor(Date.now() / heartbeatMs) * heartbeatMs;
  let cursor = order.findIndex((s) => cycleStart + s.phase > Date.now());
  if (cursor < 0) {
    cursor = 0;
    cycleStart += heartbeatMs;
  }
  ticker = setInterval(() => {
    const t = Date.now();
    while (cycleStart + order[cursor]!.phase <= t) {
      beat(order[cursor]!);
      if (++cursor === order.length) {
        cursor = 0;
        cycleStart += heartbeatMs;
      }
    }
  }, 10);
}

/** Registers, connects and subscribes one instance; resolves once its subscription delivered its first message. */
async function startInstance(m: Extract<ToSoak, { cmd: 'start' }>, sim: Sim): Promise<void> {
  const color = sim.index % 2 === 0 ? 'BLUE' : 'GREEN';
  const r = await gql<Registered>(m.url, m.registrar, REGISTER_COLORED, { s: m.service, e: m.environment, h: `soak-${sim.index}`, c: color });
  const creds: Creds = { id: r.registerInstance.instance.id, token: r.registerInstance.token };
  sim.creds = creds;
  await new Promise<void>((resolve, reject) => {
    const client = createClient({
      url: m.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${creds.token}` },
      lazy: true,
      retryAttempts: 0,
      keepAlive: 0,
      on: {
        closed: (event) => {
          if (sim.live && !closing) {
            sim.live = false;
            lost++;
            noteError(event);
          }
        },
      },
    });
    sim.client = client;
    client.subscribe<Update>(
      { query: SUBSCRIBE, variables: { id: creds.id } },
      {
        next: (res) => {
          const u = res.data?.configUpdates;
          if (!u) return noteError(res.errors ?? 'configUpdates without data');
          if (!sim.live) {
            sim.live = true;
            resolve();
          }
          ack(sim, u);
        },
        error: (e) => (sim.live ? noteError(e) : reject(e instanceof Error ? e : new Error(errorText(e)))),
        complete: () => (sim.live ? undefined : reject(new Error('subscription completed before its first message'))),
      },
    );
  });
}

async function start(m: Extract<ToSoak, { cmd: 'start' }>): Promise<void> {
  for (let k = 0; k < m.count; k++) {
    const index = m.first + k;
    sims.push({ index, phase: ((index + Math.random()) / m.total) * m.heartbeatMs, live: false, beating: false });
  }
  // Beating starts at once: each instance joins its slot as soon as its subscription is live.
  startTicker(m.heartbeatMs);
  const t = now();
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  await mapLimit(sims, m.concurrency, async (sim) => {
    try {
      await startInstance(m, sim);
      ok++;
    } catch (e) {
      failed++;
      firstError ??= errorText(e);
    }
  });
  const creds = sims.flatMap((s) => (s.creds ? [s.creds] : []));
  send({ evt: 'started', ok, failed, firstError, creds, ms: now() - t });
}

process.on('message', (raw) => {
  const m = raw as ToSoak;
  switch (m.cmd) {
    case 'start':
      void start(m).catch((e: unknown) => send({ evt: 'started', ok: 0, failed: -1, firstError: errorText(e), creds: [], ms: Number.NaN }));
      return;
    case 'stats': {
      send({ evt: 'stats', stats: { lost, ...w } });
      w = emptyWindow();
      return;
    }
    case 'close':
      closing = true;
      clearInterval(ticker);
      for (const s of sims) void s.client?.dispose();
      setTimeout(() => process.exit(0), 200);
      return;
  }
});
process.on('disconnect', () => process.exit(0));
send({ evt: 'ready' });
