import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabase } from './global-setup.js';

export interface TestDatabase {
  url: string;
  /** Runs one SQL statement on this database, for assertions on what was persisted. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template, for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('databaseUrl');
  const name = `hotswap_test_${randomBytes(5).toString('hex')}`;
  await run(adminUrl, `create database ${name} template ${inject('templateDatabase')}`);
  const url = withDatabase(adminUrl, name);
  return {
    url,
    query: <T>(sql: string, params: unknown[] = []) => run<T>(url, sql, params),
    drop: async () => {
      await run(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

async function run<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
