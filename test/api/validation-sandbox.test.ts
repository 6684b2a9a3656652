import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, ok } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const REGISTER = 'mutation($n: String!, $s: JSON!) { registerSchema(input: { name: $n, schema: $s }) { id } }';
const VALIDATE = 'query($id: ID!, $d: JSON!) { validateConfig(schemaId: $id, data: $d) { valid errors { path keyword } } }';

/** A schema whose $refs double at each of 40 levels: validating even {} would take about an hour. */
function exponentialSchema(levels: number): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (let i = 0; i < levels; i++) defs[`d${i}`] = { allOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
  defs[`d${levels}`] = { type: 'object' };
  return { $defs: defs, $ref: '#/$defs/d0' };
}

describe('validation runs on a budget', () => {
  let server: TestServer;
  let a: Api;
  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await server.stop();
  });

  it('stops a validation that would run for an hour, answers BAD_USER_INPUT, and keeps validating others', async () => {
    const costly = ok(await a.gql<{ registerSchema: { id: string } }>(REGISTER, { n: 'fanout', s: exponentialSchema(40) })).registerSchema.id;
    const started = Date.now();
    const refused = await a.gql(VALIDATE, { id: costly, d: {} });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(/took longer than 2000 ms.*too costly to validate/);
    expect(Date.now() - started).toBeLessThan(10_000);

    const health = await fetch(server.url.replace('/graphql', '/healthz'));
    expect(health.status).toBe(200);
    const plain = ok(await a.gql<{ registerSchema: { id: string } }>(REGISTER, { n: 'plain', s: { type: 'object', required: ['a'] } })).registerSchema.id;
    expect(ok(await a.gql(VALIDATE, { id: plain, d: {} }))).toEqual({ validateConfig: { valid: false, errors: [{ path: '/a', keyword: 'required' }] } });
  }, 30_000);
});
