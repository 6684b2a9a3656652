import { randomUUID } from 'node:crypto';
import { authorize, type Principal } from '../domain/authorization.js';
import { Environment, SchemaStatus } from '../domain/enums.js';
import { BadInputError, NotFoundError, ValidationFailedError, type ValidationIssue } from '../domain/errors.js';
import type { JsonObject } from '../domain/json.js';
import { validateDescription } from '../domain/profile.js';
import type { ProfileRecord, SchemaRecord } from '../domain/records.js';
import { assertSchemaTransition, validateSchemaName } from '../domain/json-schema.js';
import type { Database, Repositories } from '../store/database.js';
import { compareSchemas } from '../json-schema/compatibility.js';
import type { SandboxedValidator } from '../json-schema/sandboxed-validator.js';
import type { SchemaCompiler } from '../json-schema/schema-compiler.js';
import { buildCompatibilityReport } from './compatibility-report.js';
import { isUuid } from '../domain/ids.js';

const MAX_REASON_LENGTH = 2000;

export interface RegisterSchemaInput {
  name: string;
  schema: unknown;
  description?: string | null;
}

/** The schema registry: registration, the approval workflow, and validation of configs. */
export class SchemaService {
  constructor(
    private readonly db: Database,
    /** Checks a schema compiles, at registration. */
    private readonly compiler: SchemaCompiler,
    /** Runs validations, in a thread with a time and memory budget. */
    private readonly sandbox: SandboxedValidator,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Registers the next schemaVersion of `name`, as DRAFT; a schema that does not compile is refused. */
  async register(principal: Principal | undefined, input: RegisterSchemaInput): Promise<SchemaRecord> {
    const caller = authorize(principal, 'schema:register');
    validateSchemaName(input.name);
    validateDescription(input.description);
    const compiled = this.compiler.compile(input.schema);
    const id = randomUUID();
    const record = await this.db.transaction((r) =>
      r.schemas.insertNextVersion(
        { id, name: input.name, schema: input.schema as JsonObject, hash: compiled.hash, description: input.description ?? null, createdBy: caller.sub },
        this.now(),
      ),
    );
    return record;
  }

  list(principal: Principal | undefined, status: SchemaStatus | null): Promise<SchemaRecord[]> {
    authorize(principal, 'profile:read');
    return this.db.read((r) => r.schemas.list(status));
  }

  async get(principal: Principal | undefined, id: string): Promise<SchemaRecord | null> {
    authorize(principal, 'profile:read');
    return isUuid(id) ? this.db.read((r) => r.schemas.get(id)) : null;
  }

  /** The schema bound to a profile (no role check: the caller already read the profile). */
  bound(schemaId: string): Promise<SchemaRecord | null> {
    return this.db.read((r) => r.schemas.get(schemaId));
  }

  /**
   * DRAFT → PENDING_APPROVAL, storing the compatibility report the approving
   * admin reads: breaking changes against the previous APPROVED version, and
   * whether each bound profile's active and latest config still validate.
   */
  async submit(principal: Principal | undefined, id: string): Promise<SchemaRecord> {
    const caller = authorize(principal, 'schema:submit');
    return this.db.transaction(async (r) => {
      const schema = await this.lockOrThrow(r, id);
      assertSchemaTransition(schema.status, SchemaStatus.PENDING_APPROVAL);
      const previous = await r.schemas.previousApproved(schema.name, schema.schemaVersion);
      const profiles = await r.schemas.boundProfiles(schema.name);
      const issues = new Map<JsonObject, ValidationIssue[]>();
      for (const p of profiles) for (const c of p.configs) issues.set(c.data, await this.issuesOf(schema, c.data));
      const report = buildCompatibilityReport({
        previous,
        breakingChanges: previous ? compareSchemas(previous.schema, schema.schema) : [],
        profiles,
        validate: (data) => issues.get(data) ?? [],
        at: this.now(),
      });
      return r.schemas.submit(id, caller.sub, this.now(), report);
    });
  }

  async approve(principal: Principal | undefined, id: string, comment: string | null): Promise<SchemaRecord> {
    const caller = authorize(principal, 'schema:approve');
    if (comment !== null) validateReason(comment, 'comment');
    return this.decide(id, SchemaStatus.APPROVED, caller.sub, comment);
  }

  async reject(principal: Principal | undefined, id: string, reason: string): Promise<SchemaRecord> {
    const caller = authorize(principal, 'schema:approve');
    validateReason(reason, 'reason');
    if (reason.trim() === '') throw new BadInputError('a rejection needs a reason', { field: 'reason' });
    return this.decide(id, SchemaStatus.REJECTED, caller.sub, reason.trim());
  }

  /** validateConfig: every failure with its JSON Pointer path. */
  async validate(principal: Principal | undefined, schemaId: string, data: unknown): Promise<{ valid: boolean; errors: ValidationIssue[] }> {
    authorize(principal, 'profile:read');
    const schema = await this.require(schemaId);
    const errors = await this.issuesOf(schema, data);
    return { valid: errors.length === 0, errors };
  }

  /**
   * May a profile in `environment` be bound to `schemaId`? It must exist, and a
   * PRODUCTION profile takes only an APPROVED schema.
   */
  async checkBinding(schemaId: string, environment: Environment): Promise<void> {
    const schema = await this.require(schemaId);
    if (environment === Environment.PRODUCTION && schema.status !== SchemaStatus.APPROVED) {
      throw new BadInputError(
        `schema ${schema.name} v${schema.schemaVersion} is ${schema.status}: a PRODUCTION profile takes only an APPROVED schema`,
        { field: 'schemaId' },
      );
    }
  }

  /**
   * Checks a config about to be published: against the bound schema (every
   * failure, VALIDATION_FAILED), and a PRODUCTION profile must have one.
   */
  async checkConfig(r: Repositories, profile: ProfileRecord, data: JsonObject): Promise<void> {
    if (profile.schemaId === null) {
      if (profile.environment === Environment.PRODUCTION) {
        throw new ValidationFailedError(
          `profile "${profile.name}" is in PRODUCTION and has no schema: bind an APPROVED schema (updateProfile schemaId) before publishing`,
          [],
        );
      }
      return;
    }
    const schema = await r.schemas.get(profile.schemaId);
    if (!schema) throw new NotFoundError(`schema ${profile.schemaId} of profile "${profile.name}" not found`);
    const errors = await this.issuesOf(schema, data);
    if (errors.length > 0) {
      throw new ValidationFailedError(
        `the config does not match schema ${schema.name} v${schema.schemaVersion}: ${errors.length} error${errors.length === 1 ? '' : 's'}`,
        errors,
      );
    }
  }

  private async decide(id: string, status: SchemaStatus, by: string, comment: string | null): Promise<SchemaRecord> {
    return this.db.transaction(async (r) => {
      const schema = await this.lockOrThrow(r, id);
      assertSchemaTransition(schema.status, status);
      return r.schemas.decide(id, { status, by, comment, at: this.now() });
    });
  }

  private issuesOf(schema: SchemaRecord, data: unknown): Promise<ValidationIssue[]> {
    return this.sandbox.validate(schema.hash, schema.schema, data);
  }

  private async require(id: string): Promise<SchemaRecord> {
    const schema = isUuid(id) ? await this.db.read((r) => r.schemas.get(id)) : null;
    if (!schema) throw new NotFoundError(`schema ${id} not found`, { field: 'schemaId' });
    return schema;
  }

  private async lockOrThrow(r: Repositories, id: string): Promise<SchemaRecord> {
    const schema = isUuid(id) ? await r.schemas.lock(id) : null;
    if (!schema) throw new NotFoundError(`schema ${id} not found`);
    return schema;
  }
}

function validateReason(text: string, field: string): void {
  if (text.length > MAX_REASON_LENGTH) throw new BadInputError(`${field} must be at most ${MAX_REASON_LENGTH} characters`, { field });
}
