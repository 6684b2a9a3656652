import type { Command } from 'commander';
import { Environment } from '../../domain/enums.js';
import { connect } from '../connection.js';
import { createOut, type Out } from '../output.js';
import { badInput, enumValue, examples, fields, notFound, positiveInt, shortHash, shortTime } from './resource-support.js';

const FIELDS = `id name service environment description createdAt updatedAt
  schema { id name schemaVersion status }
  latestVersion { version hash createdBy createdAt }
  activeVersion { version hash }`;

interface VersionRef {
  version: number;
  hash: string;
  createdBy?: string;
  createdAt?: string;
}

interface Profile {
  id: string;
  name: string;
  service: string;
  environment: string;
  description: string | null;
  createdAt: string;
  updatedAt: string;
  schema: { id: string; name: string; schemaVersion: number; status: string } | null;
  latestVersion: VersionRef | null;
  activeVersion: VersionRef | null;
  versions?: { totalCount: number };
}

const schemaText = (s: Profile['schema']) => (s ? `${s.name} v${s.schemaVersion} (${s.status}, ${s.id})` : null);

/** `hotswap profile create|list|show|update|delete`. */
export function registerProfileCommands(program: Command, env: NodeJS.ProcessEnv): void {
  const out = createOut(process.stdout, env);
  const profile = program
    .command('profile')
    .description('Config profiles: one service in one environment, with versioned configs')
    .addHelpText('after', examples('hotswap profile create orders-staging --service orders --environment STAGING', 'hotswap profile list --json'));

  profile
    .command('create')
    .description('Create a profile')
    .argument('<name>', 'unique slug: lowercase letters, digits and hyphens')
    .requiredOption('--service <service>', 'the service its instances run')
    .requiredOption('--environment <environment>', `one of ${Object.values(Environment).join(', ')}`, enumValue(Environment))
    .option('--schema <id>', 'the JSON Schema every version is validated against (APPROVED for PRODUCTION)')
    .option('--description <text>', 'what the profile is for')
    .option('--json', 'print the created profile as JSON')
    .addHelpText('after', examples('hotswap profile create orders-prod --service orders --environment PRODUCTION --schema 3f1c…'))
    .action(async (name: string, o: { service: string; environment: Environment; schema?: string; description?: string; json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ createProfile: Profile }>(
        `mutation($input: CreateProfileInput!) { createProfile(input: $input) { ${FIELDS} } }`,
        { input: { name, service: o.service, environment: o.environment, schemaId: o.schema, description: o.description } },
      );
      if (o.json) return out.json(data);
      const p = data.createProfile;
      out.line(`created profile ${p.name} (service ${p.service}, ${p.environment}${p.schema ? `, schema ${p.schema.name} v${p.schema.schemaVersion}` : ''})`);
    });

  profile
    .command('list')
    .description('List profiles, newest first')
    .option('--service <service>', 'only this service')
    .option('--environment <environment>', 'only this environment', enumValue(Environment))
    .option('--limit <n>', 'how many to show (1–100)', positiveInt('--limit', 100), 50)
    .option('--after <cursor>', 'the page after this cursor (pageInfo.endCursor of --json)')
    .option('--json', 'print the GraphQL data as JSON')
    .addHelpText('after', examples('hotswap profile list --service orders --environment STAGING'))
    .action(async (o: { service?: string; environment?: Environment; limit: number; after?: string; json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{
        profiles: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: Profile }> };
      }>(
        `query($service: String, $environment: Environment, $first: Int, $after: String) {
          profiles(service: $service, environment: $environment, first: $first, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { ${FIELDS} } }
          }
        }`,
        { service: o.service, environment: o.environment, first: o.limit, after: o.after },
      );
      if (o.json) return out.json(data);
      const { edges, totalCount, pageInfo } = data.profiles;
      if (edges.length === 0) return out.line('no profiles');
      out.table(
        edges.map(({ node: p }) => ({
          name: p.name,
          service: p.service,
          environment: p.environment,
          latest: p.latestVersion?.version,
          active: p.activeVersion?.version,
          schema: p.schema ? `${p.schema.name} v${p.schema.schemaVersion}` : null,
          updated: shortTime(p.updatedAt),
        })),
        ['name', 'service', 'environment', 'latest', 'active', 'schema', 'updated'],
      );
      if (pageInfo.hasNextPage) out.line(`(${edges.length} of ${totalCount}; next page: --after ${pageInfo.endCursor})`);
    });

  profile
    .command('show')
    .description('Show a profile with its schema, latest and active version')
    .argument('<name>', 'the profile')
    .option('--json', 'print the GraphQL data as JSON')
    .addHelpText('after', examples('hotswap profile show orders-staging'))
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ profile: Profile | null }>(
        `query($name: String!) { profile(name: $name) { ${FIELDS} versions(first: 1) { totalCount } } }`,
        { name },
      );
      if (!data.profile) throw notFound(`profile "${name}"`);
      if (o.json) return out.json(data);
      printProfile(out, data.profile);
    });

  profile
    .command('update')
    .description('Change the description or the bound schema of a profile')
    .argument('<name>', 'the profile')
    .option('--description <text>', 'the new description')
    .option('--schema <id>', 'bind this schema (APPROVED for PRODUCTION)')
    .option('--no-schema', 'unbind the schema')
    .option('--json', 'print the updated profile as JSON')
    .addHelpText('after', examples('hotswap profile update orders-staging --schema 3f1c… --description "orders API, staging"'))
    .action(async (name: string, o: { description?: string; schema?: string | false; json?: boolean }, cmd: Command) => {
      if (o.description === undefined && o.schema === undefined) throw badInput('nothing to update: pass --description, --schema <id> or --no-schema');
      const input: { description?: string; schemaId?: string | null } = {};
      if (o.description !== undefined) input.description = o.description;
      if (o.schema !== undefined) input.schemaId = o.schema === false ? null : o.schema;
      const data = await connect(cmd, env).request<{ updateProfile: Profile }>(
        `mutation($name: String!, $input: UpdateProfileInput!) { updateProfile(name: $name, input: $input) { ${FIELDS} } }`,
        { name, input },
      );
      if (o.json) return out.json(data);
      const p = data.updateProfile;
      out.line(`updated profile ${p.name}: description ${p.description === null ? '-' : JSON.stringify(p.description)}, schema ${schemaText(p.schema) ?? '-'}`);
    });

  profile
    .command('delete')
    .description('Delete a profile and all its versions (ADMIN)')
    .argument('<name>', 'the profile')
    .addHelpText('after', examples('hotswap profile delete orders-sandbox'))
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await connect(cmd, env).request<{ deleteProfile: boolean }>(`mutation($name: String!) { deleteProfile(name: $name) }`, { name });
      out.line(`deleted profile ${name} and its versions`);
    });
}

function printProfile(out: Out, p: Profile): void {
  const version = (v: VersionRef | null) => (v ? `${v.version} (${shortHash(String(v.hash))}${v.createdAt ? `, ${String(shortTime(v.createdAt))} by ${v.createdBy}` : ''})` : null);
  fields(out, [
    ['name', p.name],
    ['service', p.service],
    ['environment', p.environment],
    ['description', p.description],
    ['schema', schemaText(p.schema)],
    ['latest version', version(p.latestVersion)],
    ['active version', version(p.activeVersion)],
    ['versions', p.versions?.totalCount],
    ['created', shortTime(p.createdAt)],
    ['updated', shortTime(p.updatedAt)],
    ['id', p.id],
  ]);
}
