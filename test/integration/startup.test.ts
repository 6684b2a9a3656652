import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { spawnService } from '../support/process.js';

describe('start-up configuration', () => {
  it('refuses to start with DATABASE_URL but no JWT_SECRET or JWKS_URL, naming the variable', async () => {
    const service = spawnService({ DATABASE_URL: inject('databaseUrl') });
    const code = await new Promise<number | null>((resolve) => service.child.once('exit', resolve));
    expect(code).toBe(78);
    expect(service.output()).toMatch(/JWT_SECRET \(or JWKS_URL\) is required when DATABASE_URL is set/);
  });

  it('stops on a bad variable with one line that names it', async () => {
    const service = spawnService({ PORT: 'eighty', HOTSWAP_DATA_DIR: '/nonexistent-never-used' });
    const code = await new Promise<number | null>((resolve) => service.child.once('exit', resolve));
    expect(code).toBe(78);
    expect(service.output().trim()).toBe('hotswap: configuration error: PORT must be a whole number from 0 to 65535, got "eighty"');
  });
});

describe('shutdown', () => {
  it('exits 0 soon after SIGTERM and SIGINT, releasing the server and the pool', async () => {
    const { createTestDatabase } = await import('../support/database.js');
    const db = await createTestDatabase();
    try {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const service = spawnService({ DATABASE_URL: db.url, JWT_SECRET: 'x'.repeat(32), PORT: '0' });
        await service.waitFor(/HotSwap is listening/);
        const started = Date.now();
        expect(await service.kill(signal)).toBe(0);
        expect(Date.now() - started).toBeLessThan(5000);
      }
    } finally {
      await db.drop();
    }
  }, 60_000);
});
