import { type ConfigDiff, diffConfigs } from '../domain/diff.js';
import { BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../domain/pagination.js';
import { validateDescription } from '../domain/profile.js';
import { type Connection, type ProfileRecord, type ProfileRef, toConnection, type VersionRecord } from '../domain/records.js';
import { assertNotDuplicateOfLatest, type ConfigLimits, prepareConfig } from '../domain/version.js';
import type { JsonObject } from '../domain/json.js';
import type { Database, Repositories } from '../store/database.js';
import { profileNotFound } from './profile.service.js';

export interface PublishInput {
  data: unknown;
  description?: string | null;
}

export interface VersionDiffResult extends ConfigDiff {
  profileName: string;
  from: number;
  to: number;
}

/** Checks a config against what its profile requires (the bound schema). */
export interface ConfigChecker {
  checkConfig(r: Repositories, profile: ProfileRecord, data: JsonObject): Promise<void>;
}

/** Publishes immutable config versions and reads them back. */
export class VersionService {
  constructor(
    private readonly db: Database,
    private readonly limits: ConfigLimits,
    private readonly checker: ConfigChecker,
  ) {}

  /**
   * Publishes the next version of a profile. The profile row is locked for the
   * transaction, so concurrent publishes get consecutive numbers, and content
   * equal to the latest version is refused.
   */
  async publish(profileName: string, input: PublishInput, createdBy: string): Promise<VersionRecord> {
    const prepared = prepareConfig(input.data, this.limits);
    validateDescription(input.description);
    return this.db.transaction(async (r) => {
      const profile = await r.profiles.lockByName(profileName);
      if (!profile) throw profileNotFound(profileName);
      await this.checker.checkConfig(r, profile, prepared.data);
      const latest = await r.versions.latest(profile);
      assertNotDuplicateOfLatest(prepared.hash, latest, profileName);
      const version = await r.profiles.allocateVersionNumber(profile.id);
      return r.versions.insert(profile, {
        version,
        data: prepared.data,
        hash: prepared.hash,
        description: input.description ?? null,
        createdBy,
      });
    });
  }

  /** The version, or null when the profile or the version does not exist. */
  async get(profileName: string, version: number): Promise<VersionRecord | null> {
    assertVersionNumber(version, 'version');
    return this.db.read(async (r) => {
      const profile = await r.profiles.findByName(profileName);
      return profile ? r.versions.get(profile, version) : null;
    });
  }

  latest(profile: ProfileRef): Promise<VersionRecord | null> {
    return this.db.read((r) => r.versions.latest(profile));
  }

  async list(profile: ProfileRef, first: number | null | undefined, after: string | null | undefined): Promise<Connection<VersionRecord>> {
    const limit = pageSize(first, 20);
    const before = after ? parseVersionCursor(after) : null;
    return this.db.read(async (r) => {
      const [rows, total] = await Promise.all([r.versions.list(profile, before, limit + 1), r.versions.count(profile)]);
      return toConnection(rows, limit, total, (v) => encodeCursor({ v: v.version }));
    });
  }

  async diff(profileName: string, from: number, to: number): Promise<VersionDiffResult> {
    assertVersionNumber(from, 'from');
    assertVersionNumber(to, 'to');
    const [a, b] = await this.db.read(async (r) => {
      const profile = await r.profiles.findByName(profileName);
      if (!profile) throw profileNotFound(profileName);
      return Promise.all([r.versions.get(profile, from), r.versions.get(profile, to)]);
    });
    if (!a) throw versionNotFound(profileName, from);
    if (!b) throw versionNotFound(profileName, to);
    return { profileName, from, to, ...diffConfigs(a.data, b.data) };
  }

  async delete(profileName: string, version: number): Promise<true> {
    assertVersionNumber(version, 'version');
    await this.db.transaction(async (r) => {
      const profile = await r.profiles.lockByName(profileName);
      if (!profile) throw profileNotFound(profileName);
      if (profile.activeVersion === version || (await r.deployments.referencesVersion(profile.id, version))) {
        throw new ConflictError(
          `version ${version} of profile "${profileName}" is or was the active version of a deployment and cannot be deleted`,
          { profileName, version },
        );
      }
      if (!(await r.versions.delete(profile, version))) throw versionNotFound(profileName, version);
    });
    return true;
  }
}

function versionNotFound(profileName: string, version: number): NotFoundError {
  return new NotFoundError(`version ${version} of profile "${profileName}" not found`, { profileName, version });
}

function assertVersionNumber(n: number, field: string): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new BadInputError(`${field} must be a version number (1 or more), got ${n}`, { field });
  }
}

function parseVersionCursor(cursor: string): number {
  const { v } = decodeCursor(cursor);
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new BadInputError('invalid cursor: it does not come from a versions list', { field: 'after' });
  }
  return v;
}
