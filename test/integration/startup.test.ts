import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

describe('a taken port', () => {
  it('stops the start at once with one line naming the port and PORT, before the embedded PostgreSQL', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '0.0.0.0', resolve));
    const port = (squatter.address() as { port: number }).port;
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hotswap-port-'));
    try {
      // The embedded default: without the check, this start spends seconds on PostgreSQL and migrations first.
      const service = spawnService({ PORT: String(port), HOTSWAP_DATA_DIR: dataDir, HOTSWAP_EMBEDDED_PG_PORT: String(port + 1) });
      const code = await new Promise<number | null>((resolve) => service.child.once('exit', resolve));
      expect(code).toBe(1);
      expect(service.output().trim()).toBe(
        `hotswap: failed to start: port ${port} on 0.0.0.0 is already in use (PORT=${port}); stop what listens there, or set PORT to a free port`,
      );
      // Nothing of the embedded PostgreSQL: no claim on the data dir, no database.
      expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false);
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      squatter.close();
      await rm(dataDir, { recursive: true, force: true });
    }
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
