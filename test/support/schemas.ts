import { type Api, ok } from './api.js';
import type { TestServer } from './server.js';

/** The schema API as the schema tests (test/api/schemas*.test.ts) call it. */

export const SCHEMA_FIELDS =
  'id name schemaVersion schema status description createdBy approvedBy rejectedBy submittedBy submittedAt decidedAt decisionComment compatibility createdAt';
export const REGISTER = `mutation($input: RegisterSchemaInput!) { registerSchema(input: $input) { ${SCHEMA_FIELDS} } }`;
export const SUBMIT = `mutation($id: ID!) { submitSchemaForApproval(id: $id) { ${SCHEMA_FIELDS} } }`;
export const APPROVE = `mutation($id: ID!, $comment: String) { approveSchema(id: $id, comment: $comment) { ${SCHEMA_FIELDS} } }`;
export const REJECT = `mutation($id: ID!, $reason: String!) { rejectSchema(id: $id, reason: $reason) { ${SCHEMA_FIELDS} } }`;
export const LIST = `query($status: SchemaStatus) { schemas(status: $status) { ${SCHEMA_FIELDS} } }`;
export const GET = `query($id: ID!) { schema(id: $id) { ${SCHEMA_FIELDS} } }`;
export const VALIDATE = `query($id: ID!, $data: JSON!) { validateConfig(schemaId: $id, data: $data) { valid errors { path message keyword } } }`;

export const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

export interface Issue {
  path: string;
  message: string;
  keyword: string;
}

export interface CompatibilityShape {
  previousApprovedVersion: number | null;
  breakingChanges: Array<{ path: string; kind: string; message: string }>;
  profiles: Array<{ profileName: string; which: string; version: number; valid: boolean; errors: Issue[] }>;
  compatible: boolean;
  computedAt: string;
}

export interface SchemaShape {
  id: string;
  name: string;
  schemaVersion: number;
  schema: unknown;
  status: string;
  description: string | null;
  createdBy: string;
  approvedBy: string | null;
  rejectedBy: string | null;
  submittedBy: string | null;
  submittedAt: string | null;
  decidedAt: string | null;
  decisionComment: string | null;
  compatibility: CompatibilityShape | null;
  createdAt: string;
}

/** Who the calls run as, once the file's beforeAll made them. */
export interface SchemaCallers {
  a: Api;
  server: TestServer;
  /** DEVELOPER dev-alice: registers and submits by default. */
  dev: string;
  /** ADMIN admin-bob: approves and rejects by default. */
  admin: string;
}

/** The schema calls of the tests, failing the test when refused; `callers()` answers once the server runs. */
export function schemaCalls(callers: () => SchemaCallers) {
  async function register(name: string, schema: unknown, token: string = callers().dev, description?: string): Promise<SchemaShape> {
    return ok(await callers().a.gql<{ registerSchema: SchemaShape }>(REGISTER, { input: { name, schema, description } }, token)).registerSchema;
  }
  async function submit(id: string, token: string = callers().dev): Promise<SchemaShape> {
    return ok(await callers().a.gql<{ submitSchemaForApproval: SchemaShape }>(SUBMIT, { id }, token)).submitSchemaForApproval;
  }
  async function approve(id: string, comment?: string, token: string = callers().admin): Promise<SchemaShape> {
    return ok(await callers().a.gql<{ approveSchema: SchemaShape }>(APPROVE, { id, comment }, token)).approveSchema;
  }
  async function reject(id: string, reason: string, token: string = callers().admin): Promise<SchemaShape> {
    return ok(await callers().a.gql<{ rejectSchema: SchemaShape }>(REJECT, { id, reason }, token)).rejectSchema;
  }
  /** The schema as stored (read back as ADMIN). */
  async function read(id: string): Promise<SchemaShape | null> {
    return ok(await callers().a.gql<{ schema: SchemaShape | null }>(GET, { id })).schema;
  }
  async function pending(name: string, schema: unknown = { type: 'object' }): Promise<SchemaShape> {
    return submit((await register(name, schema)).id);
  }
  /** Rows stored under `name`, straight from PostgreSQL. */
  async function rowCount(name: string): Promise<number> {
    const rows = await callers().server.db.query<{ n: number }>('select count(*)::int as n from config_schema where name = $1', [name]);
    return rows[0]?.n ?? 0;
  }
  async function totalRows(): Promise<number> {
    const rows = await callers().server.db.query<{ n: number }>('select count(*)::int as n from config_schema');
    return rows[0]?.n ?? 0;
  }
  async function validate(id: string, data: unknown, token: string | null = callers().dev) {
    return callers().a.gql<{ validateConfig: { valid: boolean; errors: Issue[] } }>(VALIDATE, { id, data }, token);
  }
  return { register, submit, approve, reject, read, pending, rowCount, totalRows, validate };
}
