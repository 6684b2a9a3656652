/** The schema registry's queries and mutations, and the shapes the console reads. */

export const SCHEMA_FIELDS = `id name schemaVersion schema status description createdBy approvedBy rejectedBy
  submittedBy submittedAt decidedAt decisionComment compatibility createdAt`;

export const SCHEMAS_QUERY = `query Schemas($status: SchemaStatus) { schemas(status: $status) { ${SCHEMA_FIELDS} } }`;
export const SCHEMA_QUERY = `query Schema($id: ID!) { schema(id: $id) { ${SCHEMA_FIELDS} } }`;
export const REGISTER_SCHEMA = `mutation RegisterSchema($input: RegisterSchemaInput!) { registerSchema(input: $input) { ${SCHEMA_FIELDS} } }`;
export const SUBMIT_SCHEMA = `mutation SubmitSchema($id: ID!) { submitSchemaForApproval(id: $id) { ${SCHEMA_FIELDS} } }`;
export const APPROVE_SCHEMA = `mutation ApproveSchema($id: ID!, $comment: String) { approveSchema(id: $id, comment: $comment) { ${SCHEMA_FIELDS} } }`;
export const REJECT_SCHEMA = `mutation RejectSchema($id: ID!, $reason: String!) { rejectSchema(id: $id, reason: $reason) { ${SCHEMA_FIELDS} } }`;

import type { SchemaStatus } from '../../api/enums';

export type { SchemaStatus } from '../../api/enums';

export interface ConfigSchema {
  id: string;
  name: string;
  schemaVersion: number;
  schema: unknown;
  status: SchemaStatus;
  description: string | null;
  createdBy: string;
  approvedBy: string | null;
  rejectedBy: string | null;
  submittedBy: string | null;
  submittedAt: string | null;
  decidedAt: string | null;
  decisionComment: string | null;
  compatibility: unknown;
  createdAt: string;
}

export interface BreakingChange {
  path: string;
  kind: string;
  message: string;
}

export interface ProfileCheck {
  profileName: string;
  which: string;
  version: number;
  valid: boolean;
  errors: Array<{ path: string; message: string; keyword: string }>;
}

/** `ConfigSchema.compatibility`: computed on submission against the previous APPROVED version. */
export interface CompatibilityReport {
  previousApprovedVersion: number | null;
  breakingChanges: BreakingChange[];
  profiles: ProfileCheck[];
  compatible: boolean;
  computedAt: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Reads the report from the JSON scalar without trusting its shape: missing
 * fields become empty, so an unexpected report still renders (never a blank page).
 */
export function readReport(json: unknown): CompatibilityReport | null {
  if (!isObject(json)) return null;
  const breakingChanges = list(json.breakingChanges)
    .filter(isObject)
    .map((c) => ({ path: str(c.path), kind: str(c.kind), message: str(c.message) }));
  const profiles = list(json.profiles)
    .filter(isObject)
    .map((p) => ({
      profileName: str(p.profileName),
      which: str(p.which),
      version: typeof p.version === 'number' ? p.version : 0,
      valid: p.valid === true,
      errors: list(p.errors)
        .filter(isObject)
        .map((e) => ({ path: str(e.path), message: str(e.message), keyword: str(e.keyword) })),
    }));
  return {
    previousApprovedVersion: typeof json.previousApprovedVersion === 'number' ? json.previousApprovedVersion : null,
    breakingChanges,
    profiles,
    compatible: json.compatible === true,
    computedAt: typeof json.computedAt === 'string' ? json.computedAt : null,
  };
}

/** A schema's display name, e.g. `payments v3`. */
export const schemaLabel = (s: Pick<ConfigSchema, 'name' | 'schemaVersion'>) => `${s.name} v${s.schemaVersion}`;
