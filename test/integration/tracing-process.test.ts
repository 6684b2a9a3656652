import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { Environment, Role } from '../../src/domain/enums.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type ServiceProcess, spawnService } from '../support/process.js';
import { waitFor } from '../support/wait.js';
import { connectWs, type TestSubscription, type TestWsClient } from '../support/ws-client.js';

/**
 * The real service process with the OpenTelemetry SDK of src/instrumentation.ts,
 * exporting over OTLP/HTTP (JSON) to a fake collector in this test.
 */

const SECRET = 'tracing-process-secret-0123456789abcdef0123';
const SUBSCRIBE = 'subscription($id: ID!) { configUpdates(instanceId: $id) { profileName version deploymentId traceparent } }';
const REPORT = `mutation($id: ID!, $p: String!, $v: Int!, $tp: String) {
  reportConfigApplied(instanceId: $id, profileName: $p, version: $v, success: true, reloadMs: 3, traceparent: $tp)
}`;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpKeyValue[];
}
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ scope?: { name: string }; spans?: OtlpSpan[] }>;
  }>;
}

/** One exported span, flattened: ids in hex, attributes as plain values. */
interface FlatSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  scope: string;
  service: unknown;
  attributes: Record<string, unknown>;
}

/** Ids may come as hex (OTLP JSON) or base64 (protobuf JSON mapping): hex either way. */
const hexId = (id: string | undefined, bytes: number): string | null => {
  if (!id) return null;
  if (new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(id)) return id;
  const hex = Buffer.from(id, 'base64').toString('hex');
  return hex.length === bytes * 2 ? hex : id;
};

const valueOf = (v: OtlpValue): unknown => {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
};

const attributesOf = (kvs: OtlpKeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, valueOf(kv.value)]));

/** A fake OTLP/HTTP collector: accepts POST /v1/traces (JSON, maybe gzipped) and keeps the spans. */
interface Collector {
  endpoint: string;
  spans: FlatSpan[];
  /** Every request received (method and path), traces or not. */
  requests: string[];
  close(): Promise<void>;
}

async function startCollector(): Promise<Collector> {
  const spans: FlatSpan[] = [];
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const parsed = JSON.parse(body.toString('utf8')) as OtlpExport;
        for (const rs of parsed.resourceSpans ?? []) {
          const resource = attributesOf(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                traceId: hexId(s.traceId, 16)!,
                spanId: hexId(s.spanId, 8)!,
                parentSpanId: hexId(s.parentSpanId, 8),
                name: s.name,
                kind: s.kind,
                scope: ss.scope?.name ?? '',
                service: resource['service.name'],
                attributes: attributesOf(s.attributes),
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The JSON log lines of a child's output (other lines are skipped). */
function logLines(output: string): Array<Record<string, unknown>> {
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** A running service process with helpers to drive it. */
interface Service {
  process: ServiceProcess;
  url: string;
  db: TestDatabase;
  /** POSTs one operation (as admin unless `token`), with any extra `headers`; fails on errors. */
  gql<T>(query: string, variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>): Promise<T>;
  stop(): Promise<void>;
}

describe('tracing in the real service process', () => {
  let admin: string;
  const services: Service[] = [];
  const sockets: TestWsClient[] = [];
  const collectors: Collector[] = [];

  async function startService(env: Record<string, string>): Promise<Service> {
    const db = await createTestDatabase();
    const process = spawnService({
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      JWT_SECRET: SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_SECOND: '0',
      LOG_LEVEL: 'info',
      HOTSWAP_REDIS_PREFIX: `test:${randomBytes(4).toString('hex')}:`,
      ...env,
    });
    const service: Service = {
      process,
      url: '',
      db,
      async gql<T>(query: string, variables: Record<string, unknown> = {}, token = admin, headers: Record<string, string> = {}): Promise<T> {
        const res = await fetch(service.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as { data?: T; errors?: unknown };
        if (body.errors) throw new Error(JSON.stringify(body.errors));
        return body.data!;
      },
      async stop() {
        await process.kill();
        await db.drop();
      },
    };
    services.push(service);
    const [, url] = await process.waitFor(/"url":"([^"]+)"/);
    service.url = url!;
    return service;
  }

  /**
   * A profile of `service` with one version, one subscribed instance, and a
   * DIRECT deployment of it; the instance acks with the traceparent it was sent.
   */
  async function deployToOneInstance(s: Service, service: string, startHeaders: Record<string, string> = {}) {
    const profile = `${service}-cfg`;
    await s.gql('mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }', { i: { name: profile, service, environment: 'STAGING' } });
    await s.gql('mutation($p: String!, $i: PublishVersionInput!) { publishVersion(profileName: $p, input: $i) { version } }', {
      p: profile,
      i: { data: { feature: true } },
    });
    const registrar = await mintToken(SECRET, { sub: 'registrar', role: Role.INSTANCE, service, environment: Environment.STAGING, expiresInSeconds: 600 });
    const { registerInstance } = await s.gql<{ registerInstance: { instance: { id: string }; token: string } }>(
      'mutation($s: String!) { registerInstance(input: { service: $s, environment: STAGING, host: "h" }) { instance { id } token } }',
      { s: service },
      registrar,
    );
    const instance = { id: registerInstance.instance.id, token: registerInstance.token };
    const ws = connectWs(s.url, instance.token);
    sockets.push(ws);
    type Update = { profileName: string; version: number; deploymentId: string | null; traceparent: string | null };
    const sub: TestSubscription<{ configUpdates: Update }> = ws.subscribe(SUBSCRIBE, { id: instance.id });
    // Nothing is active yet: no message comes, and meanwhile the subscription goes live before the deployment starts.
    await expect(sub.next(1000)).rejects.toThrow();
    const { startDeployment } = await s.gql<{ startDeployment: { id: string } }>(
      'mutation StartIt($i: StartDeploymentInput!) { startDeployment(input: $i) { id } }',
      { i: { profileName: profile, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 } },
      admin,
      startHeaders,
    );
    const deploymentId = startDeployment.id;
    let update: Update | undefined;
    for (;;) {
      const m = await sub.next(10_000);
      const u = m.data?.configUpdates;
      if (u?.deploymentId === deploymentId) {
        update = u;
        break;
      }
    }
    await s.gql(REPORT, { id: instance.id, p: profile, v: 1, tp: update.traceparent }, instance.token);
    const done = await waitFor(
      `deployment ${deploymentId} to complete`,
      async () => {
        const { deployment } = await s.gql<{ deployment: { status: string } }>('query($id: ID!) { deployment(id: $id) { status } }', { id: deploymentId });
        return ['COMPLETED', 'FAILED', 'ROLLED_BACK'].includes(deployment.status) ? deployment : undefined;
      },
      15_000,
    );
    return { deploymentId, instance, update, status: done.status, profile };
  }

  beforeAll(async () => {
    admin = await mintToken(SECRET, { sub: 'admin', role: Role.ADMIN, expiresInSeconds: 600 });
  });
  afterAll(async () => {
    await Promise.allSettled(sockets.map((s) => s.dispose()));
    await Promise.allSettled(services.map((s) => s.stop()));
    await Promise.allSettled(collectors.map((c) => c.close()));
  });

  describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
    let collector: Collector;
    let service: Service;
    let deployed: Awaited<ReturnType<typeof deployToOneInstance>>;
    let deploymentSpan: FlatSpan;

    const byId = (id: string | null) => collector.spans.find((s) => s.spanId === id);
    /** The chain of ancestors of `span` (closest first), as far as they were exported. */
    const ancestors = (span: FlatSpan): FlatSpan[] => {
      const chain: FlatSpan[] = [];
      for (let p = byId(span.parentSpanId); p; p = byId(p.parentSpanId)) chain.push(p);
      return chain;
    };

    beforeAll(async () => {
      collector = await startCollector();
      collectors.push(collector);
      service = await startService({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' });
      // Probes and scrapes, which are not to be traced.
      for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(new URL(path, service.url))).status).toBe(200);
      deployed = await deployToOneInstance(service, `traced-${randomBytes(3).toString('hex')}`);
      // The batch processor exports every 200 ms: wait for the deployment's spans and the ack's.
      deploymentSpan = await waitFor('the hotswap.deployment span to be exported', () =>
        collector.spans.find((s) => s.name === 'hotswap.deployment' && s.attributes['hotswap.deployment.id'] === deployed.deploymentId),
      );
      await waitFor('the hotswap.ack span to be exported', () =>
        collector.spans.some((s) => s.name === 'hotswap.ack' && s.attributes['hotswap.instance.id'] === deployed.instance.id),
      );
      // The phase span ends with the deployment, so it is exported last.
      await waitFor('the hotswap.deployment.phase span to be exported', () =>
        collector.spans.some((s) => s.name === 'hotswap.deployment.phase' && s.attributes['hotswap.deployment.id'] === deployed.deploymentId),
      );
    }, 60_000);

    it('exports HTTP, GraphQL, PostgreSQL and ioredis spans with service.name hotswap', () => {
      expect(deployed.status).toBe('COMPLETED');
      const scopes = new Set(collector.spans.map((s) => s.scope));
      for (const scope of [
        '@opentelemetry/instrumentation-http',
        '@opentelemetry/instrumentation-graphql',
        '@opentelemetry/instrumentation-pg',
        '@opentelemetry/instrumentation-ioredis',
        'hotswap',
      ]) {
        expect(scopes, `no span from ${scope}; got ${[...scopes].join(', ')}`).toContain(scope);
      }
      expect(new Set(collector.spans.map((s) => s.service))).toEqual(new Set(['hotswap']));
      // Each kind of span is what it claims to be.
      const pg = collector.spans.filter((s) => s.scope === '@opentelemetry/instrumentation-pg');
      expect(pg.some((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql')).toBe(true);
      const redis = collector.spans.filter((s) => s.scope === '@opentelemetry/instrumentation-ioredis');
      expect(redis.some((s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis')).toBe(true);
      // Health probes and metric scrapes are not traced; GraphQL requests are.
      const httpPaths = collector.spans.filter((s) => s.scope === '@opentelemetry/instrumentation-http' && s.kind === 2).map((s) => s.attributes['url.path']);
      expect(httpPaths).toContain('/graphql');
      for (const path of ['/healthz', '/readyz', '/metrics']) expect(httpPaths).not.toContain(path);
    });

    it('puts the hotswap.deployment span in the trace of the startDeployment HTTP POST and GraphQL mutation, below both', () => {
      const chain = ancestors(deploymentSpan);
      const names = chain.map((s) => s.name).join(' < ');
      const httpServer = chain.find((s) => s.scope === '@opentelemetry/instrumentation-http' && s.kind === 2);
      expect(httpServer, `no HTTP server span above hotswap.deployment; ancestors: ${names}`).toBeDefined();
      expect(httpServer!.attributes['http.request.method'] ?? httpServer!.attributes['http.method']).toBe('POST');
      expect(httpServer!.attributes['url.path'] ?? httpServer!.attributes['http.target']).toBe('/graphql');
      const mutation = chain.find((s) => s.scope === '@opentelemetry/instrumentation-graphql' && s.attributes['graphql.operation.type'] === 'mutation');
      expect(mutation, `no GraphQL mutation span above hotswap.deployment; ancestors: ${names}`).toBeDefined();
      expect(mutation!.attributes['graphql.operation.name']).toBe('StartIt');
      // The resolver's span is between the mutation's and ours.
      const resolver = chain.find((s) => s.scope === '@opentelemetry/instrumentation-graphql' && s.attributes['graphql.field.name'] === 'startDeployment');
      expect(resolver, `no startDeployment resolver span above hotswap.deployment; ancestors: ${names}`).toBeDefined();
      for (const s of [httpServer!, mutation!, resolver!]) expect(s.traceId).toBe(deploymentSpan.traceId);
      // Nesting: POST (the trace's root) > mutation > resolver > hotswap.deployment.
      expect(httpServer!.parentSpanId).toBeNull();
      expect(chain.indexOf(resolver!)).toBeLessThan(chain.indexOf(mutation!));
      expect(chain.indexOf(mutation!)).toBeLessThan(chain.indexOf(httpServer!));
      expect(chain.at(-1)).toBe(httpServer);
    });

    it('continues the deployment trace in the push and in the ack the instance sent with the push\'s traceparent', () => {
      const [, traceId, pushSpanId] = deployed.update.traceparent?.match(TRACEPARENT) ?? [];
      expect(traceId).toBe(deploymentSpan.traceId);
      const push = byId(pushSpanId!);
      expect(push?.name).toBe('hotswap.push');
      expect(push?.attributes['hotswap.push.instance_ids']).toEqual([deployed.instance.id]);
      const ack = collector.spans.find((s) => s.name === 'hotswap.ack' && s.attributes['hotswap.instance.id'] === deployed.instance.id);
      expect(ack?.parentSpanId).toBe(pushSpanId);
      expect(ack?.traceId).toBe(deploymentSpan.traceId);
      // The push hangs under the phase, the phase under the deployment.
      const phase = byId(push!.parentSpanId);
      expect(phase?.name).toBe('hotswap.deployment.phase');
      expect(phase?.parentSpanId).toBe(deploymentSpan.spanId);
    });

    it('writes the trace id and span id of the traced request on its log lines', () => {
      const lines = logLines(service.process.output());
      const request = lines.find(
        (l) => l.msg === 'graphql request' && (l.request as { fields?: string[] } | undefined)?.fields?.includes('startDeployment'),
      );
      expect(request, 'no request log line for startDeployment').toBeDefined();
      expect(request!.trace_id).toBe(deploymentSpan.traceId);
      expect(request!.span_id).toMatch(/^[0-9a-f]{16}$/);
      // The span it names is one of that trace's exported spans.
      const named = byId(request!.span_id as string);
      expect(named?.traceId).toBe(deploymentSpan.traceId);
      // Lines written outside any request (startup) carry none.
      const listening = lines.find((l) => l.msg === 'HotSwap is listening');
      expect(listening).toBeDefined();
      expect(listening!.trace_id).toBeUndefined();
      // No token in any line.
      expect(service.process.output()).not.toContain(admin);
    });
  });

  describe('with OTEL_EXPORTER_OTLP_ENDPOINT set, a deployment started by a caller that did not sample its trace', () => {
    let collector: Collector;
    let service: Service;
    let deployed: Awaited<ReturnType<typeof deployToOneInstance>>;
    const callerTrace = randomBytes(16).toString('hex');

    beforeAll(async () => {
      collector = await startCollector();
      collectors.push(collector);
      service = await startService({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' });
      // An upstream that sampled this request out (trace flags 00): the default sampler follows its parent.
      deployed = await deployToOneInstance(service, `unsampled-${randomBytes(3).toString('hex')}`, {
        traceparent: `00-${callerTrace}-${randomBytes(8).toString('hex')}-00`,
      });
      // A later, sampled request: once its spans are exported, everything before it was too.
      await service.gql('query Probe { profiles(first: 1) { totalCount } }');
      await waitFor('the probe request to be exported', () => collector.spans.some((s) => s.attributes['graphql.operation.name'] === 'Probe'));
      await new Promise((r) => setTimeout(r, 600));
    }, 60_000);

    it("exports no span of the deployment: its phases and pushes stay in the caller's unsampled trace", () => {
      expect(deployed.status).toBe('COMPLETED');
      const ofDeployment = collector.spans.filter((s) => s.attributes['hotswap.deployment.id'] === deployed.deploymentId);
      expect(ofDeployment.map((s) => `${s.name} (trace ${s.traceId}, parent ${s.parentSpanId})`)).toEqual([]);
      expect(collector.spans.filter((s) => s.traceId === callerTrace)).toEqual([]);
      // What the instance is sent continues the caller's trace, unsampled (flags 00).
      expect(deployed.update.traceparent).toMatch(new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-00$`));
    });
  });

  describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    let collector: Collector;
    let service: Service;
    let deployed: Awaited<ReturnType<typeof deployToOneInstance>>;

    beforeAll(async () => {
      collector = await startCollector();
      collectors.push(collector);
      // Only the traces-specific variable, pointing at a collector: tracing stays off (OTEL_EXPORTER_OTLP_ENDPOINT is the switch).
      service = await startService({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.endpoint}/v1/traces`, OTEL_BSP_SCHEDULE_DELAY: '200' });
      deployed = await deployToOneInstance(service, `untraced-${randomBytes(3).toString('hex')}`);
      // Longer than several export periods, had an exporter been running.
      await new Promise((r) => setTimeout(r, 1000));
    }, 60_000);

    it('sends ConfigUpdate.traceparent null, exports nothing, and logs no trace ids', () => {
      expect(deployed.status).toBe('COMPLETED');
      expect(deployed.update.deploymentId).toBe(deployed.deploymentId);
      expect(deployed.update.traceparent).toBeNull();
      expect(collector.requests).toEqual([]);
      const lines = logLines(service.process.output());
      expect(lines.some((l) => l.msg === 'graphql request')).toBe(true);
      expect(lines.filter((l) => 'trace_id' in l || 'span_id' in l)).toEqual([]);
    });

    it('stores no trace context with the deployment', async () => {
      const rows = await service.db.query<{ trace_context: string | null }>('select trace_context from deployment where id = $1', [deployed.deploymentId]);
      expect(rows).toEqual([{ trace_context: null }]);
    });
  });
});
