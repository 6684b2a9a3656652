import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ConfigClient, createConfigClient } from '../../src/client/index.js';
import { Environment, Role } from '../../src/domain/enums.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const ENV = Environment.STAGING;

/**
 * A client given no logger reports trouble reaching HotSwap on stderr: one
 * warning when an outage starts and one when it ends, however many retries
 * happen in between. The outage is a fetch that fails while `down` is set, so
 * the retries can be counted.
 */
describe('instance client logging by default', () => {
  let server: TestServer;
  let client: ConfigClient | undefined;
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);

  beforeAll(async () => {
    server = await startTestServer();
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (String(chunk).startsWith('hotswap-client ')) return stderr.push(String(chunk)) > 0;
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
  });
  afterEach(async () => {
    await client?.stop();
    client = undefined;
    stderr.length = 0;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await server?.stop();
  });

  function flakyFetch() {
    const state = { down: true, calls: 0 };
    const fetchImpl: typeof fetch = (input, init) => {
      state.calls++;
      return state.down ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init);
    };
    return { state, fetchImpl };
  }

  it('warns on stderr once per outage, not per retry, and once when HotSwap is back', async () => {
    const service = `logging-${process.pid}`;
    const { state, fetchImpl } = flakyFetch();
    client = createConfigClient({
      url: server.url,
      service,
      environment: ENV,
      registration: { token: await server.token(Role.INSTANCE, { service, environment: ENV }) },
      onConfig: () => {},
      reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
      heartbeatIntervalMs: 50,
      fetch: fetchImpl,
    });
    await client.start();
    await waitFor('six registration attempts', () => state.calls >= 6 || undefined);
    expect(stderr).toEqual([expect.stringMatching(/^hotswap-client warn: could not register with HotSwap \(retrying in the background; .*"code":"NETWORK"/)]);

    state.down = false;
    await client.ready;
    expect(stderr).toHaveLength(2);
    expect(stderr[1]).toMatch(/^hotswap-client warn: HotSwap is reachable again \{"url":"http:\/\/127\.0\.0\.1:\d+\/graphql","outageMs":\d+,"failures":\d+\}\n$/);

    // A second outage, seen by the heartbeats (the websocket stays up).
    state.down = true;
    const callsBefore = state.calls;
    await waitFor('four failed heartbeats', () => state.calls >= callsBefore + 4 || undefined);
    state.down = false;
    await waitFor('the all-clear', () => stderr.length >= 4 || undefined);
    expect(stderr.slice(2)).toEqual([
      expect.stringMatching(/^hotswap-client warn: heartbeat failed; will try again \(retrying in the background; /),
      expect.stringMatching(/^hotswap-client warn: HotSwap is reachable again /),
    ]);
  });

  it('writes nothing with logger: false', async () => {
    const service = `silent-${process.pid}`;
    const { state, fetchImpl } = flakyFetch();
    client = createConfigClient({
      url: server.url,
      service,
      environment: ENV,
      registration: { token: await server.token(Role.INSTANCE, { service, environment: ENV }) },
      onConfig: () => {},
      reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
      fetch: fetchImpl,
      logger: false,
    });
    await client.start();
    await waitFor('three registration attempts', () => state.calls >= 3 || undefined);
    state.down = false;
    await client.ready;
    expect(stderr).toEqual([]);
  });
});
