import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtomicFileSink, FileSinkError } from '../../../src/agent/file-sink.js';
import { ConfigRenderError } from '../../../src/agent/formats.js';
import type { ConfigUpdate } from '../../../src/client/types.js';

const updateOf = (data: Record<string, unknown>, profileName = 'orders-api', version = 1): ConfigUpdate => ({ profileName, version, hash: 'h'.repeat(64), data, deploymentId: null, traceparent: null });

/**
 * A separate process reading the file in a tight loop until `stop` appears:
 * every read must be a whole config whose items all carry its version.
 */
const READER = `
const fs = require('node:fs');
const [file, stop] = process.argv.slice(1);
let reads = 0, bad = [], versions = new Set();
while (!fs.existsSync(stop)) {
  reads++;
  try {
    const c = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (c.items.length !== 2000 || c.items.some((v) => v !== c.version)) bad.push('mixed ' + c.version);
    versions.add(c.version);
  } catch (e) { bad.push(String(e.message).slice(0, 80)); }
}
process.stdout.write(JSON.stringify({ reads, bad: bad.slice(0, 5), badCount: bad.length, versions: versions.size }));
`;

describe('AtomicFileSink', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hotswap-sink-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes a reader never sees half of: a concurrent reader loop sees 200 whole versions of a large config', async () => {
    const sink = new AtomicFileSink({ pathPattern: path.join(dir, '{profile}.json'), format: 'json' });
    const big = (version: number) => updateOf({ version, items: Array.from({ length: 2000 }, () => version), padding: 'p'.repeat(50_000) }, 'orders-api', version);
    const file = await sink.write(big(0));
    const stop = path.join(dir, 'stop');
    const reader = spawn(process.execPath, ['-e', READER, file, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    reader.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise((resolve) => reader.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let version = 1; version <= 200; version++) await sink.write(big(version));
    await writeFile(stop, '');
    await exited;
    const report = JSON.parse(out) as { reads: number; bad: string[]; badCount: number; versions: number };
    expect(report.bad).toEqual([]);
    expect(report.badCount).toBe(0);
    expect(report.reads).toBeGreaterThan(1000);
    expect(report.versions).toBeGreaterThan(10);
    expect(await readdir(dir)).toEqual(['orders-api.json', 'stop']);
  });

  it('expands {profile}, applies the mode whatever the umask, and leaves no temporary file', async () => {
    const sink = new AtomicFileSink({ pathPattern: path.join(dir, 'app-{profile}.env'), format: 'env', mode: 0o640 });
    const previousUmask = process.umask(0o077);
    try {
      expect(await sink.write(updateOf({ db: { poolSize: 5 } }))).toBe(path.join(dir, 'app-orders-api.env'));
    } finally {
      process.umask(previousUmask);
    }
    expect(await readFile(path.join(dir, 'app-orders-api.env'), 'utf8')).toBe('DB_POOL_SIZE=5\n');
    expect((await stat(path.join(dir, 'app-orders-api.env'))).mode & 0o7777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['app-orders-api.env']);
  });

  it('keeps the last good file when a config fails to render', async () => {
    const sink = new AtomicFileSink({ pathPattern: path.join(dir, 'x.conf'), format: 'template', template: 'limit={{limit}}\n' });
    await sink.write(updateOf({ limit: 1 }));
    await expect(sink.write(updateOf({ other: 2 }, 'orders-api', 2))).rejects.toThrow(ConfigRenderError);
    expect(await readFile(path.join(dir, 'x.conf'), 'utf8')).toBe('limit=1\n');
    expect(await readdir(dir)).toEqual(['x.conf']);
  });

  it('applies writes to one file in the order they were made', async () => {
    const sink = new AtomicFileSink({ pathPattern: path.join(dir, 'c.json'), format: 'json' });
    await Promise.all(Array.from({ length: 20 }, (_, i) => sink.write(updateOf({ n: i }, 'orders-api', i))));
    expect(JSON.parse(await readFile(path.join(dir, 'c.json'), 'utf8'))).toEqual({ n: 19 });
  });

  it('refuses a second profile when the path has no {profile}, rather than overwrite the first', async () => {
    const sink = new AtomicFileSink({ pathPattern: path.join(dir, 'c.json'), format: 'json' });
    await sink.write(updateOf({ a: 1 }, 'orders-api'));
    await expect(sink.write(updateOf({ b: 1 }, 'orders-flags'))).rejects.toThrow(`${path.join(dir, 'c.json')} already holds the profile orders-api; put {profile} in the file path`);
  });

  it.each(['..', '.', 'a/b', '../etc/passwd', 'a\\b', 'a\0b', ''])('refuses the profile name %j, which could leave the directory', (name) => {
    const sink = new AtomicFileSink({ pathPattern: path.join(dir, '{profile}.json'), format: 'json' });
    expect(() => sink.pathFor(name)).toThrow(FileSinkError);
    expect(() => sink.pathFor(name)).toThrow(/could leave/);
  });

  it('refuses {profile} in a directory, a mode out of range and a template without the template format', () => {
    expect(() => new AtomicFileSink({ pathPattern: path.join(dir, '{profile}', 'c.json'), format: 'json' })).toThrow("{profile} may appear only in the file's name");
    expect(() => new AtomicFileSink({ pathPattern: path.join(dir, 'c.json'), format: 'json', mode: 0o10000 })).toThrow('the file mode must be permission bits');
    expect(() => new AtomicFileSink({ pathPattern: path.join(dir, 'c.json'), format: 'json', template: 'x' })).toThrow('a template goes with the template format, not json');
    expect(() => new AtomicFileSink({ pathPattern: path.join(dir, 'c.txt'), format: 'template', template: 'a={{b}\n' })).toThrow(ConfigRenderError);
  });

  describe('checkWritable, before connecting', () => {
    it('passes for a writable directory and leaves nothing behind', async () => {
      await new AtomicFileSink({ pathPattern: path.join(dir, '{profile}.json'), format: 'json' }).checkWritable();
      expect(await readdir(dir)).toEqual([]);
    });

    it('reports a missing directory in one line, and does not create it', async () => {
      const sink = new AtomicFileSink({ pathPattern: path.join(dir, 'missing', '{profile}.json'), format: 'json' });
      await expect(sink.checkWritable()).rejects.toThrow(`cannot write config files in ${path.join(dir, 'missing')}: the directory does not exist (the agent does not create it)`);
      await expect(sink.write(updateOf({}))).rejects.toThrow(`cannot write ${path.join(dir, 'missing', 'orders-api.json')}: the directory does not exist`);
      expect(await readdir(dir)).toEqual([]);
    });

    it('reports a directory that is a file, and a target that is a directory', async () => {
      await writeFile(path.join(dir, 'plain'), '');
      await expect(new AtomicFileSink({ pathPattern: path.join(dir, 'plain', 'c.json'), format: 'json' }).checkWritable()).rejects.toThrow(/: it is not a directory$/);
      await mkdir(path.join(dir, 'c.json'));
      await expect(new AtomicFileSink({ pathPattern: path.join(dir, 'c.json'), format: 'json' }).checkWritable()).rejects.toThrow(`cannot write ${path.join(dir, 'c.json')}: it is a directory`);
    });

    it('reports a directory it may not write to (a read-only mount, which binds root too)', async () => {
      // chmod does not stop root; /proc/1 is a directory no one may create files in.
      await expect(new AtomicFileSink({ pathPattern: '/proc/1/c.json', format: 'json' }).checkWritable()).rejects.toThrow(/^cannot write config files in \/proc\/1: /);
    });
  });
});
