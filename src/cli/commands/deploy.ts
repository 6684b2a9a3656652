import { type Command, Option } from 'commander';
import { connect } from '../connection.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { followDeployment, HEALTH_METRIC_FIELDS } from '../follow.js';
import type { CliGraphQL } from '../graphql-client.js';
import { readDocument } from '../input.js';
import { createOut } from '../output.js';
import { type DeployFlags, deploymentOptions, whole } from './deploy-options.js';
import { METRIC_SPEC_HELP } from './health-options.js';

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
    .option('--confidence <x>', 'health: confidence that the canary is worse before a metric fails, 0.5 to under 1 (default 0.98)')
    .option('--min-samples <n>', 'health: samples (heartbeats, query steps) each group needs before a metric is judged (default 10)')
    .option('--pass-threshold <x>', 'health: score from 0 to 1 at or above which a phase passes (default 0.95)')
    .option('--marginal-threshold <x>', 'health: score under which a phase fails; between it and the pass threshold the phase keeps observing (default 0.75)')
    .option('--error-rate-tolerance <x>', "health: how far the canary's error rate may sit above the control's, as a share (0.005 = +0.5 points, the default)")
    .option('--latency-tolerance-pct <p>', "health: how far the canary's p99 latency may sit above the control's, in percent of it (default 10)")
    .option('--metric <spec>', `health: a metric to compare, or options of errorRate/latencyP99Ms (repeatable): ${METRIC_SPEC_HELP}`, collect)
    .option('--health-policy-file <file>', 'health: a HealthPolicyInput as JSON (or YAML); the health flags override its fields, --metric its metrics by name')
    .option('--max-error-rate-increase <x>', 'health: an extra fixed limit: error-rate increase over the control as a share (0.05 = +5 points); none by default')
    .option('--max-latency-increase-pct <p>', 'health: an extra fixed limit: p99 latency increase over the control in percent (50 = may grow by half); none by default')
    .option('--threshold <metric=max>', "health: an extra fixed limit: a custom metric's maximum (repeatable); none by default", collect)
    .option('--no-auto-rollback', 'health: when degraded, pause for an operator instead of rolling back (a failed ack then fails the deployment)')
    .option('--min-heartbeats <n>', 'health: heartbeats with metrics an updated instance sends after applying before it counts as evidence (default 2)')
    .option('--evidence-timeout-seconds <n>', 'health: how long a phase keeps observing past its bake for evidence (default: 6 heartbeat intervals)')
    .option('--on-inconclusive <pause|promote>', 'health: no evidence by then: pause for an operator (default), or promote (fleets without metrics)')
    .addHelpText(
      'after',
      `
Strategy flags apply only to their strategy (--phases to canary, --batch-size to rolling…);
health flags to canary, blue-green and rolling; another strategy's flag is refused (exit 4).

Health: each metric of the updated instances is compared with the instances not yet updated
(or, in the last phase, with the fleet before the deployment) by a rank test: it fails when the
canary is worse at --confidence and by more than the metric's tolerance. errorRate (critical) and
latencyP99Ms are compared by default; --metric adds a heartbeat custom metric or a PromQL query
(its placeholders {{service}} {{environment}} {{version}} {{group}} {{instances}} name the group).
Quote a --metric spec for the shell; the commas inside a query's brackets or quotes stay in it.

Examples:
  $ hotswap deploy --profile orders-staging --latest --strategy canary --phases 10,50,100 --bake-seconds 120 --wait
  $ hotswap deploy --profile orders-staging --version 7 --strategy rolling --batch-percent 20 --interval-seconds 10
  $ hotswap deploy --profile orders-prod --latest --strategy blue-green --verify-seconds 300 --threshold queue_depth=1000 --wait
  $ hotswap deploy --profile orders-prod --latest --strategy canary --error-rate-tolerance 0.002 --metric 'queueDepth:critical,tolerance=5' \\
      --metric 'p99:query=histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",instance=~"{{instances}}"}[1m]))),unit=ms,tolerancePct=20'
  $ hotswap deploy --profile orders-prod --latest --strategy rolling --health-policy-file health.json --confidence 0.99
${EXIT_CODES_HELP}`,
    )
    .action(async (o: DeployCommandFlags, command: Command) => {
      if ((o.version === undefined) === (o.latest !== true)) {
        throw new CliError(['give --version N or --latest (one of them)'], ExitCode.REFUSED);
      }
      const policyFile = o.healthPolicyFile === undefined ? undefined : await readDocument(o.healthPolicyFile);
      const options = deploymentOptions(o, command.getOptionValueSource('autoRollback') === 'cli', policyFile);
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

/** Commander's collector of a repeatable flag. */
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

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
  health { verdict healthy reasons insufficientData checkedAt score outliers ${HEALTH_METRIC_FIELDS}
    evidence { updated reporting required minHeartbeats } baseline { errorRate latencyP99Ms requestCount custom } current { errorRate latencyP99Ms requestCount custom } }
  events(last: 20) { type status phase progress message at }
} }`;
