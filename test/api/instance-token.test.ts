import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const REFRESH = 'mutation($i: ID!) { refreshInstanceToken(instanceId: $i) }';
const REGISTER = 'mutation { registerInstance(input: { service: "renew", environment: STAGING, host: "h" }) { instance { id } token } }';

describe('refreshInstanceToken', () => {
  let server: TestServer;
  let a: Api;
  let inst: { id: string; token: string };

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_INSTANCE_TOKEN_TTL_SECONDS: '600' });
    a = api(server);
    const reg = await server.token(Role.INSTANCE, { service: 'renew', environment: Environment.STAGING });
    const register = async () => {
      const r = ok(await a.gql<{ registerInstance: { instance: { id: string }; token: string } }>(REGISTER, {}, reg)).registerInstance;
      return { id: r.instance.id, token: r.token };
    };
    inst = await register();
    await register(); // another instance of the service
  });
  afterAll(async () => {
    await server.stop();
  });

  it('gives the instance a new token for the same id, service and environment, with a full lifetime', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // so the new token's iat/exp differ
    const token = ok(await a.gql<{ refreshInstanceToken: string }>(REFRESH, { i: inst.id }, inst.token)).refreshInstanceToken;
    const before = decodeJwt(inst.token);
    const after = decodeJwt(token);
    expect(after).toMatchObject({ instanceId: inst.id, sub: inst.id, role: 'INSTANCE', service: 'renew', environment: 'STAGING' });
    expect(after.exp!).toBeGreaterThan(before.exp!);
    expect(after.exp! - after.iat!).toBe(600);
    const beat = await a.gql<{ heartbeat: { id: string } }>('mutation($i: ID!) { heartbeat(instanceId: $i) { id } }', { i: inst.id }, token);
    expect(ok(beat).heartbeat.id).toBe(inst.id);
  });

  // Without a token, for another instance and to the roles it refuses: the authorization table, test/security/tokens.test.ts.
  it('is refused for an unknown instance (NOT_FOUND)', async () => {
    const gone = '00000000-0000-4000-8000-000000000000';
    expectRefused(await a.gql(REFRESH, { i: gone }), 'NOT_FOUND');
  });
});
