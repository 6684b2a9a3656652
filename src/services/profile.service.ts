import type { Environment } from '../domain/enums.js';
import { BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../domain/pagination.js';
import { type NewProfile, validateDescription, validateNewProfile, validateProfileName } from '../domain/profile.js';
import { type Connection, type ProfileRecord, toConnection } from '../domain/records.js';
import type { Database } from '../store/database.js';
import type { ProfileCursor } from '../store/profile.repository.js';

export interface ProfileListArgs {
  service?: string | null;
  environment?: Environment | null;
  first?: number | null;
  after?: string | null;
}

/** Says whether a profile in an environment may be bound to a schema. */
export interface SchemaBindingCheck {
  checkBinding(schemaId: string, environment: Environment): Promise<void>;
}

/** Creates, changes, lists and deletes config profiles. */
export class ProfileService {
  constructor(
    private readonly db: Database,
    private readonly schemas: SchemaBindingCheck,
  ) {}

  async create(input: NewProfile): Promise<ProfileRecord> {
    validateNewProfile(input);
    if (input.schemaId !== undefined && input.schemaId !== null) await this.schemas.checkBinding(input.schemaId, input.environment);
    return this.db.transaction((r) => r.profiles.insert(input));
  }

  /** Changes the description and the bound schema (`schemaId: null` unbinds it). */
  async update(name: string, patch: { description?: string | null; schemaId?: string | null }): Promise<ProfileRecord> {
    validateProfileName(name);
    validateDescription(patch.description);
    if (patch.schemaId !== undefined && patch.schemaId !== null) {
      const profile = await this.get(name);
      if (!profile) throw profileNotFound(name);
      await this.schemas.checkBinding(patch.schemaId, profile.environment);
    }
    const updated = await this.db.transaction((r) => r.profiles.update(name, patch));
    if (!updated) throw profileNotFound(name);
    return updated;
  }

  /** Deletes the profile with all its versions. */
  async delete(name: string): Promise<true> {
    validateProfileName(name);
    await this.db.transaction(async (r) => {
      const profile = await r.profiles.lockByName(name);
      if (!profile) throw profileNotFound(name);
      const running = await r.deployments.findActiveForProfile(profile.id);
      if (running) {
        throw new ConflictError(`profile "${name}" has deployment ${running.id} ${running.status}; wait for it to end or roll it back first`, {
          runningDeploymentId: running.id,
        });
      }
      await r.profiles.delete(name);
    });
    return true;
  }

  /** The profile, or null when there is none of that name. */
  get(name: string): Promise<ProfileRecord | null> {
    return this.db.read((r) => r.profiles.findByName(name));
  }

  async list(args: ProfileListArgs): Promise<Connection<ProfileRecord>> {
    const limit = pageSize(args.first, 50);
    const after = args.after ? parseProfileCursor(args.after) : null;
    const filter = { service: args.service ?? undefined, environment: args.environment ?? undefined };
    return this.db.read(async (r) => {
      const [rows, total] = await Promise.all([r.profiles.list(filter, after, limit + 1), r.profiles.count(filter)]);
      return toConnection(rows, limit, total, (p) => encodeCursor({ c: p.createdAt.toISOString(), i: p.id }));
    });
  }
}

export function profileNotFound(name: string): NotFoundError {
  return new NotFoundError(`profile "${name}" not found`, { profileName: name });
}

function parseProfileCursor(cursor: string): ProfileCursor {
  const { c, i } = decodeCursor(cursor);
  const createdAt = new Date(String(c));
  if (typeof i !== 'string' || Number.isNaN(createdAt.getTime())) {
    throw new BadInputError('invalid cursor: it does not come from the profiles list', { field: 'after' });
  }
  return { createdAt, id: i };
}
