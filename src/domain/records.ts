import type { Environment, SchemaStatus } from './enums.js';
import type { JsonObject } from './json.js';

/** A profile as the services see it (storage-independent). */
export interface ProfileRecord {
  id: string;
  name: string;
  service: string;
  environment: Environment;
  description: string | null;
  /** Highest version number ever assigned (numbers are never reused). */
  lastVersion: number;
  /** Version of the last completed deployment, if any. */
  activeVersion: number | null;
  /** The bound JSON Schema every published version is validated against. */
  schemaId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a version lookup needs of its profile. */
export type ProfileRef = Pick<ProfileRecord, 'id' | 'name'>;

/** An immutable published version of a profile's config. */
export interface VersionRecord {
  id: string;
  profileId: string;
  profileName: string;
  version: number;
  data: JsonObject;
  hash: string;
  description: string | null;
  createdBy: string;
  createdAt: Date;
}

/** A Relay-style page of a newest-first list. */
export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/**
 * Builds a page from up to `limit + 1` fetched rows: the extra row only tells
 * whether there is a next page.
 */
export function toConnection<T>(rows: T[], limit: number, totalCount: number, cursorOf: (row: T) => string): Connection<T> {
  const edges = rows.slice(0, limit).map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount,
  };
}

/** A registered JSON Schema version and its approval state. */
export interface SchemaRecord {
  id: string;
  name: string;
  schemaVersion: number;
  schema: JsonObject;
  hash: string;
  status: SchemaStatus;
  description: string | null;
  createdBy: string;
  createdAt: Date;
  submittedBy: string | null;
  submittedAt: Date | null;
  /** Who approved or rejected it, when, and with what comment. */
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionComment: string | null;
  /** The breaking-change report computed on submission. */
  compatibility: unknown;
}
