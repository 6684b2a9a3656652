import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { diffLines } from '../../src/cli/commands/resource-support.js';
import { createOut } from '../../src/cli/output.js';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, approvedSchema, createProfile, foreignToken, ok, publish, readProfile, readVersion } from '../support/api.js';
import { type CliResult, runCli } from '../support/cli.js';
import { deployAndWait, type Fleet, registerInstance, startFleet } from '../support/fleet.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** The resource commands of the built `hotswap` CLI (profile, version, schema, instances) against a real server. */

// Each test runs the CLI a few times as a child process (about a second each on a busy machine).
vi.setConfig({ testTimeout: 60_000 });

let server: TestServer;
let a: Api;
let adminToken: string;
let developerToken: string;
let dir: string;
const fleets: Fleet[] = [];
/** Every failing run of this file: checked at the end for one-line, stack-free errors. */
const failures: Array<{ args: readonly string[]; result: CliResult }> = [];

const SCHEMA_QUERY = `query($id: ID!) { schema(id: $id) { id name schemaVersion status decisionComment approvedBy rejectedBy } }`;

beforeAll(async () => {
  server = await startTestServer();
  a = api(server);
  adminToken = await server.token(Role.ADMIN, { sub: 'ci' });
  developerToken = await server.token(Role.DEVELOPER, { sub: 'dev-dana' });
  dir = await mkdtemp(path.join(tmpdir(), 'hotswap-cli-'));
}, 60_000);

afterAll(async () => {
  for (const f of fleets) await f.stop();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI against the test server as `token` (admin by default; null: no token). */
async function hotswap(args: readonly string[], o: { token?: string | null; input?: string; url?: string } = {}): Promise<CliResult> {
  const env: Record<string, string> = { HOTSWAP_URL: o.url ?? server.url };
  const token = o.token === undefined ? adminToken : o.token;
  if (token !== null) env.HOTSWAP_TOKEN = token;
  const result = await runCli(args, { env, input: o.input });
  if (result.code !== 0) failures.push({ args, result });
  return result;
}

/** Asserts exit 0 and returns stdout. */
async function succeed(args: readonly string[], o: Parameters<typeof hotswap>[1] = {}): Promise<string> {
  const r = await hotswap(args, o);
  expect(r.code, `hotswap ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r.stdout;
}

async function file(name: string, content: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, content);
  return p;
}

async function readSchema(id: string): Promise<{ status: string; decisionComment: string | null; approvedBy: string | null; rejectedBy: string | null; name: string; schemaVersion: number } | null> {
  return ok(await a.gql<{ schema: never }>(SCHEMA_QUERY, { id })).schema;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('profile', () => {
  it('create: prints the profile and stores it with its service, environment and description', async () => {
    const stdout = await succeed(['profile', 'create', 'cli-create', '--service', 'billing', '--environment', 'staging', '--description', 'billing API']);
    expect(stdout).toBe('created profile cli-create (service billing, STAGING)\n');
    const p = await readProfile(a, 'cli-create');
    expect(p).toMatchObject({ name: 'cli-create', service: 'billing', environment: 'STAGING', description: 'billing API' });
  });

  it('create --schema --json: binds the schema and prints the created profile as JSON', async () => {
    const schemaId = await approvedSchema(a, { type: 'object' }, 'cli-bind');
    const stdout = await succeed(['profile', 'create', 'cli-prod', '--service', 'billing', '--environment', 'PRODUCTION', '--schema', schemaId, '--json']);
    const data = JSON.parse(stdout) as { createProfile: { name: string; environment: string; schema: { id: string; status: string } } };
    expect(data.createProfile).toMatchObject({ name: 'cli-prod', environment: 'PRODUCTION', schema: { id: schemaId, status: 'APPROVED' } });
    const bound = ok(await a.gql<{ profile: { schema: { id: string } | null } }>(`{ profile(name: "cli-prod") { schema { id } } }`)).profile;
    expect(bound.schema?.id).toBe(schemaId);
  });

  it('list: a table of the profiles, filtered by service and environment; --json parses', async () => {
    await createProfile(a, 'cli-list-a', { service: 'listing' });
    await createProfile(a, 'cli-list-b', { service: 'listing', environment: Environment.DEVELOPMENT });
    await publish(a, 'cli-list-a', { n: 1 });
    const table = await succeed(['profile', 'list', '--service', 'listing']);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SERVICE\s+ENVIRONMENT\s+LATEST\s+ACTIVE\s+SCHEMA\s+UPDATED$/);
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.startsWith('cli-list-a'))).toMatch(/^cli-list-a\s+listing\s+STAGING\s+1\s+-\s+-\s+\d{4}-/);
    expect(lines.find((l) => l.startsWith('cli-list-b'))).toMatch(/^cli-list-b\s+listing\s+DEVELOPMENT\s+-\s+-/);

    const json = JSON.parse(await succeed(['profile', 'list', '--service', 'listing', '--environment', 'DEVELOPMENT', '--json'])) as {
      profiles: { totalCount: number; edges: Array<{ node: { name: string } }> };
    };
    expect(json.profiles.totalCount).toBe(1);
    expect(json.profiles.edges.map((e) => e.node.name)).toEqual(['cli-list-b']);
  });

  it('show: the profile with its schema, latest and active version', async () => {
    await createProfile(a, 'cli-show', { service: 'showing', description: 'shown' });
    const v1 = await publish(a, 'cli-show', { pool: 1 });
    await publish(a, 'cli-show', { pool: 2 });
    const fleet = await startFleet(a, { service: 'showing', count: 1 });
    fleets.push(fleet);
    expect((await deployAndWait(a, 'cli-show', 1)).status).toBe('COMPLETED');

    const stdout = await succeed(['profile', 'show', 'cli-show']);
    expect(stdout).toMatch(/^name: +cli-show$/m);
    expect(stdout).toMatch(/^service: +showing$/m);
    expect(stdout).toMatch(/^description: +shown$/m);
    expect(stdout).toMatch(/^latest version: +2 \(/m);
    expect(stdout).toMatch(new RegExp(`^active version: +1 \\(${v1.hash.slice(0, 12)}`, 'm'));
    expect(stdout).toMatch(/^versions: +2$/m);

    const json = JSON.parse(await succeed(['profile', 'show', 'cli-show', '--json'])) as {
      profile: { activeVersion: { version: number; hash: string }; latestVersion: { version: number } };
    };
    expect(json.profile.activeVersion).toMatchObject({ version: 1, hash: v1.hash });
    expect(json.profile.latestVersion.version).toBe(2);
  });

  it('update: changes the description, binds and unbinds the schema', async () => {
    await createProfile(a, 'cli-update');
    const schemaId = await approvedSchema(a, { type: 'object' }, 'cli-update-schema');
    const stdout = await succeed(['profile', 'update', 'cli-update', '--description', 'new words', '--schema', schemaId]);
    expect(stdout).toContain('updated profile cli-update: description "new words", schema cli-update-schema v1 (APPROVED');
    let p = ok(await a.gql<{ profile: { description: string; schema: { id: string } | null } }>(`{ profile(name: "cli-update") { description schema { id } } }`)).profile;
    expect(p).toEqual({ description: 'new words', schema: { id: schemaId } });

    await succeed(['profile', 'update', 'cli-update', '--no-schema']);
    p = ok(await a.gql<{ profile: { description: string; schema: { id: string } | null } }>(`{ profile(name: "cli-update") { description schema { id } } }`)).profile;
    expect(p).toEqual({ description: 'new words', schema: null });

    const nothing = await hotswap(['profile', 'update', 'cli-update']);
    expect(nothing.code).toBe(4);
    expect(nothing.stderr).toContain('nothing to update');
  });

  it('delete: removes the profile and its versions', async () => {
    await createProfile(a, 'cli-delete');
    await publish(a, 'cli-delete', { x: 1 });
    expect(await succeed(['profile', 'delete', 'cli-delete'])).toBe('deleted profile cli-delete and its versions\n');
    expect(await readProfile(a, 'cli-delete')).toBeNull();
  });
});

describe('version', () => {
  beforeAll(async () => {
    await createProfile(a, 'cli-versions', { service: 'versioning' });
  });

  it('publish --file config.json: prints the new version number and hash, and stores the data', async () => {
    const f = await file('config.json', JSON.stringify({ pool: { max: 10 }, name: 'orders', flags: ['a'] }));
    const stdout = await succeed(['version', 'publish', '--profile', 'cli-versions', '--file', f, '--description', 'first']);
    const v = await readVersion(a, 'cli-versions', 1);
    expect(v).toMatchObject({ version: 1, data: { pool: { max: 10 }, name: 'orders', flags: ['a'] }, description: 'first', createdBy: 'ci' });
    expect(stdout).toBe(`published cli-versions version 1 (sha256 ${v!.hash})\n`);
  });

  it('publish --file config.yaml: YAML is parsed into the same JSON', async () => {
    const f = await file('config.yaml', 'pool:\n  max: 20\nname: orders\nflags:\n  - a\n  - b\n');
    const stdout = await succeed(['version', 'publish', '--profile', 'cli-versions', '--file', f]);
    expect(stdout).toMatch(/^published cli-versions version 2 \(sha256 [0-9a-f]{64}\)\n$/);
    expect((await readVersion(a, 'cli-versions', 2))?.data).toEqual({ pool: { max: 20 }, name: 'orders', flags: ['a', 'b'] });
  });

  it('publish --file -: reads the config from stdin; --json prints the new version', async () => {
    const stdout = await succeed(['version', 'publish', '--profile', 'cli-versions', '--file', '-', '--json'], {
      input: JSON.stringify({ pool: { max: 20 }, flags: ['a', 'b'], debug: true }),
    });
    const json = JSON.parse(stdout) as { publishVersion: { version: number; hash: string } };
    expect(json.publishVersion.version).toBe(3);
    const stored = await readVersion(a, 'cli-versions', 3);
    expect(stored?.data).toEqual({ pool: { max: 20 }, flags: ['a', 'b'], debug: true });
    expect(json.publishVersion.hash).toBe(stored?.hash);
  });

  it('list: the versions newest first; --json parses', async () => {
    const stdout = await succeed(['version', 'list', 'cli-versions']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+HASH\s+CREATED\s+BY\s+DESCRIPTION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['3', '2', '1']);
    expect(lines[3]).toMatch(/^1\s+[0-9a-f]{12}\s+\S+ \S+Z\s+ci\s+first$/);

    const json = JSON.parse(await succeed(['version', 'list', 'cli-versions', '--limit', '2', '--json'])) as {
      profile: { versions: { totalCount: number; pageInfo: { hasNextPage: boolean }; edges: Array<{ node: { version: number } }> } };
    };
    expect(json.profile.versions.totalCount).toBe(3);
    expect(json.profile.versions.pageInfo.hasNextPage).toBe(true);
    expect(json.profile.versions.edges.map((e) => e.node.version)).toEqual([3, 2]);
  });

  it('show: prints the data as JSON; --json adds the metadata', async () => {
    expect(JSON.parse(await succeed(['version', 'show', 'cli-versions', '2']))).toEqual({ pool: { max: 20 }, name: 'orders', flags: ['a', 'b'] });
    const json = JSON.parse(await succeed(['version', 'show', 'cli-versions', '1', '--json'])) as { version: { version: number; hash: string; data: unknown } };
    expect(json.version).toMatchObject({ version: 1, data: { pool: { max: 10 } }, hash: (await readVersion(a, 'cli-versions', 1))?.hash });
  });

  it('diff: one uncoloured line per change without a terminal; --json prints the change list', async () => {
    const stdout = await succeed(['version', 'diff', 'cli-versions', '1', '3']);
    expect(stdout).not.toContain('\u001b[');
    expect(stdout.trimEnd().split('\n').sort()).toEqual(['+ /debug: true', '+ /flags/1: "b"', '- /name: "orders"', '~ /pool/max: 10 → 20'].sort());

    const json = JSON.parse(await succeed(['version', 'diff', 'cli-versions', '1', '3', '--json'])) as {
      versionDiff: { from: number; to: number; changes: Array<{ op: string; path: string; before: unknown; after: unknown }> };
    };
    expect(json.versionDiff).toMatchObject({ from: 1, to: 3 });
    expect(json.versionDiff.changes).toContainEqual({ op: 'REPLACE', path: '/pool/max', before: 10, after: 20 });
    expect(json.versionDiff.changes).toContainEqual({ op: 'REMOVE', path: '/name', before: 'orders', after: null });
    expect(json.versionDiff.changes).toHaveLength(4);

    expect(await succeed(['version', 'diff', 'cli-versions', '2', '2'])).toBe('no changes between version 2 and version 2\n');
  });

  it('diff on a terminal: the same lines, green for added, red for removed, yellow for replaced', () => {
    let written = '';
    const tty = createOut({ isTTY: true, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream, {});
    const lines = diffLines(tty, [
      { op: 'ADD', path: '/a', after: 1 },
      { op: 'REMOVE', path: '/b', before: 'x' },
      { op: 'REPLACE', path: '/c', before: 1, after: 2 },
    ]);
    expect(lines).toEqual(['\u001b[32m+ /a: 1\u001b[0m', '\u001b[31m- /b: "x"\u001b[0m', '\u001b[33m~ /c: 1 → 2\u001b[0m']);
    const noColor = createOut({ isTTY: true, write: () => true } as unknown as NodeJS.WriteStream, { NO_COLOR: '1' });
    expect(diffLines(noColor, [{ op: 'ADD', path: '/a', after: 1 }])).toEqual(['+ /a: 1']);
    expect(written).toBe('');
  });

  it('publish refused by the bound schema: one line per path, exit 4, nothing stored', async () => {
    const schemaId = await approvedSchema(
      a,
      { type: 'object', properties: { port: { type: 'integer', maximum: 65535 }, name: { type: 'string' } }, required: ['name'] },
      'cli-strict',
    );
    await createProfile(a, 'cli-strict', { environment: Environment.PRODUCTION, schemaId });
    const f = await file('bad.json', JSON.stringify({ port: 70000, name: 7 }));
    const r = await hotswap(['version', 'publish', '--profile', 'cli-strict', '--file', f]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^hotswap: VALIDATION_FAILED: .*2 errors/);
    expect(lines).toContainEqual(expect.stringMatching(/^hotswap: {3}\/port: .+ \(maximum\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^hotswap: {3}\/name: .+ \(type\)$/));
    expect(lines).toHaveLength(3);
    expect((await readProfile(a, 'cli-strict'))?.versions.totalCount).toBe(0);
  });
});

describe('version publish --skip-unchanged', () => {
  it('publishes changed content, and exits 0 without publishing when the content (in any key order) equals the latest version', async () => {
    await createProfile(a, 'cli-skip', { service: 'skipping' });
    const first = await file('skip-1.json', JSON.stringify({ a: 1, b: { c: 2 } }));
    expect(await succeed(['version', 'publish', '--profile', 'cli-skip', '--file', first, '--skip-unchanged'])).toMatch(/^published cli-skip version 1 /);
    const reordered = await file('skip-2.json', JSON.stringify({ b: { c: 2 }, a: 1 }));
    expect(await succeed(['version', 'publish', '--profile', 'cli-skip', '--file', reordered, '--skip-unchanged'])).toBe(
      'unchanged: cli-skip version 1 has this content; nothing published\n',
    );
    expect(await readVersion(a, 'cli-skip', 2)).toBeNull();
    // Without the flag the same content is refused (CONFLICT, exit 4).
    const refused = await hotswap(['version', 'publish', '--profile', 'cli-skip', '--file', reordered]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/CONFLICT: content is identical to version 1/);
  });
});

describe('schema', () => {
  const SCHEMA = { type: 'object', properties: { port: { type: 'integer', maximum: 65535 } }, required: ['port'] };

  it('register, list, show, submit, approve: the approval workflow, as the server stores it', async () => {
    const f = await file('orders.schema.json', JSON.stringify(SCHEMA));
    const registered = await succeed(['schema', 'register', '--name', 'cli-orders', '--file', f, '--description', 'orders config']);
    const id = /registered schema cli-orders v1 as DRAFT: (\S+)/.exec(registered)?.[1];
    expect(id, registered).toBeDefined();
    expect(registered).toContain(`hotswap schema submit ${id}`);
    expect(await readSchema(id!)).toMatchObject({ name: 'cli-orders', schemaVersion: 1, status: 'DRAFT' });

    const drafts = JSON.parse(await succeed(['schema', 'list', '--status', 'DRAFT', '--json'])) as { schemas: Array<{ id: string; status: string }> };
    expect(drafts.schemas.map((s) => s.id)).toContain(id);
    expect(drafts.schemas.every((s) => s.status === 'DRAFT')).toBe(true);
    const table = await succeed(['schema', 'list']);
    expect(table).toMatch(new RegExp(`^${id}\\s+cli-orders\\s+1\\s+DRAFT\\s+ci\\s`, 'm'));

    const submitted = await succeed(['schema', 'submit', id!]);
    expect(submitted).toContain('schema cli-orders v1 is PENDING_APPROVAL');
    expect(submitted).toContain('compatible: no breaking change against no earlier approved version');
    expect((await readSchema(id!))?.status).toBe('PENDING_APPROVAL');

    const approved = await succeed(['schema', 'approve', id!, '--comment', 'looks right']);
    expect(approved).toBe('approved schema cli-orders v1 (APPROVED by ci)\n');
    expect(await readSchema(id!)).toMatchObject({ status: 'APPROVED', decisionComment: 'looks right', approvedBy: 'ci' });

    const shown = await succeed(['schema', 'show', id!]);
    expect(shown).toMatch(/^status: +APPROVED$/m);
    expect(shown).toMatch(/^comment: +looks right$/m);
    expect(JSON.parse(shown.slice(shown.indexOf('schema:\n') + 'schema:\n'.length))).toEqual(SCHEMA);
    const json = JSON.parse(await succeed(['schema', 'show', id!, '--json'])) as { schema: { schema: unknown; status: string } };
    expect(json.schema).toMatchObject({ schema: SCHEMA, status: 'APPROVED' });
  });

  it('reject --reason: the schema ends REJECTED with the reason', async () => {
    const id = ok(
      await a.gql<{ registerSchema: { id: string } }>('mutation($s: JSON!) { registerSchema(input: { name: "cli-rejected", schema: $s }) { id } }', { s: SCHEMA }),
    ).registerSchema.id;
    await succeed(['schema', 'submit', id]);
    expect(await succeed(['schema', 'reject', id, '--reason', 'port must stay optional'])).toBe('rejected schema cli-rejected v1: port must stay optional\n');
    expect(await readSchema(id)).toMatchObject({ status: 'REJECTED', decisionComment: 'port must stay optional', rejectedBy: 'ci' });
  });

  it('validate: exit 0 when valid; when invalid one line per path on stderr and exit 4', async () => {
    const id = await approvedSchema(a, SCHEMA, 'cli-validate');
    const good = await file('good.yaml', 'port: 8080\n');
    expect(await succeed(['schema', 'validate', id, '--file', good])).toBe('valid against schema cli-validate v1\n');

    const r = await hotswap(['schema', 'validate', id, '--file', '-'], { input: '{"port": 70000, "extra": [1]}' });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^hotswap: VALIDATION_FAILED: the config does not match schema cli-validate v1: 1 error\nhotswap: {3}\/port: .+ \(maximum\)\n$/);

    const missing = await hotswap(['schema', 'validate', id, '--file', '-', '--json'], { input: '{}' });
    expect(missing.code).toBe(4);
    const json = JSON.parse(missing.stdout) as { validateConfig: { valid: boolean; errors: Array<{ keyword: string }> } };
    expect(json.validateConfig.valid).toBe(false);
    expect(json.validateConfig.errors.map((e) => e.keyword)).toEqual(['required']);
  });
});

describe('instances', () => {
  it('list: the registered instances, filtered by service, environment and status; --json parses', async () => {
    const one = await registerInstance(a, 'inventory', Environment.STAGING, 'inv-1', 'BLUE');
    const two = await registerInstance(a, 'inventory', Environment.PRODUCTION, 'inv-2');
    await registerInstance(a, 'elsewhere', Environment.STAGING, 'else-1');

    const table = await succeed(['instances', 'list', '--service', 'inventory']);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SERVICE\s+ENVIRONMENT\s+HOST\s+COLOR\s+STATUS\s+HEARTBEAT\s+APPLIED$/);
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.startsWith(one.id))).toMatch(/\s+inventory\s+STAGING\s+inv-1\s+BLUE\s+HEALTHY\s/);
    expect(lines.find((l) => l.startsWith(two.id))).toMatch(/\s+inventory\s+PRODUCTION\s+inv-2\s+-\s+HEALTHY\s/);

    const json = JSON.parse(await succeed(['instances', 'list', '--service', 'inventory', '--environment', 'PRODUCTION', '--status', 'HEALTHY', '--json'])) as {
      instances: Array<{ id: string; host: string }>;
    };
    expect(json.instances.map((i) => i.id)).toEqual([two.id]);
    expect(JSON.parse(await succeed(['instances', 'list', '--service', 'inventory', '--status', 'STALE', '--json']))).toEqual({ instances: [] });
  });
});

describe('refusals and exit codes', () => {
  it('a forged token (signed with another secret) is refused: exit 4', async () => {
    const r = await hotswap(['profile', 'list'], { token: await foreignToken(Role.ADMIN) });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^hotswap: UNAUTHENTICATED: /);
    expect(r.stdout).toBe('');
  });

  it('no token: exit 4 with a hint, before reading the file', async () => {
    const r = await hotswap(['version', 'publish', '--profile', 'cli-versions', '--file', '/does/not/exist.json'], { token: null });
    expect(r.code).toBe(4);
    expect(r.stderr).toBe('hotswap: no token: set HOTSWAP_TOKEN or pass --token (mint one with `hotswap token --role OPERATOR --sub <you>`)\n');
  });

  it('a DEVELOPER approving a schema is FORBIDDEN: exit 4, the schema stays PENDING_APPROVAL', async () => {
    const id = ok(
      await a.gql<{ registerSchema: { id: string } }>('mutation { registerSchema(input: { name: "cli-forbidden", schema: { type: "object" } }) { id } }'),
    ).registerSchema.id;
    await succeed(['schema', 'submit', id], { token: developerToken });
    const r = await hotswap(['schema', 'approve', id], { token: developerToken });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^hotswap: FORBIDDEN: .*DEVELOPER/);
    expect((await readSchema(id))?.status).toBe('PENDING_APPROVAL');
  });

  it('an unknown profile is NOT_FOUND: exit 4 for show, list, publish and diff', async () => {
    const f = await file('any.json', '{"a":1}');
    for (const args of [
      ['profile', 'show', 'cli-nope'],
      ['version', 'list', 'cli-nope'],
      ['version', 'publish', '--profile', 'cli-nope', '--file', f],
      ['version', 'diff', 'cli-nope', '1', '2'],
      ['version', 'show', 'cli-versions', '99'],
    ]) {
      const r = await hotswap(args);
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.stderr, args.join(' ')).toMatch(/^hotswap: NOT_FOUND: .*(cli-nope|99)/);
    }
  });

  it('bad input is refused locally: exit 4 (unreadable file, invalid YAML, bad version number, bad enum)', async () => {
    const broken = await file('broken.yaml', 'a: [1, 2\n');
    for (const args of [
      ['version', 'publish', '--profile', 'cli-versions', '--file', path.join(dir, 'missing.json')],
      ['version', 'publish', '--profile', 'cli-versions', '--file', broken],
      ['version', 'show', 'cli-versions', 'two'],
      ['profile', 'list', '--environment', 'moon'],
    ]) {
      const r = await hotswap(args);
      expect(r.code, args.join(' ')).toBe(4);
      // Refused before any request: with no server to reach, still exit 4, never 5 (unreachable).
      expect((await hotswap(args, { url: `http://127.0.0.1:${await closedPort()}/graphql` })).code, args.join(' ')).toBe(4);
    }
    expect((await readProfile(a, 'cli-versions'))?.versions.totalCount).toBe(3);
  });

  it('HotSwap unreachable: exit 5', async () => {
    for (const url of [`http://127.0.0.1:${await closedPort()}/graphql`, 'http://127.0.0.1:1/graphql']) {
      const r = await hotswap(['profile', 'list'], { url });
      expect(r.code, url).toBe(5);
      expect(r.stderr).toMatch(new RegExp(`^hotswap: cannot reach HotSwap at ${url.replace(/[.]/g, '\\.')}: [^\\n]+\\n$`));
    }
  });

  it('--help of each group and command exits 0 and shows an example', async () => {
    const commands = [
      ['profile'], ['profile', 'create'], ['profile', 'list'], ['profile', 'show'], ['profile', 'update'], ['profile', 'delete'],
      ['version'], ['version', 'publish'], ['version', 'list'], ['version', 'show'], ['version', 'diff'],
      ['schema'], ['schema', 'register'], ['schema', 'submit'], ['schema', 'approve'], ['schema', 'reject'], ['schema', 'validate'], ['schema', 'list'], ['schema', 'show'],
      ['instances'], ['instances', 'list'],
    ];
    const runs: CliResult[] = [];
    for (let i = 0; i < commands.length; i += 4) runs.push(...(await Promise.all(commands.slice(i, i + 4).map((c) => runCli([...c, '--help'])))));
    runs.forEach((r, i) => {
      const name = commands[i]!.join(' ');
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toContain(`Usage: hotswap ${name}`);
      expect(r.stdout, name).toMatch(/\nExamples?:\n {2}\$ hotswap /);
    });
    const readCommands = ['profile list', 'profile show', 'version list', 'version show', 'version diff', 'schema list', 'schema show', 'instances list'];
    for (const c of readCommands) expect(runs[commands.findIndex((x) => x.join(' ') === c)]!.stdout, c).toContain('--json');
  }, 90_000);

  it('every failure above printed one-line errors without a stack trace', () => {
    expect(failures.length).toBeGreaterThanOrEqual(15);
    for (const { args, result } of failures) {
      const name = args.join(' ');
      expect(result.stderr, name).not.toContain('    at ');
      expect(result.stderr, name).not.toMatch(/\.(ts|js):\d+/);
      expect(result.stderr.length, name).toBeGreaterThan(0);
      // Every line is a `hotswap: …` message, except commander's usage errors followed by the command's help.
      const lines = result.stderr.trimEnd().split('\n');
      if (!lines[0]!.startsWith('error: ')) for (const line of lines) expect(line, name).toMatch(/^hotswap: .*\S/);
    }
  });
});
