import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { BadInputError, DomainError, UnavailableError } from '../domain/errors.js';
import { isConnectionFailure, isInvalidUnicode, isUnstorableText } from './pg-errors.js';
import { DeploymentRepository } from './deployment.repository.js';
import { EndedInstanceRepository } from './ended-instance.repository.js';
import { InstanceConfigRepository } from './instance-config.repository.js';
import { ProfileRepository } from './profile.repository.js';
import { SchemaRepository } from './schema.repository.js';
import { TargetRepository } from './target.repository.js';
import { TrafficRepository } from './traffic.repository.js';
import { VersionRepository } from './version.repository.js';

/** The repositories of one unit of work (one forked EntityManager). */
export interface Repositories {
  profiles: ProfileRepository;
  versions: VersionRepository;
  deployments: DeploymentRepository;
  targets: TargetRepository;
  instanceConfigs: InstanceConfigRepository;
  schemas: SchemaRepository;
  traffic: TrafficRepository;
  endedInstances: EndedInstanceRepository;
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
      if (error instanceof DomainError) throw error;
      if (isConnectionFailure(error)) {
        throw new UnavailableError('the database is unavailable; retry shortly', { retryable: true });
      }
      if (isUnstorableText(error)) {
        throw new BadInputError('text and config values may not contain NUL characters (\\u0000)');
      }
      if (isInvalidUnicode(error)) {
        throw new BadInputError('text and config values must be well-formed Unicode (no lone surrogates)');
      }
      throw error;
    }
  }
}

function createRepositories(em: EntityManager): Repositories {
  return {
    profiles: new ProfileRepository(em),
    versions: new VersionRepository(em),
    deployments: new DeploymentRepository(em),
    targets: new TargetRepository(em),
    instanceConfigs: new InstanceConfigRepository(em),
    schemas: new SchemaRepository(em),
    traffic: new TrafficRepository(em),
    endedInstances: new EndedInstanceRepository(em),
  };
}
