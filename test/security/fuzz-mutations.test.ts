import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../support/api.js';
import { expectSafeResponse, postRaw, wasRefused } from '../support/hostile-responses.js';
import { type Fixtures, makeFixtures } from '../support/operations/fixtures.js';
import { type Spec } from '../support/operations/inputs.js';
import { MUTATIONS } from '../support/operations/mutations.js';
import { type Operation, rootFieldsOf } from '../support/operations/operation.js';
import { StateProbe } from '../support/state-probe.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs } from '../support/ws-client.js';

/**
 * Property-based fuzzing of every mutation through the real GraphQL endpoint:
 * whatever the input, no server error, no stack trace, only known error codes,
 * and nothing written when the mutation is refused.
 *
 * Deterministic: one seed (HOTSWAP_FUZZ_SEED to replay another); fast-check
 * prints the seed and the counterexample when a property fails.
 */
const SEED = Number(process.env.HOTSWAP_FUZZ_SEED ?? 0x5eed_f022);
const RUNS_ADMIN = 50;
const RUNS_INSTANCE = 30;
const RUNS_LITERAL = 20;
fc.configureGlobal({ seed: SEED, numRuns: RUNS_ADMIN });

// ---------------------------------------------------------------- JSON text with any number in it

/** A number written as raw JSON text: 1e400, -0, 2^53+1 … (JSON.stringify cannot write them). */
class RawNumber {
  constructor(readonly text: string) {}
}

/** JSON text of `value`, writing RawNumber as its text (recursive: fuzz values are at most a few hundred levels deep). */
function toJsonText(value: unknown): string {
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : toJsonText(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) if (v !== undefined) parts.push(`${JSON.stringify(k)}:${toJsonText(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// ---------------------------------------------------------------- hostile values

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const nastyStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\udc00\ud800',
  '\u202e\u0041\u202c',
  '\u200b',
  '\ufeff',
  '🙂',
  'e\u0301\u0301\u0301',
  '../../etc/passwd',
  "' OR 1=1 --",
  '"; drop table config_profile; --',
  '${jndi:ldap://example.invalid/a}',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  '%s%n%x%d',
  '\\',
  '\n\r\t',
  'null',
  'NaN',
  '-1',
  '1e400',
  '00000000-0000-0000-0000-000000000000',
  '00000000-0000-4000-8000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '00000000-0000-4000-8000-00000000000g',
  'A'.repeat(64),
  'a'.repeat(63),
  'a'.repeat(64),
  'STAGING',
  'staging',
  '$',
  '{}',
);
const hugeString = fc.constantFrom(5_000, 70_000, 400_000).chain((n) => fc.constantFrom('x'.repeat(n), 'é'.repeat(n / 2), '🙂'.repeat(n / 4)));
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 50 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 50 }) },
  { weight: 4, arbitrary: nastyStrings },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 8 }), fc.oneof(loneSurrogate, fc.constant('\u0000')), fc.string({ maxLength: 8 }))
      .map(([a, b, c]) => a + b + c),
  },
  { weight: 1, arbitrary: hugeString },
);

const rawNumbers = fc
  .constantFrom(
    '1e400',
    '-1e400',
    '-0',
    '1e-400',
    '9007199254740993',
    '2147483647',
    '2147483648',
    '-2147483649',
    '0.5',
    '1.0',
    '1e2',
    '123456789012345678901234567890',
    '-0.0',
    '4.9e-324',
    '1.7976931348623157e308',
  )
  .map((t) => new RawNumber(t));
const hostileNumber: fc.Arbitrary<number | RawNumber> = fc.oneof(
  fc.integer(),
  fc.integer({ min: -5, max: 1100 }),
  fc.maxSafeInteger(),
  fc.double(), // NaN and ±Infinity become null in JSON
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  rawNumbers,
);

/** Nested `levels` deep, objects and arrays alternating. */
function nested(levels: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? { a: v } : [v];
  return v;
}
const deepJson = fc.integer({ min: 1, max: 300 }).map(nested);
const wideJson = fc.integer({ min: 50, max: 20_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
const longArray = fc.integer({ min: 50, max: 50_000 }).map((n) => Array.from({ length: n }, (_, i) => i));
const trickyObjects = fc.constantFrom(
  JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
  JSON.parse('{"constructor": {"prototype": {"polluted": true}}}') as unknown,
  { $ref: '#', $schema: 'http://json-schema.org/draft-07/schema#' },
  { '': 1, ' ': 2, '/': 3, '~': 4, '~0~1': 5 },
  {},
  [],
);
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
  { weight: 2, arbitrary: deepJson },
  { weight: 1, arbitrary: wideJson },
  { weight: 1, arbitrary: longArray },
  { weight: 2, arbitrary: trickyObjects },
  { weight: 1, arbitrary: hostileNumber },
);

/** Something of any type: for a variable that expects another one. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A hostile value for a variable of type `spec`: of its type but out of range, malformed, or of another type. */
function hostileFor(spec: Spec, depth = 0): fc.Arbitrary<unknown> {
  const of = (arb: fc.Arbitrary<unknown>, wrong = 1): fc.Arbitrary<unknown> =>
    fc.oneof({ weight: 6, arbitrary: arb }, { weight: wrong, arbitrary: anyValue }, { weight: 1, arbitrary: fc.constant(null) });
  switch (spec.kind) {
    case 'scalar':
      switch (spec.name) {
        case 'String':
          return of(hostileString);
        case 'ID':
          return of(fc.oneof(hostileString, fc.integer(), rawNumbers));
        case 'Int':
        case 'Float':
          return of(hostileNumber);
        case 'Boolean':
          return of(fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1)), 2);
        case 'JSON':
          return of(hostileJson);
      }
      break;
    case 'enum':
      return of(fc.oneof(fc.constantFrom(...spec.values), fc.constantFrom(...spec.values).map((v) => v.toLowerCase()), hostileString));
    case 'list':
      return of(
        fc.oneof(
          fc.array(hostileFor(spec.of, depth + 1), { maxLength: 8 }),
          fc.integer({ min: 0, max: 5_000 }).map((n) => Array.from({ length: n }, () => 0.5)),
        ),
      );
    case 'input': {
      if (depth > 2) return anyValue;
      const fields: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, field] of Object.entries(spec.fields)) fields[name] = fc.option(hostileFor(field, depth + 1), { nil: undefined, freq: 3 });
      const record = fc.record(fields);
      const withExtra = fc.tuple(record, hostileString, anyValue).map(([r, k, v]) => ({ ...r, [k]: v }));
      return of(fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: withExtra }));
    }
  }
  return anyValue;
}

/** Mostly valid where `valid` is, hostile elsewhere: so hostile values reach the deeper checks too. */
function mixed(spec: Spec, valid: unknown): fc.Arbitrary<unknown> {
  if (spec.kind === 'input' && typeof valid === 'object' && valid !== null && !Array.isArray(valid)) {
    const v = valid as Record<string, unknown>;
    const fields: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [name, field] of Object.entries(spec.fields)) {
      fields[name] = fc.oneof(
        { weight: 3, arbitrary: fc.constant(v[name]) },
        { weight: 2, arbitrary: mixed(field, v[name]) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      );
    }
    return fc.oneof({ weight: 6, arbitrary: fc.record(fields) }, { weight: 1, arbitrary: hostileFor(spec) });
  }
  if (valid === undefined || valid === null) return hostileFor(spec);
  return fc.oneof({ weight: 1, arbitrary: fc.constant(valid) }, { weight: 2, arbitrary: hostileFor(spec) });
}

/** Per variable, valid or hostile. */
function argumentsFor(op: Operation, f: Fixtures): fc.Arbitrary<Record<string, unknown>> {
  const valid = op.valid(f);
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, spec] of Object.entries(op.variables)) fields[name] = mixed(spec, valid[name]);
  return fc.record(fields);
}

/** The variables of one request: per variable valid or hostile, or (rarely) not an object at all. */
function variablesFor(op: Operation, f: Fixtures): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 25, arbitrary: argumentsFor(op, f) }, { weight: 1, arbitrary: anyValue });
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** `value` as a GraphQL literal (keys that are not names are renamed; enum-typed names go unquoted). */
function toLiteral(value: unknown, spec: Spec | undefined): string {
  if (value instanceof RawNumber) return value.text;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return spec?.kind === 'enum' && GRAPHQL_NAME.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => toLiteral(v, spec?.kind === 'list' ? spec.of : undefined)).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v], i) => `${GRAPHQL_NAME.test(k) ? k : `k${i}`}: ${toLiteral(v, spec?.kind === 'input' ? spec.fields[k] : undefined)}`);
  return `{${entries.join(', ')}}`;
}

/** The operation with its arguments written into the document instead of variables. */
function literalDocument(op: Operation, args: Record<string, unknown>): string {
  const call = op.document.indexOf(`${op.name}(`);
  const rest = op.document.slice(op.document.indexOf(')', call) + 1);
  const written = Object.entries(args)
    .filter(([, v]) => v !== undefined)
    .map(([name, v]) => `${name}: ${toLiteral(v, op.variables[name])}`);
  return `${op.kind} { ${op.name}${written.length > 0 ? `(${written.join(', ')})` : ''}${rest}`;
}

// ---------------------------------------------------------------- the properties

/** The mutations an instance runs itself, and with which of its tokens. */
const INSTANCE_MUTATIONS: Record<string, (f: Fixtures) => string> = {
  registerInstance: (f) => f.registrationToken,
  refreshInstanceToken: (f) => f.instanceToken,
  heartbeat: (f) => f.instanceToken,
  reportConfigApplied: (f) => f.instanceToken,
  deregisterInstance: (f) => f.instanceToken,
};

const READ_BACK = `{
  profiles(first: 50) { totalCount edges { node { name service environment description latestVersion { version data hash description } schema { id } } } }
  schemas { id name status schema description decisionComment compatibility }
  deployments(first: 50) { totalCount edges { node { id status strategy version rollbackReason failureReason } } }
  instances { id service host color metadata status metrics { errorRate latencyP99Ms requestCount custom } }
}`;

describe('fuzzing every mutation through the GraphQL endpoint', () => {
  let server: TestServer;
  let a: Api;
  let probe: StateProbe;
  const tally = { requests: 0, refused: 0, accepted: 0 };

  beforeAll(async () => {
    // No workers: nothing but the request under test writes, so "nothing written" can be checked exactly.
    // Instances never go stale during the run (deployments need live ones).
    server = await startTestServer({ HOTSWAP_WORKERS: 'false', HOTSWAP_HEARTBEAT_INTERVAL_MS: '3600000' });
    a = api(server);
    probe = await StateProbe.open(server);
  });
  afterAll(async () => {
    await probe?.close();
    await server?.stop();
  });

  it('the table covers every mutation of schema.graphql', () => {
    const sdl = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(MUTATIONS.map((m) => m.name).sort()).toEqual(rootFieldsOf(sdl, 'Mutation').sort());
  });

  /**
   * Runs `runs` hostile requests of `op` with `token` (arguments in variables, or
   * written into the document); checks each answer, and the state after each refusal.
   */
  async function fuzz(op: Operation, f: Fixtures, token: string, runs: number, mode: 'variables' | 'literals' = 'variables'): Promise<void> {
    let before = await probe.snapshot();
    const requests: fc.Arbitrary<unknown> =
      mode === 'variables'
        ? variablesFor(op, f).map((variables) => ({ query: op.document, variables }))
        : argumentsFor(op, f).map((args) => ({ query: literalDocument(op, args) }));
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        const body = toJsonText(request);
        const res = await postRaw(server.url, body, token);
        tally.requests++;
        expectSafeResponse(res, body);
        if (res.body?.errors !== undefined) {
          expect(wasRefused(res, op.name), `an error came with data: ${res.text.slice(0, 400)}`).toBe(true);
          tally.refused++;
          expect(await probe.snapshot(), `refused ${op.name} wrote something: ${res.text.slice(0, 400)}`).toEqual(before);
        } else {
          tally.accepted++;
          expect(res.status).toBe(200);
          expect((res.body?.data as Record<string, unknown> | undefined)?.[op.name]).not.toBeUndefined();
          before = await probe.snapshot();
        }
      }),
      { numRuns: runs },
    );
    // What was accepted reads back without a server error.
    const read = await postRaw(server.url, JSON.stringify({ query: READ_BACK }), server.adminToken);
    expectSafeResponse(read, '');
    expect(read.body?.errors, read.text.slice(0, 400)).toBeUndefined();
  }

  describe.each(MUTATIONS.map((m) => [m.name, m] as const))('%s', (name, op) => {
    it(`as ADMIN: ${RUNS_ADMIN} hostile inputs`, { timeout: 120_000 }, async () => {
      const f = await makeFixtures(a, `admin-${name}`);
      await fuzz(op, f, server.adminToken, RUNS_ADMIN);
    });

    it(`as ADMIN: ${RUNS_LITERAL} hostile inputs written into the document`, { timeout: 120_000 }, async () => {
      const f = await makeFixtures(a, `literal-${name}`);
      await fuzz(op, f, server.adminToken, RUNS_LITERAL, 'literals');
    });

    const instanceToken = INSTANCE_MUTATIONS[name];
    if (instanceToken !== undefined) {
      it(`as the INSTANCE: ${RUNS_INSTANCE} hostile inputs`, { timeout: 120_000 }, async () => {
        const f = await makeFixtures(a, `inst-${name}`);
        await fuzz(op, f, instanceToken(f), RUNS_INSTANCE);
      });
    }
  });

  // Found by the literal fuzzing above: a NUL written as the escape \u0000 inside a GraphQL string
  // literal is not a NUL in the JSON body, so the request guard does not see it; the parser then
  // decodes it and PostgreSQL refuses the bind parameter (08P01), which surfaced as a server error.
  describe('a NUL written as \\u0000 in a string literal of the document', () => {
    const N = '\\u0000';
    const cases: Array<[string, (f: Fixtures) => string]> = [
      ['createProfile description', (f) => `mutation { createProfile(input: { name: "nul-lit-${f.tag}", service: "${f.service}", environment: STAGING, description: "a${N}" }) { id } }`],
      ['updateProfile description', (f) => `mutation { updateProfile(name: "${f.profile}", input: { description: "a${N}" }) { id } }`],
      ['publishVersion description', (f) => `mutation { publishVersion(profileName: "${f.profile}", input: { data: { k: 1 }, description: "a${N}" }) { id } }`],
      ['publishVersion profileName', () => `mutation { publishVersion(profileName: "a${N}", input: { data: { k: 1 } }) { id } }`],
      ['deleteVersion profileName', () => `mutation { deleteVersion(profileName: "a${N}", version: 1) }`],
      ['registerSchema description', (f) => `mutation { registerSchema(input: { name: "nul-lit-${f.tag}", schema: { type: "object" }, description: "a${N}" }) { id } }`],
      ['approveSchema comment', (f) => `mutation { approveSchema(id: "${f.pendingSchemaId}", comment: "a${N}") { id } }`],
      ['rejectSchema reason', (f) => `mutation { rejectSchema(id: "${f.pendingSchemaId}", reason: "a${N}") { id } }`],
      ['startDeployment profileName', () => `mutation { startDeployment(input: { profileName: "a${N}", version: 1, strategy: DIRECT }) { id } }`],
      ['profile name', () => `query { profile(name: "a${N}") { id } }`],
      ['profiles service', () => `query { profiles(service: "a${N}") { totalCount } }`],
      ['deployments profileName', () => `query { deployments(profileName: "a${N}") { totalCount } }`],
      ['version profileName', () => `query { version(profileName: "a${N}", version: 1) { id } }`],
      ['versionDiff profileName', () => `query { versionDiff(profileName: "a${N}", from: 1, to: 2) { delta } }`],
      ['activeColor service', () => `query { activeColor(service: "a${N}", environment: STAGING) }`],
    ];
    let f: Fixtures;
    beforeAll(async () => {
      f = await makeFixtures(a, 'nul-literal');
    });

    it.each(cases)('%s: BAD_USER_INPUT over HTTP, nothing written', async (_label, document) => {
      const before = await probe.snapshot();
      const body = JSON.stringify({ query: document(f) });
      const res = await postRaw(server.url, body, server.adminToken);
      expectSafeResponse(res, body);
      expect(res.body?.errors?.map((e) => e.extensions?.code), res.text.slice(0, 300)).toEqual(['BAD_USER_INPUT']);
      expect(res.body?.errors?.[0]?.message).toMatch(/NUL/);
      expect(await probe.snapshot()).toEqual(before);
    });

    it('is refused over the websocket too', async () => {
      const client = connectWs(server.url, server.adminToken);
      try {
        for (const [label, document] of cases.slice(0, 3)) {
          const res = await client.request(document(f));
          expect(res.errors?.map((e) => e.extensions?.code), `${label}: ${JSON.stringify(res)}`).toEqual(['BAD_USER_INPUT']);
        }
      } finally {
        await client.dispose();
      }
    });
  });

  it('sent many requests, and both refused and accepted some', () => {
    // Guards the fuzzer itself: all-refused would mean the valid inputs are broken, none refused that it is not hostile.
    expect(tally.requests).toBeGreaterThanOrEqual(RUNS_ADMIN);
    expect(tally.refused).toBeGreaterThan(tally.requests / 2);
    expect(tally.accepted).toBeGreaterThan(0);
  });
});
