import { type EntityManager, type ObjectQuery } from '@mikro-orm/postgresql';
import type { JsonObject } from '../domain/json.js';
import type { ProfileRef, VersionRecord } from '../domain/records.js';
import { boundQuery, pgArray } from './bound-query.js';
import { VersionEntity } from './entities/version.entity.js';

export interface NewVersion {
  version: number;
  data: JsonObject;
  hash: string;
  description: string | null;
  createdBy: string;
}

/** A version's content by its profile id. */
export interface VersionContent {
  profileId: string;
  version: number;
  hash: string;
  data: JsonObject;
}

/** Versions are written once and never updated. */
export class VersionRepository {
  constructor(private readonly em: EntityManager) {}

  async latest(profile: ProfileRef): Promise<VersionRecord | null> {
    const entity = await this.em.findOne(VersionEntity, { profileId: profile.id }, { orderBy: { version: 'desc' } });
    return entity ? toRecord(entity, profile) : null;
  }

  async get(profile: ProfileRef, version: number): Promise<VersionRecord | null> {
    const entity = await this.em.findOne(VersionEntity, { profileId: profile.id, version });
    return entity ? toRecord(entity, profile) : null;
  }

  /** The hash and content of each (profile id, version) that exists, in one query. */
  async contents(keys: ReadonlyArray<{ profileId: string; version: number }>): Promise<VersionContent[]> {
    if (keys.length === 0) return [];
    const rows = await boundQuery(
      this.em,
      `select v.profile_id, v.version, v.hash, v.data
       from unnest(?::uuid[], ?::int[]) as k(profile_id, version)
       join config_version v on v.profile_id = k.profile_id and v.version = k.version`,
      [pgArray(keys.map((k) => k.profileId)), pgArray(keys.map((k) => k.version))],
    );
    return rows.map((r) => ({ profileId: String(r.profile_id), version: Number(r.version), hash: String(r.hash), data: r.data as JsonObject }));
  }

  /** Newest first: `limit` versions numbered below `beforeVersion` (all when null). */
  async list(profile: ProfileRef, beforeVersion: number | null, limit: number): Promise<VersionRecord[]> {
    const where: ObjectQuery<VersionEntity> = { profileId: profile.id };
    if (beforeVersion !== null) where.version = { $lt: beforeVersion };
    const rows = await this.em.find(VersionEntity, where, { orderBy: { version: 'desc' }, limit });
    return rows.map((e) => toRecord(e, profile));
  }

  count(profile: ProfileRef): Promise<number> {
    return this.em.count(VersionEntity, { profileId: profile.id });
  }

  async insert(profile: ProfileRef, v: NewVersion): Promise<VersionRecord> {
    const entity = this.em.create(VersionEntity, { profileId: profile.id, ...v });
    await this.em.flush();
    return toRecord(entity, profile);
  }

  async delete(profile: ProfileRef, version: number): Promise<boolean> {
    return (await this.em.nativeDelete(VersionEntity, { profileId: profile.id, version })) > 0;
  }
}

function toRecord(e: VersionEntity, profile: ProfileRef): VersionRecord {
  return {
    id: e.id,
    profileId: e.profileId,
    profileName: profile.name,
    version: e.version,
    data: e.data,
    hash: e.hash,
    description: e.description,
    createdBy: e.createdBy,
    createdAt: e.createdAt,
  };
}
