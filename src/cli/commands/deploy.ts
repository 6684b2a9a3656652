import { type Command, Option } from 'commander';
import { connect } from '../connection.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { followDeployment } from '../follow.js';
import type { CliGraphQL } from '../graphql-client.js';
import { createOut } from '../output.js';
import { type DeployFlags, deploymentOptions, whole } from './deploy-options.js';

const LATEST = 'query($p: String!) { profile(name: $p) { latestVersion { version } } }';
const START = `mutation($input: StartDeploymentInput!) { startDeployment(input: $input) {
  id profileName version previousVersion strategy status phase phaseCount progress startedBy createdAt targets { instanceId phase state } } }`;

interface Started {
  id: string;
  profileName: string;
  version: number;
  previousVersion: number | null;
  strategy: string;
  status: string;
  phaseCount: number;
  targets: unknown[];
}

interface DeployCommandFlags extends DeployFlags {
  profile: string;
  version?: string;
  latest?: boolean;
  wait?: boolean;
  json?: boolean;
}

export const EXIT_CODES_HELP = `
Exit codes:
  0    COMPLETED (without --wait: the deployment started)
  2    ROLLED_BACK
  3    FAILED
  4    refused: validation, authentication, bad input, not found, conflict
  5    HotSwap unreachable
  130  Ctrl-C: stopped following; the deployment goes on`;

/** `hotswap deploy`: starts a deployment and, with --wait, follows it to its end. */
export function registerDeployCommand(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('deploy')
    .description('Start a deployment of a published version; with --wait, follow it live and exit by its outcome')
    .requiredOption('--profile <name>', 'the profile to deploy')
    .option('--version <n>', 'the version to deploy')
    .option('--latest', "deploy the profile's latest published version")
    .requiredOption('--strategy <strategy>', 'canary, blue-green, rolling or direct')
    .option('--wait', 'follow the deployment until it ends; the exit code tells how it ended')
    .option('--json', 'print the started deployment as JSON (with --wait: the events go to stderr, the final deployment to stdout)')
    .addOption(new Option('--phases <percentages>', 'canary: share of the fleet per phase, in percent, ascending, ending at 100 (default 10,30,50,100)'))
    .option('--bake-seconds <n>', 'canary: seconds to watch health after each phase before promoting (default 60)')
    .option('--verify-seconds <n>', 'blue-green: seconds to watch the idle color before switching traffic (default 60)')
    .option('--batch-size <n>', 'rolling: instances per batch')
    .option('--batch-percent <p>', 'rolling: percent of the fleet per batch (default 25)')
    .option('--interval-seconds <n>', 'rolling: seconds between batches (default 30)')
    .option('--max-concurrency <n>', 'direct: pushes awaiting an ack at once (default 100)')
    .option('--ack-timeout-seconds <n>', 'any strategy: seconds an instance has to acknowledge (default 30)')
    .option('--max-error-rate-increase <x>', 'health: allowed error-rate increase over baseline as a share (0.05 = +5 points, the default)')
    .option('--max-latency-increase-pct <p>', 'health: allowed p99 latency increase in percent (default 50)')
    .option('--threshold <metric=max>', 'health: a custom metric\'s maximum (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-auto-rollback', 'health: when degraded, pause for an operator instead of rolling back (a failed ack then fails the deployment)')
    .option('--min-heartbeats <n>', 'health: heartbeats with metrics an updated instance sends after applying before it counts as evidence (default 2)')
    .option('--evidence-timeout-seconds <n>', 'health: how long a phase keeps observing past its bake for evidence (default: 6 heartbeat intervals)')
    .option('--on-inconclusive <pause|promote>', 'health: no evidence by then: pause for an operator (default), or promote (fleets without metrics)')
    .addHelpText(
      'after',
      `
Strategy flags apply only to their strategy (--phases to canary, --batch-size to rolling…);
health flags to canary, blue-green and rolling; another strategy's flag is refused (exit 4).

Examples:
  $ hotswap deploy --profile orders-staging --latest --strategy canary --phases 10,50,100 --bake-seconds 120 --wait
  $ hotswap deploy --profile orders-staging --version 7 --strategy rolling --batch-percent 20 --interval-seconds 10
  $ hotswap deploy --profile orders-prod --latest --strategy blue-green --verify-seconds 300 --threshold queue_depth=1000 --wait
${EXIT_CODES_HELP}`,
    )
    .action(async (o: DeployCommandFlags, command: Command) => {
      if ((o.version === undefined) === (o.latest !== true)) {
        throw new CliError(['give --version N or --latest (one of them)'], ExitCode.REFUSED);
      }
      const options = deploymentOptions(o, command.getOptionValueSource('autoRollback') === 'cli');
      const requested = o.version === undefined ? undefined : whole('--version', o.version, 1, 2_147_483_647);
      const api = connect(command, env);
      const version = requested ?? (await latestVersion(api, o.profile));
      const data = await api.request<{ startDeployment: Started }>(START, { input: { profileName: o.profile, version, ...options } });
      const d = data.startDeployment;
      const out = createOut(process.stdout, env);
      if (!o.wait) {
        if (o.json) return out.json(data);
        out.line(`deployment ${d.id} ${d.status}: ${d.profileName} version ${d.version} (from ${d.previousVersion ?? 'none'}), ${d.strategy}, ${d.phaseCount} phase(s), ${d.targets.length} instance(s)`);
        out.line(`follow it: hotswap deployment follow ${d.id}`);
        return;
      }
      process.exitCode = o.json ? await followQuietly(api, d.id, env) : await followStarted(api, d, env);
    });
}

async function latestVersion(api: CliGraphQL, profile: string): Promise<number> {
  const { profile: p } = await api.request<{ profile: { latestVersion: { version: number } | null } | null }>(LATEST, { p: profile });
  if (!p) throw new CliError([`NOT_FOUND: profile ${profile} not found`], ExitCode.REFUSED);
  if (!p.latestVersion) throw new CliError([`profile ${profile} has no published version yet: publish one with \`hotswap version publish\``], ExitCode.REFUSED);
  return p.latestVersion.version;
}

async function followStarted(api: CliGraphQL, d: Started, env: NodeJS.ProcessEnv): Promise<ExitCode> {
  const out = createOut(process.stdout, env);
  out.line(`deployment ${d.id}: ${d.profileName} version ${d.version} (from ${d.previousVersion ?? 'none'}), ${d.strategy}, ${d.targets.length} instance(s)`);
  return followDeployment(api, d.id, out, { history: 200 });
}

/** --wait --json: events (and the Ctrl-C hint) on stderr, then the final deployment as JSON on stdout. */
async function followQuietly(api: CliGraphQL, id: string, env: NodeJS.ProcessEnv): Promise<ExitCode> {
  const code = await followDeployment(api, id, createOut(process.stderr, env), { stream: process.stderr, history: 200 });
  if (code !== ExitCode.INTERRUPTED) createOut(process.stdout, env).json(await api.request(DEPLOYMENT_JSON, { id }));
  return code;
}

export const DEPLOYMENT_JSON = `query($id: ID!) { deployment(id: $id) {
  id profileName version previousVersion strategy status phase phaseCount progress rollbackReason failureReason startedBy createdAt finishedAt
  targets { instanceId phase state reloadMs error }
  health { verdict healthy reasons insufficientData checkedAt evidence { updated reporting required minHeartbeats } baseline { errorRate latencyP99Ms requestCount custom } current { errorRate latencyP99Ms requestCount custom } }
  events(last: 20) { type status phase progress message at }
} }`;
