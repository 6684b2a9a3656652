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
