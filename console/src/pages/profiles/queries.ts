/** The GraphQL documents and result shapes of the profiles section (public API only). */

import type { Environment } from '../../api/enums';

export { Environment, ENVIRONMENTS } from '../../api/enums';

export interface SchemaRef {
  id: string;
  name: string;
  schemaVersion: number;
  status: string;
}

export interface VersionSummary {
  id: string;
  version: number;
  hash: string;
  description: string | null;
  createdBy: string;
  createdAt: string;
}

export interface VersionFull extends VersionSummary {
  data: unknown;
}

export interface ProfileRow {
  id: string;
  name: string;
  service: string;
  environment: Environment;
  description: string | null;
  updatedAt: string;
  schema: SchemaRef | null;
  latestVersion: { version: number } | null;
  activeVersion: { version: number } | null;
}

export interface Connection<T> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: T }[];
}

const SCHEMA_REF = 'id name schemaVersion status';
const VERSION_SUMMARY = 'id version hash description createdBy createdAt';

export const PROFILES = `query Profiles($service: String, $environment: Environment, $first: Int, $after: String) {
  profiles(service: $service, environment: $environment, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name service environment description updatedAt schema { ${SCHEMA_REF} } latestVersion { version } activeVersion { version } } }
  }
}`;

export interface ProfileDetail {
  id: string;
  name: string;
  service: string;
  environment: Environment;
  description: string | null;
  createdAt: string;
  updatedAt: string;
  schema: SchemaRef | null;
  activeVersion: VersionSummary | null;
  latestVersion: VersionSummary | null;
  versions: Connection<VersionSummary>;
}

export const PROFILE = `query Profile($name: String!, $first: Int) {
  profile(name: $name) {
    id name service environment description createdAt updatedAt
    schema { ${SCHEMA_REF} }
    activeVersion { ${VERSION_SUMMARY} }
    latestVersion { ${VERSION_SUMMARY} }
    versions(first: $first) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${VERSION_SUMMARY} } } }
  }
}`;

/** What the publish page needs: the binding and the latest data to start from. */
export const PROFILE_FOR_PUBLISH = `query ProfileForPublish($name: String!) {
  profile(name: $name) { id name environment schema { ${SCHEMA_REF} } latestVersion { ${VERSION_SUMMARY} data } }
}`;

export interface ProfileForPublish {
  id: string;
  name: string;
  environment: Environment;
  schema: SchemaRef | null;
  latestVersion: VersionFull | null;
}

export const SCHEMAS = `query Schemas { schemas { ${SCHEMA_REF} } }`;

export const CREATE_PROFILE = `mutation CreateProfile($input: CreateProfileInput!) { createProfile(input: $input) { id name } }`;
export const UPDATE_PROFILE = `mutation UpdateProfile($name: String!, $input: UpdateProfileInput!) { updateProfile(name: $name, input: $input) { id name } }`;

export const PUBLISH_VERSION = `mutation PublishVersion($name: String!, $input: PublishVersionInput!) {
  publishVersion(profileName: $name, input: $input) { ${VERSION_SUMMARY} }
}`;

export interface ValidationIssue {
  path: string;
  message: string;
  keyword: string;
}

export const VALIDATE_CONFIG = `query ValidateConfig($schemaId: ID!, $data: JSON!) { validateConfig(schemaId: $schemaId, data: $data) { valid errors { path message keyword } } }`;

export type ChangeOp = 'ADD' | 'REMOVE' | 'REPLACE';

export interface ConfigChange {
  op: ChangeOp;
  path: string;
  before: unknown;
  after: unknown;
}

export const VERSION_DIFF = `query VersionDiff($name: String!, $from: Int!, $to: Int!) {
  versionDiff(profileName: $name, from: $from, to: $to) { from to changes { op path before after } }
  fromVersion: version(profileName: $name, version: $from) { ${VERSION_SUMMARY} data }
  toVersion: version(profileName: $name, version: $to) { ${VERSION_SUMMARY} data }
}`;

export interface VersionDiffResult {
  versionDiff: { from: number; to: number; changes: ConfigChange[] };
  fromVersion: VersionFull | null;
  toVersion: VersionFull | null;
}

/** The section's URLs (absolute, for links outside the nested router too). */
export const profileHref = (name: string) => `/${encodeURIComponent(name)}`;
export const diffHref = (name: string, from: number, to: number) => `/${encodeURIComponent(name)}/diff?from=${from}&to=${to}`;
