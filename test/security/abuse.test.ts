import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Role } from '../../src/domain/enums.js';
import { api, type Api, deepConfig } from '../support/api.js';
import { expectSafeResponse, postRaw, type RawResponse } from '../support/hostile-responses.js';
import { type Fixtures, makeFixtures } from '../support/operations/fixtures.js';
import { StateProbe } from '../support/state-probe.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { connectWs } from '../support/ws-client.js';

/**
 * Abuse of the GraphQL layer itself: aliases, batching, depth, huge nesting,
 * oversized bodies, and a websocket flood. Each is refused (or bounded) with a
 * clear code, never a server error, and the server keeps answering.
 */

const MAX_SUBSCRIPTIONS = 50;
const FLOOD = 5_000;

const EVENTS = 'subscription($id: ID!) { deploymentEvents(id: $id) { type status } }';
const PUBLISH = 'mutation($p: String!, $input: PublishVersionInput!) { publishVersion(profileName: $p, input: $input) { version } }';

/** A graphql-ws (graphql-transport-ws) connection driven by hand, to send what no well-behaved client would. */
class RawGraphqlWs {
  readonly messages: Array<{ id?: string; type: string; payload?: unknown }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private listeners: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString('utf8')) as { id?: string; type: string; payload?: unknown });
      for (const l of this.listeners) l();
    });
  }

  /** Opens the socket and completes connection_init / connection_ack. */
  static async connect(httpUrl: string, token: string): Promise<RawGraphqlWs> {
    const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const ws = new RawGraphqlWs(socket);
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await ws.waitFor((m) => m.some((x) => x.type === 'connection_ack'), 10_000, 'connection_ack');
    return ws;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Resolves when `done(messages)` holds. */
  waitFor(done: (messages: RawGraphqlWs['messages']) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done(this.messages)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.messages.length} messages so far`));
      }, timeoutMs);
      const check = () => {
        if (!done(this.messages)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      this.listeners.push(check);
    });
  }

  close(): void {
    this.socket.close(1000, 'done');
  }
}

describe('abuse of the GraphQL layer', () => {
  let server: TestServer;
  let a: Api;
  let probe: StateProbe;
  let f: Fixtures;
  const healthz = async () => (await fetch(server.url.replace('/graphql', '/healthz'))).status;

  beforeAll(async () => {
    server = await startTestServer({
      HOTSWAP_WORKERS: 'false', // the fixture deployment stays PENDING: its event feed stays open
      HOTSWAP_HEARTBEAT_INTERVAL_MS: '3600000',
      HOTSWAP_MAX_SUBSCRIPTIONS_PER_CALLER: String(MAX_SUBSCRIPTIONS),
    });
    a = api(server);
    probe = await StateProbe.open(server);
    f = await makeFixtures(a, 'abuse');
  });
  afterAll(async () => {
    await probe?.close();
    await server?.stop();
  });

  /** POSTs a raw body as ADMIN and checks the answer is safe (not 5xx, JSON, no leak, known codes). */
  async function post(body: string): Promise<RawResponse> {
    const res = await postRaw(server.url, body, server.adminToken);
    expectSafeResponse(res, body.slice(0, 10_000));
    return res;
  }

  const codes = (res: RawResponse) => res.body?.errors?.map((e) => e.extensions?.code);

  describe('aliases (graphql-armor max-aliases: 15)', () => {
    const aliased = (n: number, field: string, op = '') => `${op}{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

    it('1,000 aliases of one query field are refused with BAD_USER_INPUT naming the limit', async () => {
      const res = await post(JSON.stringify({ query: aliased(1_000, 'profiles { totalCount }') }));
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toBe('Aliases limit of 15 exceeded, found 1000.');
      expect(res.body?.data ?? null).toBeNull();
    });

    it('1,000 aliases of a mutation are refused before any runs: nothing written', async () => {
      const before = await probe.snapshot();
      const field = (i: number) => `createProfile(input: { name: "alias-${i}", service: "${f.service}", environment: STAGING }) { id }`;
      const query = `mutation { ${Array.from({ length: 1_000 }, (_, i) => `a${i}: ${field(i)}`).join(' ')} }`;
      const res = await post(JSON.stringify({ query }));
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toMatch(/Aliases limit of 15 exceeded/);
      expect(await probe.snapshot()).toEqual(before);
    });

    it('aliases hidden in fragments and nested selections count too', async () => {
      const fragment = `fragment F on ConfigProfile { ${Array.from({ length: 20 }, (_, i) => `n${i}: name`).join(' ')} }`;
      const res = await post(JSON.stringify({ query: `{ profiles { edges { node { ...F } } } } ${fragment}` }));
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toMatch(/Aliases limit of 15 exceeded, found 20/);
    });

    it('15 aliases are accepted and 16 refused: the limit is where it says', async () => {
      const fifteen = await post(JSON.stringify({ query: aliased(15, 'profiles { totalCount }') }));
      expect(fifteen.body?.errors).toBeUndefined();
      expect(Object.keys(fifteen.body?.data ?? {})).toHaveLength(15);
      const sixteen = await post(JSON.stringify({ query: aliased(16, 'profiles { totalCount }') }));
      expect(codes(sixteen)).toEqual(['BAD_USER_INPUT']);
    });

    // graphql-armor's max-aliases exempts __typename by default (allowList: ['__typename']),
    // so one request of ~100,000 `aN: __typename` aliases (under the 2 MiB body limit) is
    // executed whole: about a second of CPU and a 1.7 MB answer per request.
    it('1,000 aliases of __typename are refused too', async () => {
      const res = await post(JSON.stringify({ query: aliased(1_000, '__typename') }));
      expect(codes(res), res.text.slice(0, 200)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toMatch(/Aliases limit of 15 exceeded/);
    });

    it('over the websocket, 1,000 aliases get an `error` message and the connection stays usable', async () => {
      const client = connectWs(server.url, server.adminToken, { lazy: false });
      try {
        const refused = await client.request(aliased(1_000, 'profiles { totalCount }'));
        expect(refused.via).toBe('error');
        expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        const fine = await client.request<{ profiles: { totalCount: number } }>('{ profiles { totalCount } }');
        expect(fine.data?.profiles.totalCount).toBeGreaterThan(0);
      } finally {
        await client.dispose();
      }
    });
  });

  describe('batching', () => {
    it('a JSON array of 100 mutations is refused whole (HTTP 400, BAD_USER_INPUT): none runs', async () => {
      const before = await probe.snapshot();
      const batch = Array.from({ length: 100 }, (_, i) => ({
        query: `mutation { createProfile(input: { name: "batch-${i}", service: "${f.service}", environment: STAGING }) { id } }`,
      }));
      const res = await post(JSON.stringify(batch));
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toMatch(/batching/i);
      expect(await probe.snapshot()).toEqual(before);
    });

    it('a JSON array of 100 queries, or an empty array, is refused the same way', async () => {
      for (const body of [JSON.stringify(Array.from({ length: 100 }, () => ({ query: '{ profiles { totalCount } }' }))), '[]']) {
        const res = await post(body);
        expect(res.status).toBe(400);
        expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      }
    });

    it('5,000 operations in one document run only the one named', async () => {
      const before = await probe.snapshot();
      const ops = Array.from({ length: 5_000 }, (_, i) => `mutation M${i} { createProfile(input: { name: "many-${i}", service: "${f.service}", environment: STAGING }) { name } }`);
      const res = await post(JSON.stringify({ query: ops.join('\n'), operationName: 'M4999' }));
      expect(res.body?.errors, res.text.slice(0, 300)).toBeUndefined();
      expect(res.body?.data).toEqual({ createProfile: { name: 'many-4999' } });
      const after = await probe.snapshot();
      expect(after.config_profile).not.toEqual(before.config_profile);
      const names = await a.gql<{ profiles: { totalCount: number } }>('query($s: String) { profiles(service: $s) { totalCount } }', { s: f.service });
      expect(names.data?.profiles.totalCount).toBe(3); // the fixtures' two profiles and many-4999
    });
  });

  describe('depth', () => {
    it('a query 50 levels deep through a chain of fragments is refused by the depth limit', async () => {
      const fragments = Array.from({ length: 50 }, (_, i) => `fragment F${i} on __Type { ofType { ...F${i + 1} } }`).join('\n');
      const res = await post(JSON.stringify({ query: `{ __type(name: "Query") { ...F0 } }\n${fragments}\nfragment F50 on __Type { name }` }));
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toMatch(/Query depth limit of 12 exceeded/);
    });

    it('cyclic fragments are refused, not followed', async () => {
      const res = await post(JSON.stringify({ query: '{ __type(name: "Query") { ...A } } fragment A on __Type { ofType { ...B } } fragment B on __Type { ofType { ...A } }' }));
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toMatch(/Cannot spread fragment "A" within itself/);
    });

    it.each([
      ['selection sets', `{ ${'profiles { '.repeat(10_000)}totalCount${' }'.repeat(10_000)} }`],
      ['a list literal', `{ profiles(service: ${'['.repeat(10_000)}"x"${']'.repeat(10_000)}) { totalCount } }`],
      ['an object literal', `mutation { publishVersion(profileName: "x", input: { data: ${'{ a: '.repeat(10_000)}1${' }'.repeat(10_000)} }) { version } }`],
    ])('10,000 levels of nested %s in the document are refused with BAD_USER_INPUT, and the server still answers', async (_label, query) => {
      const before = await probe.snapshot();
      const res = await post(JSON.stringify({ query }));
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(await probe.snapshot()).toEqual(before);
      expect(await healthz()).toBe(200);
    });

    it('thousands of repeated directives or fields are refused with a bounded list of errors', async () => {
      const directives = await post(JSON.stringify({ query: `{ __typename ${'@include(if: true) '.repeat(1_000)} }` }));
      expect(directives.status).toBe(400);
      expect(new Set(codes(directives))).toEqual(new Set(['BAD_USER_INPUT']));
      expect(directives.body?.errors?.length).toBeLessThanOrEqual(1_000);
      const fields = await post(JSON.stringify({ query: `{ profiles { ${'totalCount '.repeat(100_000)} } }` }));
      expect(fields.status).toBe(400);
      expect(codes(fields)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('a config nested 10,000 levels deep in publishVersion', () => {
    // Written by hand: JSON.stringify may itself overflow the test's stack at this depth.
    const deepData = `${'{"a":'.repeat(9_999)}{}${'}'.repeat(9_999)}`;

    it('as a variable: BAD_USER_INPUT (HTTP 400), nothing written, /healthz still answers', async () => {
      const before = await probe.snapshot();
      const res = await post(`{"query":${JSON.stringify(PUBLISH)},"variables":{"p":${JSON.stringify(f.profile)},"input":{"data":${deepData}}}}`);
      expect(res.status).toBe(400);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toMatch(/nested too deeply/);
      expect(await probe.snapshot()).toEqual(before);
      expect(await healthz()).toBe(200);
    });

    it('over the websocket: BAD_USER_INPUT, nothing written, the connection stays usable', async () => {
      const before = await probe.snapshot();
      const raw = await RawGraphqlWs.connect(server.url, server.adminToken);
      try {
        raw.send(`{"id":"deep","type":"subscribe","payload":{"query":${JSON.stringify(PUBLISH)},"variables":{"p":${JSON.stringify(f.profile)},"input":{"data":${deepData}}}}}`);
        await raw.waitFor((m) => m.some((x) => x.id === 'deep' && (x.type === 'error' || x.type === 'next')), 10_000, 'the answer');
        const answer = raw.messages.find((x) => x.id === 'deep')!;
        expect(answer.type).toBe('error');
        expect((answer.payload as Array<{ extensions?: { code?: string } }>).map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        raw.send({ id: 'after', type: 'subscribe', payload: { query: '{ profiles { totalCount } }' } });
        await raw.waitFor((m) => m.some((x) => x.id === 'after' && x.type === 'next'), 10_000, 'a query after the refusal');
      } finally {
        raw.close();
      }
      expect(await probe.snapshot()).toEqual(before);
    });

    it('within the limit (64 levels) the same profile still publishes', async () => {
      const res = await a.gql<{ publishVersion: { version: number } }>(PUBLISH, { p: f.profile, input: { data: deepConfig(64) } });
      expect(res.errors).toBeUndefined();
      expect(res.data?.publishVersion.version).toBe(3);
    });
  });

  describe('oversized requests', () => {
    it('a body over the limit (2 MiB + 64 KiB by default) is refused with HTTP 413 and a JSON error; nothing written', async () => {
      const before = await probe.snapshot();
      const body = JSON.stringify({
        query: 'mutation($d: String) { createProfile(input: { name: "too-big", service: "s", environment: STAGING, description: $d }) { id } }',
        variables: { d: 'z'.repeat(3 * 1024 * 1024) },
      });
      const res = await post(body);
      expect(res.status).toBe(413);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toMatch(/request body is larger than the limit of \d+ bytes/);
      expect(res.text.length).toBeLessThan(1_000);
      expect(await probe.snapshot()).toEqual(before);
    });

    it('a websocket message over the limit closes that socket (1009) and the server keeps answering', async () => {
      const raw = await RawGraphqlWs.connect(server.url, server.adminToken);
      raw.send({ id: 'huge', type: 'subscribe', payload: { query: '{ __typename }', variables: { x: 'y'.repeat(3 * 1024 * 1024) } } });
      expect((await raw.closed).code).toBe(1009);
      expect(raw.messages.some((m) => m.id === 'huge')).toBe(false);
      expect(await healthz()).toBe(200);
      const res = await a.gql<{ profiles: { totalCount: number } }>('{ profiles { totalCount } }');
      expect(res.data?.profiles.totalCount).toBeGreaterThan(0);
    });
  });

  describe(`a websocket flood: ${FLOOD} subscribe messages on one connection`, () => {
    it(`caps the caller at ${MAX_SUBSCRIPTIONS} subscriptions with clear errors, stays responsive, and memory stays bounded`, { timeout: 90_000 }, async () => {
      const flooder = await server.token(Role.DEVELOPER, { sub: 'flooder' });
      const rssBefore = process.memoryUsage().rss;
      const raw = await RawGraphqlWs.connect(server.url, flooder);
      for (let i = 0; i < FLOOD; i++) raw.send({ id: `s${i}`, type: 'subscribe', payload: { query: EVENTS, variables: { id: f.deploymentId } } });

      // Meanwhile, other callers are answered, over HTTP and over another socket.
      const other = await server.token(Role.OPERATOR, { sub: 'bystander' });
      const bystander = connectWs(server.url, other);
      try {
        const [http, ws] = await Promise.all([
          a.gql<{ deployment: { id: string } }>('query($id: ID!) { deployment(id: $id) { id } }', { id: f.deploymentId }, other),
          bystander.request<{ deployment: { id: string } }>('query($id: ID!) { deployment(id: $id) { id } }', { id: f.deploymentId }),
        ]);
        expect(http.data?.deployment.id).toBe(f.deploymentId);
        expect(ws.data?.deployment.id).toBe(f.deploymentId);
      } finally {
        await bystander.dispose();
      }

      // Every subscribe is answered: the first MAX by the deployment's current state, the rest by an error.
      const answered = (m: RawGraphqlWs['messages']) => new Set(m.filter((x) => x.type === 'next' || x.type === 'error').map((x) => x.id)).size;
      await raw.waitFor((m) => answered(m) >= FLOOD, 60_000, `answers to all ${FLOOD} subscribe messages`);
      const opened = raw.messages.filter((m) => m.type === 'next');
      const refused = raw.messages.filter((m) => m.type === 'error');
      expect(opened).toHaveLength(MAX_SUBSCRIPTIONS);
      expect(refused).toHaveLength(FLOOD - MAX_SUBSCRIPTIONS);
      for (const m of opened) expect(m.payload).toEqual({ data: { deploymentEvents: { type: 'CURRENT_STATE', status: 'PENDING' } } });
      const refusal = refused[0]!.payload as Array<{ message: string; extensions?: { code?: string } }>;
      expect(refusal.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
      expect(refusal[0]!.message).toBe(`too many open subscriptions for this token: the limit is ${MAX_SUBSCRIPTIONS} per caller`);
      expect(new Set(refused.map((m) => JSON.stringify(m.payload)))).toEqual(new Set([JSON.stringify(refused[0]!.payload)]));
      expect(raw.messages.some((m) => m.type === 'complete')).toBe(false);

      const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
      expect(grownMb, `RSS grew by ${grownMb.toFixed(0)} MB`).toBeLessThan(300);
      expect(await healthz()).toBe(200);

      // Closing the socket frees the caller's subscriptions: a new connection may subscribe again.
      raw.close();
      expect((await raw.closed).code).toBe(1000);
      const again = connectWs(server.url, flooder);
      try {
        const first = await pollUntil(
          async () => {
            const sub = again.subscribe<{ deploymentEvents: { type: string } }>(EVENTS, { id: f.deploymentId });
            const m = await sub.next();
            sub.close();
            return m;
          },
          (m) => m.data?.deploymentEvents.type === 'CURRENT_STATE',
          { timeoutMs: 10_000, what: 'the flooder to be allowed a subscription again' },
        );
        expect(first.errors).toBeUndefined();
      } finally {
        await again.dispose();
      }
    });
  });
});
