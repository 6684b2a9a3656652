import { type EntityManager, type ObjectQuery, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { type Environment } from '../domain/enums.js';
import { ConflictError } from '../domain/errors.js';
import type { NewProfile } from '../domain/profile.js';
import type { ProfileRecord } from '../domain/records.js';
import { ProfileEntity } from './entities/profile.entity.js';

export interface ProfileFilter {
  service?: string;
  environment?: Environment;
}

/** Position in the newest-first profile list. */
export interface ProfileCursor {
  createdAt: Date;
  id: string;
}

export interface ProfilePatch {
  description?: string | null;
  /** null unbinds the schema. */
  schemaId?: string | null;
}

export class ProfileRepository {
  constructor(private readonly em: EntityManager) {}

  async findByName(name: string): Promise<ProfileRecord | null> {
    const entity = await this.em.findOne(ProfileEntity, { name });
    return entity ? toRecord(entity) : null;
  }

  /** Locks the profile row until the transaction ends; serializes publishes per profile. */
  async lockByName(name: string): Promise<ProfileRecord | null> {
    const entity = await this.em.findOne(ProfileEntity, { name }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    return entity ? toRecord(entity) : null;
  }

  /** Newest first, `limit` rows after `after`. */
  async list(filter: ProfileFilter, after: ProfileCursor | null, limit: number): Promise<ProfileRecord[]> {
    const where: ObjectQuery<ProfileEntity> = whereOf(filter);
    if (after) {
      where.$or = [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, id: { $lt: after.id } }];
    }
    const rows = await this.em.find(ProfileEntity, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit });
    return rows.map(toRecord);
  }

  count(filter: ProfileFilter): Promise<number> {
    return this.em.count(ProfileEntity, whereOf(filter));
  }

  async insert(profile: NewProfile): Promise<ProfileRecord> {
    const entity = this.em.create(ProfileEntity, {
      name: profile.name,
      service: profile.service,
      environment: profile.environment,
      description: profile.description ?? null,
      schemaId: profile.schemaId ?? null,
    });
    try {
      await this.em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new ConflictError(`a profile named "${profile.name}" already exists`, { field: 'name' });
      }
      throw error;
    }
    return toRecord(entity);
  }

  /** Applies `patch` to the profile; returns null when there is none of that name. */
  async update(name: string, patch: ProfilePatch): Promise<ProfileRecord | null> {
    const entity = await this.em.findOne(ProfileEntity, { name });
    if (!entity) return null;
    if (patch.description !== undefined) entity.description = patch.description;
    if (patch.schemaId !== undefined) entity.schemaId = patch.schemaId;
    entity.updatedAt = new Date();
    await this.em.flush();
    return toRecord(entity);
  }

  /** Deletes the profile and, by cascade, its versions. */
  async delete(name: string): Promise<boolean> {
    const deleted = await this.em.nativeDelete(ProfileEntity, { name });
    return deleted > 0;
  }

  /** Moves the profile's active version (a deployment completed or was rolled back). */
  async setActiveVersion(profileId: string, version: number | null): Promise<void> {
    await this.em.nativeUpdate(ProfileEntity, { id: profileId }, { activeVersion: version, updatedAt: new Date() });
  }

  /** Takes the next version number of a profile locked by lockByName. */
  async allocateVersionNumber(profileId: string): Promise<number> {
    const entity = await this.em.findOneOrFail(ProfileEntity, { id: profileId });
    entity.lastVersion += 1;
    entity.updatedAt = new Date();
    await this.em.flush();
    return entity.lastVersion;
  }
}

function whereOf(filter: ProfileFilter): ObjectQuery<ProfileEntity> {
  const where: ObjectQuery<ProfileEntity> = {};
  if (filter.service !== undefined) where.service = filter.service;
  if (filter.environment !== undefined) where.environment = filter.environment;
  return where;
}

function toRecord(e: ProfileEntity): ProfileRecord {
  return {
    id: e.id,
    name: e.name,
    service: e.service,
    environment: e.environment as Environment,
    description: e.description,
    lastVersion: e.lastVersion,
    activeVersion: e.activeVersion,
    schemaId: e.schemaId,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}
