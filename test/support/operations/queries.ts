import { ENVIRONMENTS, enumOf, req, S } from './inputs.js';
import { HUMANS, type Operation } from './operation.js';

/** Every query of schema.graphql (see operation.ts). */
export const QUERIES: readonly Operation[] = [
  {
    name: 'activeColor',
    kind: 'query',
    document: 'query($service: String!, $environment: Environment!) { activeColor(service: $service, environment: $environment) }',
    variables: { service: req(S.String), environment: enumOf(ENVIRONMENTS, true) },
    valid: (f) => ({ service: f.service, environment: 'STAGING' }),
    allowed: HUMANS,
  },
  {
    name: 'deployment',
    kind: 'query',
    document: 'query($id: ID!) { deployment(id: $id) { id status } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.deploymentId }),
    allowed: HUMANS,
  },
  {
    name: 'deployments',
    kind: 'query',
    document: 'query($first: Int, $profileName: String) { deployments(first: $first, profileName: $profileName) { totalCount } }',
    variables: { first: S.Int, profileName: S.String },
    valid: (f) => ({ first: 5, profileName: f.deployedProfile }),
    allowed: HUMANS,
  },
  {
    name: 'instances',
    kind: 'query',
    document: 'query($service: String) { instances(service: $service) { id } }',
    variables: { service: S.String },
    valid: (f) => ({ service: f.service }),
    allowed: HUMANS,
  },
  {
    name: 'instance',
    kind: 'query',
    document: 'query($id: ID!) { instance(id: $id) { id } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.instanceId }),
    allowed: [...HUMANS, 'INSTANCE'],
  },
  {
    name: 'profiles',
    kind: 'query',
    document: 'query($service: String) { profiles(first: 5, service: $service) { totalCount } }',
    variables: { service: S.String },
    valid: (f) => ({ service: f.service }),
    allowed: HUMANS,
  },
  {
    name: 'profile',
    kind: 'query',
    document: 'query($name: String!) { profile(name: $name) { name } }',
    variables: { name: req(S.String) },
    valid: (f) => ({ name: f.profile }),
    allowed: HUMANS,
  },
  {
    name: 'schemas',
    kind: 'query',
    document: 'query($status: SchemaStatus) { schemas(status: $status) { id } }',
    variables: { status: enumOf(['DRAFT', 'PENDING_APPROVAL', 'APPROVED', 'REJECTED']) },
    valid: () => ({ status: 'APPROVED' }),
    allowed: HUMANS,
  },
  {
    name: 'schema',
    kind: 'query',
    document: 'query($id: ID!) { schema(id: $id) { id } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.approvedSchemaId }),
    allowed: HUMANS,
  },
  {
    name: 'validateConfig',
    kind: 'query',
    document: 'query($data: JSON!, $schemaId: ID!) { validateConfig(data: $data, schemaId: $schemaId) { valid } }',
    variables: { data: req(S.JSON), schemaId: req(S.ID) },
    valid: (f) => ({ data: { a: 1 }, schemaId: f.approvedSchemaId }),
    allowed: HUMANS,
  },
  {
    name: 'version',
    kind: 'query',
    document: 'query($profileName: String!, $version: Int!) { version(profileName: $profileName, version: $version) { version } }',
    variables: { profileName: req(S.String), version: req(S.Int) },
    valid: (f) => ({ profileName: f.profile, version: 1 }),
    allowed: HUMANS,
  },
  {
    name: 'versionDiff',
    kind: 'query',
    document: 'query($profileName: String!, $from: Int!, $to: Int!) { versionDiff(profileName: $profileName, from: $from, to: $to) { changes { op path } } }',
    variables: { profileName: req(S.String), from: req(S.Int), to: req(S.Int) },
    valid: (f) => ({ profileName: f.profile, from: 1, to: 2 }),
    allowed: HUMANS,
  },
];

/** Every subscription of schema.graphql. */
export const SUBSCRIPTIONS: readonly Operation[] = [
  {
    name: 'configUpdates',
    kind: 'subscription',
    document: 'subscription($instanceId: ID!) { configUpdates(instanceId: $instanceId) { profileName version hash } }',
    variables: { instanceId: req(S.ID) },
    valid: (f) => ({ instanceId: f.instanceId }),
    allowed: ['ADMIN', 'INSTANCE'],
  },
  {
    name: 'deploymentEvents',
    kind: 'subscription',
    document: 'subscription($id: ID!) { deploymentEvents(id: $id) { type status } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.deploymentId }),
    allowed: HUMANS,
  },
];
