/**
 * `npm run bench`: GraphQL over HTTP against a real server process on a fresh
 * PostgreSQL database; 50 concurrent clients for 10 s per scenario.
 * Env: DATABASE_URL (an admin URL; default the local server), BENCH_SECONDS, BENCH_CONNECTIONS.
 */
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { mintToken } from '../src/auth/tokens.js';
import { Role } from '../src/domain/enums.js';
import { spawnService } from '../test/support/process.js';
import { buildConfig, buildSchema } from './validation-fixtures.js';

const SECRET = randomBytes(32).toString('hex');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A realistic service config of about 2 KB. */
function sampleConfig(seed: number): Record<string, unknown> {
  return {
    seed,
    http: { port: 8080, timeoutMs: 2500, retries: { max: 3, backoffMs: [100, 200, 400] } },
    database: { pool: { min: 2, max: 20 }, statementTimeoutMs: 5000, replicas: ['db-1', 'db-2', 'db-3'] },
    features: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`feature_${i}`, { enabled: i % 2 === 0, rollout: i / 40 }])),
    limits: { rps: 1200, burst: 300, perTenant: { free: 10, pro: 100, enterprise: 1000 } },
  };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

interface Row {
  scenario: string;
  'req/s': number;
  'p50 ms': number;
  'p99 ms': number;
  errors: number;
}

async function run(scenario: string, url: string, token: string, body: (n: number) => string, connections = CONNECTIONS): Promise<Row> {
  let n = 0;
  let graphqlErrors = 0;
  const result = await autocannon({
    url,
    connections,
    duration: SECONDS,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [
      {
        setupRequest: (req) => ({ ...req, body: body(n++) }),
        // GraphQL refusals come with HTTP 200: count them as errors too.
        onResponse: (_status, responseBody) => {
          if (responseBody.includes('"errors"')) graphqlErrors++;
        },
      },
    ],
  });
  return {
    scenario,
    'req/s': Math.round(result.requests.average),
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    errors: result.errors + result.non2xx + graphqlErrors,
  };
}

/** Registers, submits and approves the benchmark schema; returns its id. */
async function registerApproved(gql: (q: string, v?: Record<string, unknown>) => Promise<unknown>, token: string, url: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'mutation($s: JSON!) { registerSchema(input: { name: "bench", schema: $s }) { id } }', variables: { s: buildSchema() } }),
  });
  const id = ((await res.json()) as { data: { registerSchema: { id: string } } }).data.registerSchema.id;
  await gql('mutation($id: ID!) { submitSchemaForApproval(id: $id) { status } }', { id });
  await gql('mutation($id: ID!) { approveSchema(id: $id) { status } }', { id });
  return id;
}

/** How many services make the fixture config about 50 KiB. */
function servicesFor50KiB(): number {
  let services = 1;
  while (Buffer.byteLength(JSON.stringify(buildConfig(services + 1))) <= 50 * 1024) services++;
  return services;
}

async function main(): Promise<void> {
  const database = `hotswap_bench_${process.pid}`;
  await admin(`create database ${database}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${database}`;
  const server = spawnService({ DATABASE_URL: dbUrl.toString(), JWT_SECRET: SECRET, PORT: '0', RATE_LIMIT_PER_SECOND: '0', LOG_LEVEL: 'info' });
  try {
    const [, url] = await server.waitFor(/"url":"([^"]+)"/);
    const token = await mintToken(SECRET, { sub: 'bench', role: Role.ADMIN, expiresInSeconds: 3600 });
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const json = (await res.json()) as { errors?: unknown };
      if (json.errors) throw new Error(JSON.stringify(json.errors));
    };
    const create = 'mutation($n: String!) { createProfile(input: { name: $n, service: "bench", environment: STAGING }) { id } }';
    const publish = 'mutation($p: String!, $d: JSON!) { publishVersion(profileName: $p, input: { data: $d }) { version } }';
    for (let i = 0; i < CONNECTIONS; i++) await gql(create, { n: `bench-${i}` });
    await gql(publish, { p: 'bench-0', d: sampleConfig(0) });

    const rows: Row[] = [];
    const read = JSON.stringify({ query: '{ profile(name: "bench-0") { latestVersion { version hash data } } }' });
    rows.push(await run('read latest version', url!, token, () => read));
    rows.push(
      await run('publish, one profile', url!, token, (n) =>
        JSON.stringify({ query: publish, variables: { p: 'bench-0', d: sampleConfig(n + 1) } }),
      ),
    );
    rows.push(
      await run(`publish, ${CONNECTIONS} profiles`, url!, token, (n) =>
        JSON.stringify({ query: publish, variables: { p: `bench-${n % CONNECTIONS}`, d: sampleConfig(n + 1_000_000) } }),
      ),
    );
    // A ~50 KB config validated against a ~200-line schema on every publish.
    const schemaId = await registerApproved(gql, token, url!);
    await gql('mutation($s: ID!) { createProfile(input: { name: "bench-validated", service: "bench", environment: STAGING, schemaId: $s }) { id } }', { s: schemaId });
    const big = buildConfig(servicesFor50KiB());
    const validated = (offset: number) => (n: number) =>
      JSON.stringify({ query: publish, variables: { p: 'bench-validated', d: { ...big, updatedAt: new Date(Date.UTC(2025, 0, 1) + (offset + n) * 1000).toISOString() } } });
    rows.push(await run('publish 50 KB, validated', url!, token, validated(0)));
    rows.push(await run('publish 50 KB, validated, 1 client', url!, token, validated(10_000_000), 1));
    console.log(`\nHotSwap HTTP benchmark: ${CONNECTIONS} connections, ${SECONDS} s each, ~2 KB config (50 KB where said)\n`);
    console.table(rows);
  } finally {
    await server.kill('SIGTERM');
    await admin(`drop database if exists ${database} with (force)`);
  }
}

await main();
