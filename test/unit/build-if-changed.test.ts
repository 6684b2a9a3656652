import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, stat, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * `npm start`'s prestart (scripts/build.mjs --if-changed) on a project of its
 * own in a temp dir: it compiles when there is no build or an input changed,
 * and otherwise starts without the compiler.
 */
describe('build only when the sources changed', { timeout: 60_000 }, () => {
  let dir: string;
  const build = async () => (await promisify(execFile)(process.execPath, ['scripts/build.mjs', '--if-changed'], { cwd: dir })).stdout.trim();
  /** Moves every input into the past, as if the last edit was a minute ago. */
  const age = async (...files: string[]) => {
    const past = new Date(Date.now() - 60_000);
    for (const f of files) await utimes(path.join(dir, f), past, past);
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hotswap-build-'));
    await cp(path.join(ROOT, 'scripts/build.mjs'), path.join(dir, 'scripts/build.mjs'));
    await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    await mkdir(path.join(dir, 'src/util'), { recursive: true });
    await mkdir(path.join(dir, 'migrations'));
    await mkdir(path.join(dir, 'console'));
    await writeFile(path.join(dir, 'console/index.html'), '<!doctype html><title>console</title><p>console</p>\n');
    await writeFile(path.join(dir, 'console/vite.config.ts'), "export default { root: import.meta.dirname, build: { outDir: '../dist/console', emptyOutDir: true } };\n");
    await writeFile(path.join(dir, 'src/main.ts'), 'export const answer: number = 42;\n');
    await writeFile(path.join(dir, 'src/util/extra.ts'), 'export const extra = 1;\n');
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, outDir: 'dist', rootDir: '.', types: [], skipLibCheck: true } }));
    await writeFile(path.join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }));
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(path.join(dir, 'package-lock.json'), '{}');
    await age('src/main.ts', 'src/util/extra.ts', 'src/util', 'src', 'console/index.html', 'console/vite.config.ts', 'console', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('compiles the first time, then starts without compiling until an input changes', async () => {
    expect(await build()).toBe('compiling to dist/ (no build yet)');
    const built = (await stat(path.join(dir, 'dist/src/main.js'))).mtimeMs;
    // The console's pages are part of the build (the service serves them at /).
    expect((await stat(path.join(dir, 'dist/console/index.html'))).isFile()).toBe(true);
    expect(await build()).toBe('dist/ is up to date; not compiling (npm run build forces it)');
    expect((await stat(path.join(dir, 'dist/src/main.js'))).mtimeMs).toBe(built);

    await writeFile(path.join(dir, 'src/main.ts'), 'export const answer: number = 43;\n');
    expect(await build()).toBe('compiling to dist/ (src changed since the last build)');
    expect(await build()).toMatch(/^dist\/ is up to date/);

    await writeFile(path.join(dir, 'package-lock.json'), '{"lockfileVersion": 3}');
    expect(await build()).toBe('compiling to dist/ (package-lock.json changed since the last build)');

    await writeFile(path.join(dir, 'console/index.html'), '<!doctype html><title>console</title><p>console, edited</p>\n');
    expect(await build()).toBe('compiling to dist/ (console changed since the last build)');
  });

  it('compiles again when a source file is removed, or the build is gone; a removed source leaves no output behind', async () => {
    expect((await stat(path.join(dir, 'dist/src/util/extra.js'))).isFile()).toBe(true);
    await unlink(path.join(dir, 'src/util/extra.ts'));
    expect(await build()).toBe('compiling to dist/ (src changed since the last build)');
    // What npm pack would otherwise ship: the output of a source that no longer exists.
    await expect(stat(path.join(dir, 'dist/src/util/extra.js'))).rejects.toMatchObject({ code: 'ENOENT' });
    await rm(path.join(dir, 'dist'), { recursive: true });
    expect(await build()).toBe('compiling to dist/ (no build yet)');
  });

  it('stamps the build with the time it started, so a file saved during a build triggers the next one', async () => {
    await writeFile(path.join(dir, 'src/main.ts'), 'export const answer: number = 44;\n');
    const before = Date.now();
    await build();
    const stamp = (await stat(path.join(dir, 'dist/.build-stamp'))).mtimeMs;
    expect(stamp).toBeGreaterThanOrEqual(before - 1000);
    expect(stamp).toBeLessThan((await stat(path.join(dir, 'dist/src/main.js'))).mtimeMs + 1);
  });
});
