/**
 * Set-up steps of bench/fanout.bench.ts against the server under test: the
 * GraphQL operations, making version 1 active before any subscriber connects,
 * and waiting for a deployment's COMPLETED event.
 */
import { createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { mintToken } from '../src/auth/tokens.js';
import { Environment, Role } from '../src/domain/enums.js';
import { type Creds, gql, mapLimit, now, withTimeout } from './fanout-support.js';

/** Resolves with the time the deployment's events reached `status` (over a deploymentEvents subscription); rejects on another final status. */
export function statusReached(url: string, token: string, id: string, status: string, timeoutMs: number): Promise<number> {
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  const result = new Promise<number>((resolve, reject) => {
    client.subscribe<{ deploymentEvents: { status: string; message: string | null } }>(
      { query: 'subscription($id: ID!) { deploymentEvents(id: $id) { status message } }', variables: { id } },
      {
        next: (r) => {
          const e = r.data?.deploymentEvents;
          if (e?.status === status) resolve(now());
          else if (!e || ['COMPLETED', 'FAILED', 'ROLLED_BACK', 'CANCELLED'].includes(e.status)) {
            reject(new Error(`deployment ${e?.status}: ${e?.message ?? JSON.stringify(r.errors)}`));
          }
        },
        error: (e) => reject(new Error(`deploymentEvents: ${JSON.stringify(e)}`)),
        complete: () => reject(new Error(`deploymentEvents ended before ${status}`)),
      },
    );
  });
  return withTimeout(`deployment ${status}`, timeoutMs, result).finally(() => void client.dispose());
}

/** Resolves with the time the deployment's COMPLETED event arrived. */
export function completedAt(url: string, token: string, id: string, timeoutMs: number): Promise<number> {
  return statusReached(url, token, id, 'COMPLETED', timeoutMs);
}

export const START = `mutation($p: String!, $v: Int!, $c: Int!) { startDeployment(input: { profileName: $p, version: $v, strategy: DIRECT,
  direct: { maxConcurrency: $c }, ackTimeoutSeconds: 600 }) { id } }`;
export const PUBLISH = 'mutation($p: String!, $d: JSON!) { publishVersion(profileName: $p, input: { data: $d }) { version } }';
export const REGISTER = 'mutation($s: String!, $e: Environment!, $h: String!) { registerInstance(input: { service: $s, environment: $e, host: $h }) { instance { id } token } }';
export type Registered = { registerInstance: { instance: { id: string }; token: string } };

/** A bench's start on its server: an ADMIN token, and a way to register instances of `service`. */
export interface SeededProfile {
  adminToken: string;
  register(host: string): Promise<Creds>;
}

/**
 * What every push bench sets up first: `profile` of `service` (STAGING) with
 * `config` published and active as version 1 (activateVersion1), tokens
 * signed with `secret` under the bench's `name`.
 */
export async function seedProfile(url: string, secret: string, o: { name: string; service: string; profile: string; config: Record<string, unknown> }): Promise<SeededProfile> {
  const environment = Environment.STAGING;
  const adminToken = await mintToken(secret, { sub: `${o.name}-bench`, role: Role.ADMIN, expiresInSeconds: 3600 });
  const registrar = await mintToken(secret, { sub: `${o.name}-registrar`, role: Role.INSTANCE, service: o.service, environment, expiresInSeconds: 3600 });
  const register = async (host: string): Promise<Creds> => {
    const r = await gql<Registered>(url, registrar, REGISTER, { s: o.service, e: environment, h: host });
    return { id: r.registerInstance.instance.id, token: r.registerInstance.token };
  };
  await gql(url, adminToken, 'mutation($n: String!, $s: String!) { createProfile(input: { name: $n, service: $s, environment: STAGING }) { id } }', { n: o.profile, s: o.service });
  await gql(url, adminToken, PUBLISH, { p: o.profile, d: o.config });
  await activateVersion1(url, adminToken, o.profile, register);
  return { adminToken, register };
}

/** Registers `n` instances (hosts `<prefix>-<i>`), 50 at a time. */
export function registerFleet(seeded: SeededProfile, n: number, prefix: string): Promise<Creds[]> {
  return mapLimit(Array.from({ length: n }, (_, i) => i), 50, (i) => seeded.register(`${prefix}-${i}`));
}

/**
 * Version 1 becomes active through a first DIRECT deployment to one seed
 * instance (subscribed: deployments target connected instances), acked over
 * HTTP, then deregistered.
 */
export async function activateVersion1(url: string, adminToken: string, profile: string, register: (host: string) => Promise<Creds>): Promise<void> {
  const seed = await register('seed');
  const feed = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${seed.token}` }, retryAttempts: 0 });
  try {
    await activateThrough(seed, feed, url, adminToken, profile);
  } finally {
    await feed.dispose();
  }
}

async function activateThrough(seed: Creds, feed: ReturnType<typeof createClient>, url: string, adminToken: string, profile: string): Promise<void> {
  feed.subscribe({ query: 'subscription($id: ID!) { configUpdates(instanceId: $id) { version } }', variables: { id: seed.id } }, { next: () => {}, error: () => {}, complete: () => {} });
  for (const end = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 20))) {
    const { instance } = await gql<{ instance: { connected: boolean } | null }>(url, seed.token, 'query($id: ID!) { instance(id: $id) { connected } }', { id: seed.id });
    if (instance?.connected) break;
    if (Date.now() > end) throw new Error('first deployment: the seed instance never counted as connected');
  }
  const { startDeployment } = await gql<{ startDeployment: { id: string } }>(url, adminToken, START, { p: profile, v: 1, c: 1 });
  const state = () => gql<{ deployment: { status: string; targets: Array<{ state: string }> } }>(url, adminToken,
    'query($id: ID!) { deployment(id: $id) { status targets { state } } }', { id: startDeployment.id });
  const until = async (what: string, ok: (d: Awaited<ReturnType<typeof state>>['deployment']) => boolean) => {
    for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (ok((await state()).deployment)) return;
    throw new Error(`first deployment: timed out waiting for ${what}`);
  };
  await until('the push to the seed', (d) => d.targets[0]?.state === 'PUSHED');
  await gql(url, seed.token, 'mutation($id: ID!, $p: String!) { reportConfigApplied(instanceId: $id, profileName: $p, version: 1, success: true) }', { id: seed.id, p: profile });
  await until('COMPLETED', (d) => d.status === 'COMPLETED');
  await gql(url, seed.token, 'mutation($id: ID!) { deregisterInstance(id: $id) }', { id: seed.id });
}


/**
 * Where the time from t0 went before the first push, from the timestamps the
 * server stores (same machine clock): deployment events (JS clock at each step)
 * and PostgreSQL now() (transaction start) of the push and ack batches.
 */
export async function timeline(dbUrl: string, deploymentId: string, t0: number): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const ms = (column: string) => `extract(epoch from ${column}) * 1000`;
    const events = await client.query<{ type: string; t: string }>(
      `select type, ${ms('at')} as t from deployment_event where deployment_id = $1 order by id`, [deploymentId]);
    const targets = await client.query<{ pushed: string; first_ack: string; last_ack: string; batches: string }>(
      `select ${ms('min(pushed_at)')} as pushed, ${ms('min(acked_at)')} as first_ack, ${ms('max(acked_at)')} as last_ack,
              count(distinct acked_at) as batches from deployment_target where deployment_id = $1`, [deploymentId]);
    const out: Record<string, number> = {};
    for (const e of events.rows) out[`${e.type} event`] ??= Number(e.t) - t0;
    const t = targets.rows[0]!;
    out['push step (tx start)'] = Number(t.pushed) - t0;
    out['first ack batch (tx start)'] = Number(t.first_ack) - t0;
    out['last ack batch (tx start)'] = Number(t.last_ack) - t0;
    out['ack batches'] = Number(t.batches);
    return out;
  } finally {
    await client.end();
  }
}
