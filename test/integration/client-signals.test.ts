import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { ok } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** A service as a user writes it: the built client library, nothing else, no handler of its own for signals. */
const SERVICE = `
const { createConfigClient } = await import(process.env.CLIENT_ENTRY);
const client = createConfigClient({
  url: process.env.HOTSWAP_URL, service: process.env.SERVICE, environment: 'STAGING',
  registration: { token: process.env.HOTSWAP_REGISTRATION_TOKEN },
  onConfig: () => {},
});
await client.start();
await client.ready;
console.log('instance ' + client.instanceId);
setInterval(() => {}, 1000);
`;

describe('the client library in a service process that is told to stop', () => {
  let server: TestServer;
  beforeAll(async () => void (server = await startTestServer()));
  afterAll(async () => server?.stop());

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`deregisters the instance on ${signal} and lets the signal end the process`, async () => {
      const service = `signals-${signal.toLowerCase()}`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', SERVICE], {
        env: {
          PATH: process.env.PATH ?? '',
          CLIENT_ENTRY: path.join(ROOT, 'dist/src/client/index.js'),
          HOTSWAP_URL: server.url,
          SERVICE: service,
          HOTSWAP_REGISTRATION_TOKEN: await server.token(Role.INSTANCE, { service, environment: Environment.STAGING }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
      const match = await pollUntil(async () => /instance (\S+)/.exec(out), (m) => m !== null, { timeoutMs: 15_000, what: `the service to start; output: ${out}` });
      const id = match![1]!;
      const read = async () => ok(await server.gql<{ instance: { id: string } | null }>('query($id: ID!) { instance(id: $id) { id } }', { id })).instance;
      expect(await read()).toEqual({ id });

      child.kill(signal);
      expect(await exited).toBe(signal);
      expect(await read()).toBeNull();
    });
  }
});
