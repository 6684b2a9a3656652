import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

describe('smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('creates a profile', async () => {
    const res = await server.gql(`mutation { createProfile(input: { name: "a", service: "s", environment: STAGING }) { name } }`);
    expect(res.data).toEqual({ createProfile: { name: 'a' } });
  });
});
