import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { migrationsList } from '../../migrations/index.js';
import { UnavailableError } from '../domain/errors.js';
import { isConnectionFailure } from './pg-errors.js';
import { ProfileEntity } from './entities/profile.entity.js';
import { VersionEntity } from './entities/version.entity.js';

export const entities = [ProfileEntity, VersionEntity];

/** Opens the pool. Nothing is created here: the schema comes from migrations only. */
export async function openOrm(clientUrl: string, options: { poolMax?: number } = {}): Promise<MikroORM> {
  try {
    return await initOrm(clientUrl, options);
  } catch (error) {
    if (!isConnectionFailure(error)) throw error;
    const { hostname, port } = new URL(clientUrl);
    throw new UnavailableError(`cannot connect to PostgreSQL at ${hostname}:${port || 5432}; is it running?`, { retryable: true });
  }
}

function initOrm(clientUrl: string, options: { poolMax?: number }): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl,
    entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: true },
    migrations: { migrationsList, tableName: 'hotswap_migrations', transactional: true, allOrNothing: true, silent: true, snapshot: false },
    pool: { min: 0, max: options.poolMax ?? 10 },
    allowGlobalContext: false,
    debug: false,
  });
}

const MIGRATION_LOCK_KEY = 0x6873_7770; // 'hswp'

/**
 * Applies pending migrations under a PostgreSQL advisory lock, so replicas that
 * start together migrate once. Returns the names applied.
 */
export async function migrate(orm: MikroORM, logger?: Logger): Promise<string[]> {
  const knex = orm.em.getConnection().getKnex();
  return knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    const applied = await orm.migrator.up();
    const names = applied.map((m) => m.name);
    if (names.length > 0) logger?.info({ migrations: names }, 'applied database migrations');
    return names;
  });
}
