import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate, openOrm } from '../../src/store/orm.js';
import { resolveTestServices } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    templateDatabase: string;
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Migrates a template database once per run; each test file clones it
 * (test/support/database.ts), which is fast and isolates files.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await resolveTestServices();
  const template = `hotswap_tpl_${process.pid}`;
  const admin = new pg.Client({ connectionString: services.databaseUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  const orm = await openOrm(withDatabase(services.databaseUrl, template), { poolMax: 2 });
  await migrate(orm);
  await orm.close();

  project.provide('databaseUrl', services.databaseUrl);
  project.provide('redisUrl', services.redisUrl);
  project.provide('templateDatabase', template);
  return async () => {
    await admin.query(`drop database if exists ${template} with (force)`);
    await admin.end();
    await services.stop();
  };
}
