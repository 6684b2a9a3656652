import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { ok } from '../support/api.js';
import { createTestDatabase } from '../support/database.js';
import { childEnv, codeBlock, copyCheckout, emptyProject, installedPackages, mustRun, npmInstall, pack, ROOT, run, start } from '../support/pack.js';
import { startTestServer, TEST_SECRET } from '../support/server.js';
import { waitFor } from '../support/wait.js';

/**
 * The packages as users get them: `npm pack` of a copy of the checkout (so the
 * tarballs are built by their own prepare/prepack), installed into empty
 * projects in the temp dir, with no checkout around them.
 */
describe('the npm packages, installed from their tarballs', () => {
  const dirs: string[] = [];
  let server: { tarball: string; files: string[] };
  let client: { tarball: string; files: string[] };
  let clientApp: string;
  let cliApp: string;

  beforeAll(async () => {
    const checkout = await copyCheckout();
    const tarballs = path.dirname(checkout);
    dirs.push(tarballs);
    clientApp = await emptyProject('client-app');
    cliApp = await emptyProject('cli-app');
    dirs.push(clientApp, cliApp);
    await Promise.all([
      (async () => {
        client = await pack(path.join(checkout, 'packages/client'), tarballs);
        // The client alone, so nothing of the server's dependencies can stand in for one of its own.
        await npmInstall(clientApp, [client.tarball, 'typescript@5.9.3']);
      })(),
      (async () => {
        server = await pack(checkout, tarballs);
        // The embedded PostgreSQL's binaries are optional, per platform, ~60 MB, and used by neither the CLI nor this test.
        await npmInstall(cliApp, [server.tarball], ['--save-dev', '--omit=optional']);
      })(),
    ]);
  }, 480_000);

  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  describe('@hotswap-config/client', () => {
    it('holds its build and nothing else, and brings only its runtime dependencies', async () => {
      expect(client.files.filter((f) => !f.startsWith('dist/')).sort()).toEqual(['README.md', 'package.json']);
      expect(client.files).toEqual(expect.arrayContaining(['dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json']));
      const manifest = JSON.parse(await readFile(path.join(clientApp, 'node_modules/@hotswap-config/client/package.json'), 'utf8')) as { dependencies: object };
      expect(Object.keys(manifest.dependencies).sort()).toEqual(['@opentelemetry/api', 'graphql-ws', 'ws']);
      const runtime = (await installedPackages(clientApp)).filter((p) => p !== 'typescript');
      // graphql comes as graphql-ws's peer dependency; the client never loads it.
      expect(runtime).toEqual(['@hotswap-config/client', '@opentelemetry/api', 'graphql', 'graphql-ws', 'ws']);
    });

    it('imports as an ES module and requires as CommonJS, from the installed copy', async () => {
      const probe = `console.log(typeof m.createConfigClient, typeof m.ConfigClientError, typeof m.GraphQLRequestError, typeof m.backoffDelay, PATH)`;
      await writeFile(path.join(clientApp, 'esm.mjs'), `import * as m from '@hotswap-config/client';\nconst PATH = import.meta.resolve('@hotswap-config/client');\n${probe};\n`);
      await writeFile(path.join(clientApp, 'cjs.cjs'), `const m = require('@hotswap-config/client');\nconst PATH = require.resolve('@hotswap-config/client');\n${probe};\n`);
      const esm = await mustRun(process.execPath, ['esm.mjs'], clientApp);
      const cjs = await mustRun(process.execPath, ['cjs.cjs'], clientApp);
      expect(esm.trim()).toBe(`function function function function file://${clientApp}/node_modules/@hotswap-config/client/dist/esm/index.js`);
      expect(cjs.trim()).toBe(`function function function function ${clientApp}/node_modules/@hotswap-config/client/dist/cjs/index.js`);
      expect(`${esm}${cjs}`).not.toContain(ROOT);
    });

    it('type-checks against its declarations, as ES module and as CommonJS', async () => {
      const usage = (imp: string) => `${imp}
const options: ConfigClientOptions = {
  url: 'http://localhost:4000/graphql',
  registration: { token: 'jwt', color: 'BLUE' },
  service: 'orders', environment: 'STAGING',
  onConfig: (u: ConfigUpdate) => { const v: number = u.version; void v; },
  logger: false,
};
const client = createConfigClient(options);
const id: string | undefined = client.instanceId;
void id;
// @ts-expect-error environment is one of DEVELOPMENT, STAGING, PRODUCTION: the types are real, not any
createConfigClient({ ...options, environment: 'PROD' });
`;
      await writeFile(path.join(clientApp, 'use.mts'), usage(`import { createConfigClient, type ConfigClientOptions, type ConfigUpdate } from '@hotswap-config/client';`));
      await writeFile(path.join(clientApp, 'use.cts'), usage(`import { createConfigClient, type ConfigClientOptions, type ConfigUpdate } from '@hotswap-config/client';`));
      // Every declaration of the package is checked (skipLibCheck off), without @types/node: they need nothing of it.
      const compilerOptions = { module: 'nodenext', target: 'es2022', lib: ['es2023', 'dom'], strict: true, noEmit: true, skipLibCheck: false, skipDefaultLibCheck: true, types: [] };
      const tsconfig = { compilerOptions, files: ['use.mts', 'use.cts'] };
      await writeFile(path.join(clientApp, 'tsconfig.json'), JSON.stringify(tsconfig));
      const tsc = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--listFiles'], clientApp);
      expect(tsc.stdout.split('\n').filter((l) => /error TS/.test(l))).toEqual([]);
      expect(tsc.code).toBe(0);
      // Each file got the declarations of its own module system (use.mts the ESM ones, use.cts the CommonJS ones), from the installed copy.
      const declarations = tsc.stdout.split('\n').filter((f) => f.endsWith('/index.d.ts') && f.includes('@hotswap-config/client'));
      expect(declarations.sort()).toEqual([
        `${clientApp}/node_modules/@hotswap-config/client/dist/cjs/index.d.ts`,
        `${clientApp}/node_modules/@hotswap-config/client/dist/esm/index.d.ts`,
      ]);
    }, 60_000);

    it("runs the README's service as pasted, and warns once on stderr while HotSwap is unreachable", async () => {
      const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
      expect(readme).toContain('npm init -y && npm install @hotswap-config/client');
      await writeFile(path.join(clientApp, 'service.mjs'), codeBlock(readme, '// service.mjs'));

      const closed = await freePort();
      const offline = start(process.execPath, ['service.mjs'], clientApp, childEnv({ HOTSWAP_URL: `http://127.0.0.1:${closed}/graphql`, HOTSWAP_REGISTRATION_TOKEN: 'x.e30.x' }));
      await waitFor('the warning', () => offline.out.stderr.includes('\n') || undefined);
      await new Promise((r) => setTimeout(r, 1500)); // a few more retries (500 ms, 1 s …): still one line
      await offline.stop();
      expect(offline.out.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^hotswap-client warn: could not register with HotSwap \(retrying in the background;.*"code":"NETWORK"/)]);

      const hotswap = await startTestServer();
      const service = start(process.execPath, ['service.mjs'], clientApp, childEnv({
        HOTSWAP_URL: hotswap.url,
        HOTSWAP_REGISTRATION_TOKEN: await hotswap.token(Role.INSTANCE, { service: 'orders', environment: Environment.STAGING }),
      }));
      try {
        await waitFor('the connection', () => service.out.stdout.match(/connected to HotSwap as instance [0-9a-f-]{36}/) ?? undefined);
        ok(await hotswap.gql(`mutation { createProfile(input: {name: "orders-staging", service: "orders", environment: STAGING}) { id } }`));
        ok(await hotswap.gql(`mutation { publishVersion(profileName: "orders-staging", input: {data: {timeoutMs: 2500}}) { version } }`));
        ok(await hotswap.gql(`mutation { startDeployment(input: {profileName: "orders-staging", version: 1, strategy: DIRECT}) { id } }`));
        await waitFor('the config applied', () => service.out.stdout.includes('applied orders-staging v1: {"timeoutMs":2500}') || undefined);
        expect(service.out.stderr).toBe('');
      } finally {
        await service.stop();
        await hotswap.stop();
      }
    }, 60_000);
  });

  describe('@hotswap-config/server', () => {
    it('holds the built service, its migrations and the bin, and no sources or tests', () => {
      // The agent runs the instance client: it ships with the CLI.
      expect(server.files).toEqual(
        expect.arrayContaining(['bin/hotswap.js', 'dist/src/main.js', 'dist/src/cli/main.js', 'dist/src/agent/agent.js', 'dist/src/client/config-client.js', 'dist/migrations/index.js', 'package.json']),
      );
      // The console, built: the service serves it at / from the package.
      expect(server.files).toEqual(expect.arrayContaining(['dist/console/index.html', 'dist/console/graphiql.html']));
      expect(server.files.some((f) => /^dist\/console\/assets\/console-[\w-]+\.js$/.test(f))).toBe(true);
      expect(server.files.filter((f) => /\.ts$|\.map$|^src\/|^test\//.test(f))).toEqual([]);
    });

    it('installs the hotswap CLI into a project: --help, and a token minted by the built code', async () => {
      const help = await run(path.join(cliApp, 'node_modules/.bin/hotswap'), ['--help'], cliApp);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toMatch(/^Usage: hotswap \[options\] \[command\]/);
      const token = await run(path.join(cliApp, 'node_modules/.bin/hotswap'), ['token', '--role', 'ADMIN', '--sub', 'ci'], cliApp, childEnv({ JWT_SECRET: TEST_SECRET }));
      expect(token.code).toBe(0);
      expect(token.stdout.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const manifest = JSON.parse(await readFile(path.join(cliApp, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
      expect(Object.keys(manifest.devDependencies)).toEqual(['@hotswap-config/server']);
    });

    it('runs `hotswap agent` from the installed package: a DIRECT deployment lands in its file', async () => {
      const hotswap = await startTestServer();
      const dir = await mkdtemp(path.join(tmpdir(), 'hotswap-agent-pkg-'));
      const file = path.join(dir, 'orders-staging.json');
      const args = ['--url', hotswap.url, 'agent', '--service', 'orders', '--environment', 'STAGING', '--file', path.join(dir, '{profile}.json'), '--state-dir', path.join(dir, 'state')];
      const token = await hotswap.token(Role.INSTANCE, { service: 'orders', environment: Environment.STAGING });
      const agent = start(path.join(cliApp, 'node_modules/.bin/hotswap'), args, cliApp, childEnv({ HOTSWAP_REGISTRATION_TOKEN: token }));
      try {
        await waitFor('the agent to register', () => agent.out.stderr.includes('"instance identity in use"') || undefined);
        ok(await hotswap.gql(`mutation { createProfile(input: {name: "orders-staging", service: "orders", environment: STAGING}) { id } }`));
        ok(await hotswap.gql(`mutation { publishVersion(profileName: "orders-staging", input: {data: {timeoutMs: 2500}}) { version } }`));
        ok(await hotswap.gql(`mutation { startDeployment(input: {profileName: "orders-staging", version: 1, strategy: DIRECT}) { id } }`));
        await waitFor('the config written', async () => (await readFile(file, 'utf8').catch(() => '')).includes('2500') || undefined);
        expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ timeoutMs: 2500 });
      } finally {
        await agent.stop();
        await hotswap.stop();
        await rm(dir, { recursive: true, force: true });
      }
    }, 60_000);

    it('starts the service from the installed package, migrating a fresh database, and serves the console at /', async () => {
      const db = await createTestDatabase();
      const pkg = path.join(cliApp, 'node_modules/@hotswap-config/server');
      const port = await freePort();
      const env = childEnv({ DATABASE_URL: db.url, JWT_SECRET: TEST_SECRET, PORT: String(port), HOST: '127.0.0.1', HOTSWAP_WORKERS: 'false' });
      const service = start(process.execPath, ['--import', './dist/src/instrumentation.js', 'dist/src/main.js'], pkg, env);
      try {
        await waitFor('the service', () => /HotSwap is listening/.test(service.out.stdout) || undefined, 30_000);
        const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: 'text/html' } });
        expect(page.status).toBe(200);
        const html = await page.text();
        const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
        expect(script, html).toBeDefined();
        expect((await fetch(`http://127.0.0.1:${port}${script}`)).status).toBe(200);
      } finally {
        await service.stop();
        await db.drop();
      }
    }, 60_000);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
