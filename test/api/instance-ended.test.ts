import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import { CONFIG_UPDATES, HEARTBEAT, registerInstance } from '../support/fleet.js';
import { deleteKeysUnder, ownRedisPrefix } from '../support/redis-keys.js';
import { startTestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { connectWs } from '../support/ws-client.js';

/**
 * Issue 14 point 4, the other half: an instance that ended — deregistered by
 * itself or an operator, or reaped — stays gone. Its end is kept in
 * PostgreSQL, so its still valid token cannot restore it even after Redis
 * lost everything (its keys under this file's own prefix deleted).
 */

const DEREGISTER = 'mutation($id: ID!) { deregisterInstance(id: $id) }';
const GET = 'query($id: ID!) { instance(id: $id) { id } }';

let counter = 0;
const freshService = () => `ended-${++counter}-${Math.random().toString(36).slice(2, 7)}`;

interface Ended {
  reason: string;
}

/** A server on Redis under its own prefix, with helpers to empty that Redis and to probe an instance. */
async function startOnRedis(env: Record<string, string> = {}) {
  const prefix = ownRedisPrefix('ended');
  const server = await startTestServer({ REDIS_URL: inject('redisUrl'), HOTSWAP_REDIS_PREFIX: prefix, ...env });
  const a = api(server);
  return {
    server,
    a,
    lose: () => deleteKeysUnder(inject('redisUrl'), prefix),
    ended: (id: string) => server.db.query<Ended>('select reason from ended_instance where instance_id = $1', [id]),
    read: async (id: string) => ok(await a.gql<{ instance: { id: string } | null }>(GET, { id })).instance,
    stop: async () => {
      await server.stop();
      await deleteKeysUnder(inject('redisUrl'), prefix);
    },
  };
}
type OnRedis = Awaited<ReturnType<typeof startOnRedis>>;

/** Heartbeat and subscribe with the instance's own token are both NOT_FOUND, and it is not listed. */
async function expectGone(s: OnRedis, inst: { id: string; token: string }): Promise<void> {
  expectRefused(await s.a.gql(HEARTBEAT, { id: inst.id, m: null }, inst.token), 'NOT_FOUND');
  const ws = connectWs(s.server.url, inst.token);
  try {
    const first = await ws.subscribe(CONFIG_UPDATES, { id: inst.id }).next();
    expect(first.errors?.[0]?.extensions?.code, JSON.stringify(first)).toBe('NOT_FOUND');
  } finally {
    await ws.dispose();
  }
  expect(await s.read(inst.id)).toBeNull();
}

describe('a deregistered instance stays gone, also after Redis lost everything', () => {
  let s: OnRedis;
  let a: Api;
  beforeAll(async () => {
    s = await startOnRedis();
    a = s.a;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('deregistered by itself: its old token gets NOT_FOUND before and after Redis is emptied', async () => {
    const inst = await registerInstance(a, freshService());
    expect(ok(await a.gql<{ deregisterInstance: boolean }>(DEREGISTER, { id: inst.id }, inst.token)).deregisterInstance).toBe(true);
    expect(await s.ended(inst.id)).toEqual([{ reason: 'DEREGISTERED' }]);
    await expectGone(s, inst);
    await s.lose();
    await expectGone(s, inst);
    expectRefused(await a.gql('mutation($i: ID!) { refreshInstanceToken(instanceId: $i) }', { i: inst.id }, inst.token), 'NOT_FOUND');
  });

  it.each([Role.OPERATOR, Role.ADMIN])('deregistered by %s: its old token gets NOT_FOUND before and after Redis is emptied', async (role) => {
    const inst = await registerInstance(a, freshService());
    expect(ok(await a.gql<{ deregisterInstance: boolean }>(DEREGISTER, { id: inst.id }, await a.token(role))).deregisterInstance).toBe(true);
    expect(await s.ended(inst.id)).toEqual([{ reason: 'DEREGISTERED' }]);
    await s.lose();
    await expectGone(s, inst);
  });

  it('an instance whose record Redis lost may still deregister itself with its token, and then stays gone', async () => {
    const inst = await registerInstance(a, freshService());
    await s.lose();
    expect(ok(await a.gql<{ deregisterInstance: boolean }>(DEREGISTER, { id: inst.id }, inst.token)).deregisterInstance).toBe(true);
    await expectGone(s, inst);
    expectRefused(await a.gql(DEREGISTER, { id: inst.id }, inst.token), 'NOT_FOUND');
  });

  it('refusals end nothing: no token (UNAUTHENTICATED), another instance or a DEVELOPER (FORBIDDEN), an unknown id (NOT_FOUND)', async () => {
    const service = freshService();
    const inst = await registerInstance(a, service);
    const other = await registerInstance(a, service);
    expectRefused(await a.gql(DEREGISTER, { id: inst.id }, null), 'UNAUTHENTICATED');
    expectRefused(await a.gql(DEREGISTER, { id: inst.id }, other.token), 'FORBIDDEN');
    expectRefused(await a.gql(DEREGISTER, { id: inst.id }, await a.token(Role.DEVELOPER)), 'FORBIDDEN');
    // An OPERATOR cannot tell a record Redis lost from an id that never was: NOT_FOUND, and nothing recorded.
    await s.lose();
    expectRefused(await a.gql(DEREGISTER, { id: inst.id }, await a.token(Role.OPERATOR)), 'NOT_FOUND');
    expectRefused(await a.gql(DEREGISTER, { id: 'not-a-uuid' }), 'NOT_FOUND');
    expect(await s.ended(inst.id)).toEqual([]);
    expect(await s.ended('not-a-uuid')).toEqual([]);
    ok(await a.gql(HEARTBEAT, { id: inst.id, m: null }, inst.token));
    expect(await s.read(inst.id)).toEqual({ id: inst.id });
  });
});

describe('a reaped instance stays gone, also after Redis lost everything', () => {
  let s: OnRedis;
  beforeAll(async () => {
    // Silent for more than 3 × 100 ms: STALE, then removed at the next run (no grace).
    s = await startOnRedis({ HOTSWAP_HEARTBEAT_INTERVAL_MS: '100', HOTSWAP_STALE_GRACE_MS: '0' });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('its old token gets NOT_FOUND once reaped, and after Redis is emptied', async () => {
    const inst = await registerInstance(s.a, freshService());
    await pollUntil(() => s.ended(inst.id), (rows) => rows.length > 0, { timeoutMs: 5000, intervalMs: 50, what: 'the reap' });
    expect(await s.ended(inst.id)).toEqual([{ reason: 'REAPED' }]);
    await pollUntil(() => s.read(inst.id), (r) => r === null, { timeoutMs: 5000, intervalMs: 20, what: 'the removal' });
    await expectGone(s, inst);
    await s.lose();
    await expectGone(s, inst);
  });
});
