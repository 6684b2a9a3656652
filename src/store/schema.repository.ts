import type { EntityManager } from '@mikro-orm/postgresql';
import type { SchemaStatus } from '../domain/enums.js';
import type { JsonObject } from '../domain/json.js';
import type { SchemaRecord } from '../domain/records.js';

type Row = Record<string, unknown>;

export interface NewSchema {
  id: string;
  name: string;
  schema: JsonObject;
  hash: string;
  description: string | null;
  createdBy: string;
}

export interface SchemaDecision {
  status: SchemaStatus;
  by: string;
  comment: string | null;
  at: Date;
}

/** JSON Schema versions and their approval workflow. */
export class SchemaRepository {
  constructor(private readonly em: EntityManager) {}

  /** Inserts the next schemaVersion of `name` (1 for a new name); serialized per name by an advisory lock. */
  async insertNextVersion(s: NewSchema, at: Date): Promise<SchemaRecord> {
    await this.em.execute('select pg_advisory_xact_lock(hashtext(?))', [`schema:${s.name}`]);
    const rows = await this.em.execute<Row[]>(
      `insert into config_schema (id, name, schema_version, schema, hash, status, description, created_by, created_at)
       select ?, ?, coalesce(max(schema_version), 0) + 1, ?::jsonb, ?, 'DRAFT', ?, ?, ? from config_schema where name = ?
       returning *`,
      [s.id, s.name, JSON.stringify(s.schema), s.hash, s.description, s.createdBy, at, s.name],
    );
    return toRecord(rows[0]!);
  }

  async get(id: string): Promise<SchemaRecord | null> {
    const rows = await this.em.execute<Row[]>('select * from config_schema where id = ?', [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Locks the schema row for this transaction (status changes). */
  async lock(id: string): Promise<SchemaRecord | null> {
    const rows = await this.em.execute<Row[]>('select * from config_schema where id = ? for update', [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Newest first. */
  async list(status: SchemaStatus | null): Promise<SchemaRecord[]> {
    const rows = await this.em.execute<Row[]>(
      `select * from config_schema ${status ? 'where status = ?' : ''} order by created_at desc, name, schema_version desc limit 500`,
      status ? [status] : [],
    );
    return rows.map(toRecord);
  }

  /** The newest APPROVED version of `name` older than `beforeVersion`. */
  async previousApproved(name: string, beforeVersion: number): Promise<SchemaRecord | null> {
    const rows = await this.em.execute<Row[]>(
      `select * from config_schema where name = ? and schema_version < ? and status = 'APPROVED'
       order by schema_version desc limit 1`,
      [name, beforeVersion],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async submit(id: string, by: string, at: Date, compatibility: unknown): Promise<SchemaRecord> {
    const rows = await this.em.execute<Row[]>(
      `update config_schema set status = 'PENDING_APPROVAL', submitted_by = ?, submitted_at = ?, compatibility = ?::jsonb
       where id = ? returning *`,
      [by, at, JSON.stringify(compatibility), id],
    );
    return toRecord(rows[0]!);
  }

  async decide(id: string, d: SchemaDecision): Promise<SchemaRecord> {
    const rows = await this.em.execute<Row[]>(
      'update config_schema set status = ?, decided_by = ?, decided_at = ?, decision_comment = ? where id = ? returning *',
      [d.status, d.by, d.at, d.comment, id],
    );
    return toRecord(rows[0]!);
  }

  /**
   * Profiles bound to any version of the schema `name`, with their active and
   * latest config, for the compatibility report.
   */
  async boundProfiles(name: string): Promise<Array<{ profileName: string; configs: Array<{ which: 'active' | 'latest'; version: number; data: JsonObject }> }>> {
    const rows = await this.em.execute<Row[]>(
      `select p.name as profile_name, a.version as active_version, a.data as active_data, l.version as latest_version, l.data as latest_data
       from config_profile p
       join config_schema s on s.id = p.schema_id and s.name = ?
       left join config_version a on a.profile_id = p.id and a.version = p.active_version
       left join lateral (select version, data from config_version v where v.profile_id = p.id order by version desc limit 1) l on true
       order by p.name`,
      [name],
    );
    return rows.map((r) => ({
      profileName: String(r.profile_name),
      configs: [
        ...(r.active_version === null ? [] : [{ which: 'active' as const, version: Number(r.active_version), data: r.active_data as JsonObject }]),
        ...(r.latest_version === null ? [] : [{ which: 'latest' as const, version: Number(r.latest_version), data: r.latest_data as JsonObject }]),
      ],
    }));
  }
}

function date(v: unknown): Date | null {
  return v === null || v === undefined ? null : new Date(v as string);
}

function toRecord(r: Row): SchemaRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    schemaVersion: Number(r.schema_version),
    schema: r.schema as JsonObject,
    hash: String(r.hash),
    status: r.status as SchemaStatus,
    description: (r.description as string | null) ?? null,
    createdBy: String(r.created_by),
    createdAt: date(r.created_at)!,
    submittedBy: (r.submitted_by as string | null) ?? null,
    submittedAt: date(r.submitted_at),
    decidedBy: (r.decided_by as string | null) ?? null,
    decidedAt: date(r.decided_at),
    decisionComment: (r.decision_comment as string | null) ?? null,
    compatibility: r.compatibility ?? null,
  };
}
