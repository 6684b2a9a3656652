import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SECRET = 'x'.repeat(32);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment (embedded default)', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 4000,
      databaseUrl: undefined,
      redisUrl: undefined,
      rateLimitPerSecond: 50,
      maxConfigBytes: 1024 * 1024,
      dataDir: path.resolve('.hotswap'),
    });
    expect(c.maxBodyBytes).toBeGreaterThan(c.maxConfigBytes);
  });

  it('reads every variable of the Running table', () => {
    const c = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@db:5432/hs',
      REDIS_URL: 'redis://cache:6379',
      JWT_SECRET: SECRET,
      RATE_LIMIT_PER_SECOND: '0',
      HOTSWAP_DATA_DIR: '/var/lib/hotswap',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
    });
    expect(c).toMatchObject({
      port: 8080,
      databaseUrl: 'postgres://u@db:5432/hs',
      redisUrl: 'redis://cache:6379',
      jwtSecret: SECRET,
      rateLimitPerSecond: 0,
      dataDir: '/var/lib/hotswap',
      otlpEndpoint: 'http://jaeger:4318',
    });
  });

  it('refuses DATABASE_URL without a JWT_SECRET or JWKS_URL', () => {
    expect(problemsOf({ DATABASE_URL: 'postgres://db/hs' })).toEqual(['JWT_SECRET (or JWKS_URL) is required when DATABASE_URL is set']);
  });

  it('accepts DATABASE_URL with a JWKS_URL instead of a secret', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://db/hs', JWKS_URL: 'https://id.example/jwks.json' }).jwksUrl).toBe(
      'https://id.example/jwks.json',
    );
  });

  it('names each bad variable, all at once', () => {
    const problems = problemsOf({ PORT: 'eighty', REDIS_URL: 'http://x', RATE_LIMIT_PER_SECOND: '-1', JWT_SECRET: 'short' });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/^PORT must be a whole number/m);
    expect(problems.join('\n')).toMatch(/^REDIS_URL must be a redis: or rediss: URL/m);
    expect(problems.join('\n')).toMatch(/^RATE_LIMIT_PER_SECOND must be/m);
    expect(problems.join('\n')).toMatch(/^JWT_SECRET must be at least 32 bytes/m);
  });

  it('refuses a DATABASE_URL that is not a URL or not postgres', () => {
    expect(problemsOf({ DATABASE_URL: 'not a url', JWT_SECRET: SECRET })).toEqual(['DATABASE_URL is not a valid URL']);
    expect(problemsOf({ DATABASE_URL: 'mysql://db/x', JWT_SECRET: SECRET })[0]).toMatch(/DATABASE_URL must be a postgres: or postgresql: URL/);
  });

  it('refuses both JWT_SECRET and JWKS_URL', () => {
    expect(problemsOf({ JWT_SECRET: SECRET, JWKS_URL: 'https://id.example/jwks' })).toEqual(['set JWT_SECRET or JWKS_URL, not both']);
  });

  it('derives the body limit from the config size limit', () => {
    const c = loadConfig({ HOTSWAP_MAX_CONFIG_BYTES: '4096' });
    expect(c.maxConfigBytes).toBe(4096);
    expect(c.maxBodyBytes).toBe(4096 * 2 + 64 * 1024);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ' })).toMatchObject({ port: 4000, databaseUrl: undefined });
  });

  it('refuses an unknown LOG_LEVEL', () => {
    expect(problemsOf({ LOG_LEVEL: 'loud' })[0]).toMatch(/LOG_LEVEL must be one of/);
  });
});
