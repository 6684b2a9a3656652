import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** The environment of the npm and node children: this run's npm_* variables (npm test's) must not steer them. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (never rejects on a non-zero exit: the caller asserts on `code`). */
export function run(command: string, args: string[], cwd: string, env: Record<string, string> = childEnv(), timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like run(), but fails with the command's output when it exits non-zero. */
export async function mustRun(command: string, args: string[], cwd: string, env?: Record<string, string>, timeoutMs?: number): Promise<string> {
  const r = await run(command, args, cwd, env, timeoutMs);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * A copy of the checkout as `git` sees it (tracked and untracked files, not the
 * ignored ones: no dist/, no build stamp), with node_modules linked in, so
 * `npm pack` there builds from scratch as it would in a fresh clone, and no
 * compiler writes the dist/ other test files run from.
 */
export async function copyCheckout(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hotswap-pack-'));
  const copy = path.join(dir, 'checkout');
  const listed = await promisify(execFile)('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(path.join(ROOT, file))) continue; // deleted in the work tree, not yet committed
    await mkdir(path.dirname(path.join(copy, file)), { recursive: true });
    await copyFile(path.join(ROOT, file), path.join(copy, file));
  }
  await symlink(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  return copy;
}

/** `npm pack` of the package in `dir` (which runs its prepare/prepack build); the tarball's path and its file list. */
export async function pack(dir: string, destination: string): Promise<{ tarball: string; files: string[]; size: number }> {
  // The build under npm pack compiles the service and builds the console (Vite): minutes on a busy 2-core machine.
  const out = await mustRun('npm', ['pack', '--json', '--pack-destination', destination], dir, undefined, 360_000);
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
  return { tarball: path.join(destination, info!.filename), files: info!.files.map((f) => f.path), size: info!.size };
}

/** An empty npm project in a new temp dir, outside any checkout. */
export async function emptyProject(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `hotswap-${name}-`));
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }, null, 2));
  return dir;
}

/** npm install into `dir`, from the npm cache when it has the packages (the registry otherwise). */
export function npmInstall(dir: string, specs: string[], extra: string[] = []): Promise<string> {
  return mustRun('npm', ['install', ...specs, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...extra], dir);
}

/** The names of the packages npm installed in `dir`. */
export async function installedPackages(dir: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(path.join(dir, 'node_modules/.package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
  return Object.keys(lock.packages)
    .map((p) => p.replace(/^.*node_modules\//, ''))
    .sort();
}

/** The fenced code block of `markdown` whose first line is `firstLine`. */
export function codeBlock(markdown: string, firstLine: string): string {
  const blocks = [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  const block = blocks.find((b) => b.split('\n')[0]!.trim() === firstLine);
  if (block === undefined) throw new Error(`no code block starting with "${firstLine}"`);
  return block;
}

/** A child process whose output can be waited on. */
export function start(command: string, args: string[], cwd: string, env: Record<string, string>) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    out,
    exited,
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
