import type { Command } from 'commander';
import { contentHash } from '../../domain/canonical-json.js';
import { connect } from '../connection.js';
import { readDocument } from '../input.js';
import { createOut } from '../output.js';
import { type Change, diffLines, examples, notFound, positiveInt, shortHash, shortTime } from './resource-support.js';

interface Version {
  id: string;
  profileName: string;
  version: number;
  hash: string;
  description: string | null;
  createdBy: string;
  createdAt: string;
  data?: unknown;
}

const FIELDS = 'id profileName version hash description createdBy createdAt';
const versionNumber = positiveInt('the version');

/** `hotswap version publish|list|show|diff`. */
export function registerVersionCommands(program: Command, env: NodeJS.ProcessEnv): void {
  const out = createOut(process.stdout, env);
  const version = program
    .command('version')
    .description('Immutable versions of a profile\'s config: publish, list, show, diff')
    .addHelpText('after', examples('hotswap version publish --profile orders-staging --file config.yaml', 'hotswap version diff orders-staging 3 4'));

  version
    .command('publish')
    .description('Publish a config file (JSON or YAML) as the next version of a profile')
    .requiredOption('--profile <name>', 'the profile')
    .requiredOption('--file <path>', 'the config: a .json or .yaml file, or - for stdin')
    .option('--description <text>', 'what changed')
    .option('--skip-unchanged', 'exit 0 without publishing when the content equals the latest version (for CI jobs that run on every push)')
    .option('--json', 'print the new version as JSON')
    .addHelpText(
      'after',
      examples('hotswap version publish --profile orders-staging --file config.json --description "raise pool size"', 'render-config | hotswap version publish --profile orders-staging --file -'),
    )
    .action(async (o: { profile: string; file: string; description?: string; skipUnchanged?: boolean; json?: boolean }, cmd: Command) => {
      const api = connect(cmd, env);
      const data = await readDocument(o.file);
      if (o.skipUnchanged) {
        const { profile } = await api.request<{ profile: { latestVersion: { version: number; hash: string } | null } | null }>(
          'query($name: String!) { profile(name: $name) { latestVersion { version hash } } }',
          { name: o.profile },
        );
        if (!profile) throw notFound(`profile "${o.profile}"`);
        // The server identifies versions by the sha256 of their canonical JSON (RFC 8785): the same hash here means the same content.
        if (profile.latestVersion?.hash === contentHash(data)) {
          if (o.json) return out.json({ publishVersion: null, unchanged: profile.latestVersion });
          return out.line(`unchanged: ${o.profile} version ${profile.latestVersion.version} has this content; nothing published`);
        }
      }
      const res = await api.request<{ publishVersion: Version }>(
        `mutation($p: String!, $input: PublishVersionInput!) { publishVersion(profileName: $p, input: $input) { ${FIELDS} } }`,
        { p: o.profile, input: { data, description: o.description } },
      );
      if (o.json) return out.json(res);
      const v = res.publishVersion;
      out.line(`published ${v.profileName} version ${v.version} (sha256 ${v.hash})`);
    });

  version
    .command('list')
    .description('List the versions of a profile, newest first')
    .argument('<profile>', 'the profile')
    .option('--limit <n>', 'how many to show (1–100)', positiveInt('--limit', 100), 20)
    .option('--after <cursor>', 'the page after this cursor (pageInfo.endCursor of --json)')
    .option('--json', 'print the GraphQL data as JSON')
    .addHelpText('after', examples('hotswap version list orders-staging --limit 5'))
    .action(async (profile: string, o: { limit: number; after?: string; json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{
        profile: {
          activeVersion: { version: number } | null;
          versions: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: Version }> };
        } | null;
      }>(
        `query($name: String!, $first: Int, $after: String) {
          profile(name: $name) {
            activeVersion { version }
            versions(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${FIELDS} } } }
          }
        }`,
        { name: profile, first: o.limit, after: o.after },
      );
      if (!data.profile) throw notFound(`profile "${profile}"`);
      if (o.json) return out.json(data);
      const { edges, totalCount, pageInfo } = data.profile.versions;
      if (edges.length === 0) return out.line(`profile ${profile} has no versions yet`);
      const active = data.profile.activeVersion?.version;
      out.table(
        edges.map(({ node: v }) => ({
          version: v.version === active ? `${v.version} (active)` : v.version,
          hash: shortHash(v.hash),
          created: shortTime(v.createdAt),
          by: v.createdBy,
          description: v.description,
        })),
        ['version', 'hash', 'created', 'by', 'description'],
      );
      if (pageInfo.hasNextPage) out.line(`(${edges.length} of ${totalCount}; next page: --after ${pageInfo.endCursor})`);
    });

  version
    .command('show')
    .description('Print the config of a version as JSON (--json: with its metadata)')
    .argument('<profile>', 'the profile')
    .argument('<version>', 'the version number', versionNumber)
    .option('--json', 'print the GraphQL data (metadata and data) as JSON')
    .addHelpText('after', examples('hotswap version show orders-staging 4 > config.json'))
    .action(async (profile: string, n: number, o: { json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ version: Version | null }>(
        `query($p: String!, $v: Int!) { version(profileName: $p, version: $v) { ${FIELDS} data } }`,
        { p: profile, v: n },
      );
      if (!data.version) throw notFound(`version ${n} of profile "${profile}"`);
      out.json(o.json ? data : data.version.data);
    });

  version
    .command('diff')
    .description('What changed from version A to version B: one line per change (+ added, - removed, ~ replaced)')
    .argument('<profile>', 'the profile')
    .argument('<a>', 'the version to compare from', versionNumber)
    .argument('<b>', 'the version to compare to', versionNumber)
    .option('--json', 'print the change list (GraphQL data) as JSON')
    .addHelpText('after', examples('hotswap version diff orders-staging 3 4', 'hotswap version diff orders-staging 3 4 --json | jq \'.versionDiff.changes\''))
    .action(async (profile: string, a: number, b: number, o: { json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ versionDiff: { profileName: string; from: number; to: number; changes: Change[] } }>(
        `query($p: String!, $a: Int!, $b: Int!) { versionDiff(profileName: $p, from: $a, to: $b) { profileName from to changes { op path before after } } }`,
        { p: profile, a, b },
      );
      if (o.json) return out.json(data);
      const { changes } = data.versionDiff;
      if (changes.length === 0) return out.line(`no changes between version ${a} and version ${b}`);
      for (const line of diffLines(out, changes)) out.line(line);
    });
}
