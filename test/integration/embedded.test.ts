import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService } from '../support/process.js';

/** The zero-set-up default: no DATABASE_URL, no REDIS_URL, no JWT_SECRET. */
describe('embedded default', () => {
  let dataDir: string;
  const pgPort = String(20000 + Math.floor(Math.random() * 20000));

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hotswap-embedded-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    const service = spawnService({ HOTSWAP_DATA_DIR: dataDir, HOTSWAP_EMBEDDED_PG_PORT: pgPort, PORT: '0' });
    const [, url] = await service.waitFor(/GraphQL:\s+(\S+)/, 60_000);
    const [, token] = await service.waitFor(/ADMIN token \(12 h\): (\S+)/);
    const gql = async (query: string) => {
      const res = await fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    };
    return { service, gql };
  };

  it('starts on an embedded PostgreSQL, prints a working ADMIN token, and keeps data across restarts', async () => {
    const first = await start();
    const created = await first.gql(
      'mutation { createProfile(input: { name: "emb", service: "svc", environment: DEVELOPMENT }) { name } }',
    );
    expect(created).toEqual({ data: { createProfile: { name: 'emb' } } });
    const published = await first.gql('mutation { publishVersion(profileName: "emb", input: { data: { a: 1 } }) { version } }');
    expect(published).toEqual({ data: { publishVersion: { version: 1 } } });
    expect(await first.service.kill('SIGTERM')).toBe(0);
    expect(existsSync(path.join(dataDir, 'hotswap.pid'))).toBe(false);

    const second = await start();
    const read = await second.gql('{ profile(name: "emb") { name latestVersion { version data } } }');
    expect(read).toEqual({ data: { profile: { name: 'emb', latestVersion: { version: 1, data: { a: 1 } } } } });
    expect(await second.service.kill('SIGINT')).toBe(0);
  }, 120_000);

  it('recovers after being killed with SIGKILL (its PostgreSQL left running)', async () => {
    const first = await start();
    await first.service.kill('SIGKILL');
    const second = await start();
    expect(second.service.output()).toMatch(/left running by a previous HotSwap/);
    const read = await second.gql('{ profile(name: "emb") { name } }');
    expect(read).toEqual({ data: { profile: { name: 'emb' } } });
    await second.service.kill('SIGTERM');
  }, 120_000);
});
