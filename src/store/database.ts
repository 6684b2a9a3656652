import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { DomainError, UnavailableError } from '../domain/errors.js';
import { ProfileRepository } from './profile.repository.js';
import { VersionRepository } from './version.repository.js';

/** The repositories of one unit of work (one forked EntityManager). */
export interface Repositories {
  profiles: ProfileRepository;
  versions: VersionRepository;
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08006', '08001']);

function isConnectionFailure(error: unknown): boolean {
  let cur: unknown = error;
  for (let i = 0; i < 4 && cur instanceof Error; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (/Connection terminated|timeout exceeded when trying to connect/i.test(cur.message)) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Entry to PostgreSQL for the services: one unit of work per use case, and
 * connection failures turned into a retryable UNAVAILABLE error.
 */
export class Database {
  constructor(private readonly orm: MikroORM) {}

  /** Runs `fn` on a fresh unit of work without a transaction. */
  read<T>(fn: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.guard(() => fn(createRepositories(this.orm.em.fork())));
  }

  /** Runs `fn` in one transaction; anything it throws rolls everything back. */
  transaction<T>(fn: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.guard(() => this.orm.em.fork().transactional((em) => fn(createRepositories(em))));
  }

  /** Throws when the database does not answer. */
  async ping(): Promise<void> {
    await this.guard(() => this.orm.em.getConnection().execute('select 1'));
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof DomainError) && isConnectionFailure(error)) {
        throw new UnavailableError('the database is unavailable; retry shortly', { retryable: true });
      }
      throw error;
    }
  }
}

function createRepositories(em: EntityManager): Repositories {
  return { profiles: new ProfileRepository(em), versions: new VersionRepository(em) };
}
