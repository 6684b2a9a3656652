import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CachedConfig, ConfigCache } from '../../src/client/config-cache.js';

describe('client config cache', () => {
  let dir: string;
  let warnings: string[];
  const logger = { info: () => {}, warn: (m: string) => void warnings.push(m), error: () => {} };
  const scope = { service: 'orders', environment: 'STAGING' };
  const configs: CachedConfig[] = [
    { profileName: 'orders-api', version: 3, hash: 'a'.repeat(64), data: { limit: 10, nested: { on: true } }, reloadMs: 1.5 },
    { profileName: 'orders-flags', version: 1, hash: 'b'.repeat(64), data: {}, reloadMs: null },
  ];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hotswap-cache-'));
    warnings = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips, creating missing directories, and leaves no temporary file', async () => {
    const file = path.join(dir, 'deep', 'er', 'cache.json');
    const cache = new ConfigCache(file, scope, logger);
    await cache.write(configs);
    expect(await cache.read()).toEqual(configs);
    expect(await readdir(path.dirname(file))).toEqual(['cache.json']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ format: 1, service: 'orders', environment: 'STAGING' });
    expect(warnings).toEqual([]);
  });

  it('replaces the file as a whole on each write', async () => {
    const file = path.join(dir, 'cache.json');
    const cache = new ConfigCache(file, scope, logger);
    await cache.write(configs);
    await cache.write([configs[1]!]);
    expect(await cache.read()).toEqual([configs[1]]);
  });

  it('concurrent writes each leave a complete file', async () => {
    const file = path.join(dir, 'cache.json');
    const cache = new ConfigCache(file, scope, logger);
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.write([{ ...configs[0]!, version: i + 1 }])));
    const [read] = await cache.read();
    expect(read?.profileName).toBe('orders-api');
    expect(await readdir(dir)).toEqual(['cache.json']);
  });

  it('reads a missing file as empty, silently', async () => {
    expect(await new ConfigCache(path.join(dir, 'none.json'), scope, logger).read()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['truncated JSON', '{"format":1,"service":"orders","environment":"STAG'],
    ['not an object', '[1,2,3]'],
    ['another format', JSON.stringify({ format: 2, service: 'orders', environment: 'STAGING', profiles: [] })],
    ['a bad entry', JSON.stringify({ format: 1, service: 'orders', environment: 'STAGING', profiles: [{ profileName: 'x', version: '1', hash: 'h', data: {}, reloadMs: null }] })],
    ['another service', JSON.stringify({ format: 1, service: 'billing', environment: 'STAGING', profiles: [] })],
  ])('ignores %s with a warning', async (_label, content) => {
    const file = path.join(dir, 'cache.json');
    await writeFile(file, content);
    expect(await new ConfigCache(file, scope, logger).read()).toEqual([]);
    expect(warnings).toHaveLength(1);
  });
});
