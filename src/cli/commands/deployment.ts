import type { Command } from 'commander';
import { connect } from '../connection.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { followDeployment, type HealthVerdictName, VERDICT_WORDS } from '../follow.js';
import { createOut, type Out } from '../output.js';
import { DEPLOYMENT_JSON, EXIT_CODES_HELP } from './deploy.js';
import { whole } from './deploy-options.js';

const LIST = `query($first: Int, $status: DeploymentStatus, $profileName: String) {
  deployments(first: $first, status: $status, profileName: $profileName) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id profileName version previousVersion strategy status phase phaseCount progress startedBy createdAt finishedAt } } } }`;
const CONTROLLED = 'id profileName version strategy status phase phaseCount progress rollbackReason';
const PAUSE = `mutation($id: ID!) { pauseDeployment(id: $id) { ${CONTROLLED} } }`;
const RESUME = `mutation($id: ID!) { resumeDeployment(id: $id) { ${CONTROLLED} } }`;
const CANCEL = `mutation($id: ID!, $reason: String!) { cancelDeployment(id: $id, reason: $reason) { ${CONTROLLED} } }`;
const ROLLBACK = `mutation($id: ID!, $reason: String!) { rollbackDeployment(id: $id, reason: $reason) { ${CONTROLLED} } }`;

const STATUSES = ['PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'FAILED', 'ROLLING_BACK', 'ROLLED_BACK', 'CANCELLED'];

interface Shown {
  id: string;
  profileName: string;
  version: number;
  previousVersion: number | null;
  strategy: string;
  status: string;
  phase: number;
  phaseCount: number;
  progress: number;
  rollbackReason: string | null;
  failureReason: string | null;
  startedBy: string;
  createdAt: string;
  finishedAt: string | null;
  targets: Array<{ instanceId: string; state: string; error: string | null }>;
  health: { verdict: HealthVerdictName; reasons: string[]; checkedAt: string } | null;
  events: Array<{ type: string; status: string; phase: number; progress: number; message: string | null; at: string }>;
}

interface Controlled {
  id: string;
  profileName: string;
  version: number;
  strategy: string;
  status: string;
  phase: number;
  phaseCount: number;
}

/** `hotswap deployment show|list|follow|pause|resume|rollback`. */
export function registerDeploymentCommand(program: Command, env: NodeJS.ProcessEnv): void {
  const group = program
    .command('deployment')
    .description('Inspect, follow and control deployments')
    .addHelpText('after', '\nExample:\n  $ hotswap deployment list --profile orders-staging --status IN_PROGRESS');

  group
    .command('show')
    .description('Status, phase, progress, targets, health and the last events of a deployment')
    .argument('<id>', 'deployment id')
    .option('--json', 'print the raw GraphQL data')
    .addHelpText('after', '\nExample:\n  $ hotswap deployment show 42 --json')
    .action(async (id: string, o: { json?: boolean }, command: Command) => {
      const data = await connect(command, env).request<{ deployment: Shown | null }>(DEPLOYMENT_JSON, { id });
      if (!data.deployment) throw new CliError([`NOT_FOUND: deployment ${id} not found`], ExitCode.REFUSED);
      const out = createOut(process.stdout, env);
      if (o.json) out.json(data);
      else show(data.deployment, out);
    });

  group
    .command('list')
    .description('Deployments, newest first')
    .option('--profile <name>', 'only this profile')
    .option('--status <status>', `only this status: ${STATUSES.join(', ')}`)
    .option('--first <n>', 'how many (1 to 100)', '20')
    .option('--json', 'print the raw GraphQL data')
    .addHelpText('after', '\nExamples:\n  $ hotswap deployment list --profile orders-staging\n  $ hotswap deployment list --status ROLLED_BACK --first 5 --json')
    .action(async (o: { profile?: string; status?: string; first: string; json?: boolean }, command: Command) => {
      const status = o.status === undefined ? undefined : o.status.trim().toUpperCase().replaceAll('-', '_');
      if (status !== undefined && !STATUSES.includes(status)) throw new CliError([`--status must be one of ${STATUSES.join(', ')}; got "${o.status}"`], ExitCode.REFUSED);
      const first = whole('--first', o.first, 1, 100);
      const data = await connect(command, env).request<{ deployments: { totalCount: number; edges: Array<{ node: Shown }> } }>(LIST, {
        first,
        status: status ?? null,
        profileName: o.profile ?? null,
      });
      const out = createOut(process.stdout, env);
      if (o.json) return out.json(data);
      const rows = data.deployments.edges.map(({ node: d }) => ({
        id: d.id,
        profile: d.profileName,
        version: d.previousVersion === null ? `${d.version}` : `${d.previousVersion}→${d.version}`,
        strategy: d.strategy,
        status: d.status,
        phase: `${d.phase}/${d.phaseCount}`,
        progress: `${Math.round(d.progress * 100)}%`,
        created: d.createdAt,
        by: d.startedBy,
      }));
      if (rows.length === 0) return out.line('no deployments');
      out.table(rows, ['id', 'profile', 'version', 'strategy', 'status', 'phase', 'progress', 'created', 'by']);
      if (data.deployments.totalCount > rows.length) out.line(`(${rows.length} of ${data.deployments.totalCount}; --first N for more)`);
    });

  group
    .command('follow')
    .description('Follow a deployment live until it ends; the exit code tells how it ended (Ctrl-C only stops following)')
    .argument('<id>', 'deployment id')
    .addHelpText('after', `\nExample:\n  $ hotswap deployment follow 42\n${EXIT_CODES_HELP}`)
    .action(async (id: string, _o: unknown, command: Command) => {
      process.exitCode = await followDeployment(connect(command, env), id, createOut(process.stdout, env), { history: 20 });
    });

  group
    .command('pause')
    .description('Stop advancing an IN_PROGRESS deployment at its next step boundary (OPERATOR, ADMIN)')
    .argument('<id>', 'deployment id')
    .option('--json', 'print the raw GraphQL data')
    .addHelpText('after', '\nExample:\n  $ hotswap deployment pause 42')
    .action(async (id: string, o: { json?: boolean }, command: Command) => {
      const data = await connect(command, env).request<{ pauseDeployment: Controlled }>(PAUSE, { id });
      report(data, data.pauseDeployment, o.json, env, `pausing at the next step boundary; resume with: hotswap deployment resume ${id}`);
    });

  group
    .command('resume')
    .description('Continue a PAUSED deployment where it stopped (OPERATOR, ADMIN)')
    .argument('<id>', 'deployment id')
    .option('--json', 'print the raw GraphQL data')
    .addHelpText('after', '\nExample:\n  $ hotswap deployment resume 42')
    .action(async (id: string, o: { json?: boolean }, command: Command) => {
      const data = await connect(command, env).request<{ resumeDeployment: Controlled }>(RESUME, { id });
      report(data, data.resumeDeployment, o.json, env, `follow it: hotswap deployment follow ${id}`);
    });

  group
    .command('rollback')
    .description('Give the previous version back to every instance that got the new one (OPERATOR, ADMIN)')
    .argument('<id>', 'deployment id')
    .requiredOption('--reason <text>', 'why (kept on the deployment and in its events)')
    .option('--wait', 'follow the rollback until it ends: exit 2 when ROLLED_BACK, 3 when FAILED')
    .option('--json', 'print the raw GraphQL data (without --wait)')
    .addHelpText('after', `\nExample:\n  $ hotswap deployment rollback 42 --reason "checkout errors up since 10:02" --wait\n${EXIT_CODES_HELP}`)
    .action(async (id: string, o: { reason: string; wait?: boolean; json?: boolean }, command: Command) => {
      if (o.reason.trim() === '') throw new CliError(['--reason must say why (it is kept with the deployment)'], ExitCode.REFUSED);
      const api = connect(command, env);
      const data = await api.request<{ rollbackDeployment: Controlled }>(ROLLBACK, { id, reason: o.reason });
      if (!o.wait) return report(data, data.rollbackDeployment, o.json, env, `follow it: hotswap deployment follow ${id}`);
      const out = createOut(process.stdout, env);
      out.line(`deployment ${id} ${data.rollbackDeployment.status}: rolling back`);
      process.exitCode = await followDeployment(api, id, out, { history: 5 });
    });

  group
    .command('cancel')
    .description('End a deployment that has pushed nothing yet (PENDING) as CANCELLED (OPERATOR, ADMIN); one that has pushed is rolled back instead')
    .argument('<id>', 'deployment id')
    .requiredOption('--reason <text>', 'why (kept on the deployment and in its events)')
    .option('--json', 'print the raw GraphQL data')
    .addHelpText('after', '\nExample:\n  $ hotswap deployment cancel 42 --reason "wrong version"')
    .action(async (id: string, o: { reason: string; json?: boolean }, command: Command) => {
      if (o.reason.trim() === '') throw new CliError(['--reason must say why (it is kept with the deployment)'], ExitCode.REFUSED);
      const data = await connect(command, env).request<{ cancelDeployment: Controlled }>(CANCEL, { id, reason: o.reason });
      report(data, data.cancelDeployment, o.json, env, 'cancelled: nothing was pushed');
    });
}

function report(data: unknown, d: Controlled, json: boolean | undefined, env: NodeJS.ProcessEnv, hint: string): void {
  const out = createOut(process.stdout, env);
  if (json) return out.json(data);
  out.line(`deployment ${d.id} ${d.status}: ${d.profileName} version ${d.version}, ${d.strategy}, phase ${d.phase}/${d.phaseCount}`);
  out.line(hint);
}

function show(d: Shown, out: Out): void {
  const states = new Map<string, number>();
  for (const t of d.targets) states.set(t.state, (states.get(t.state) ?? 0) + 1);
  const targets = [...states].map(([state, n]) => `${n} ${state}`).join(', ');
  const health = d.health === null ? 'not checked yet' : VERDICT_WORDS[d.health.verdict];
  const statusColor = d.status === 'COMPLETED' ? 'green' : ['FAILED', 'ROLLED_BACK', 'ROLLING_BACK'].includes(d.status) ? 'red' : 'yellow';
  out.line(`deployment ${d.id}: ${d.profileName} version ${d.version} (from ${d.previousVersion ?? 'none'}), ${d.strategy}`);
  out.line(`status:   ${out.paint(d.status, statusColor)}, phase ${d.phase}/${d.phaseCount}, progress ${Math.round(d.progress * 100)}%`);
  out.line(`started:  ${d.createdAt} by ${d.startedBy}${d.finishedAt ? `; finished ${d.finishedAt}` : ''}`);
  out.line(`targets:  ${d.targets.length}${targets ? ` (${targets})` : ''}`);
  out.line(`health:   ${health}`);
  for (const reason of d.health?.reasons ?? []) out.line(`  - ${reason}`);
  if (d.rollbackReason) out.line(`rollback: ${d.rollbackReason}`);
  if (d.failureReason) out.line(`failure:  ${d.failureReason}`);
  for (const t of d.targets.filter((t) => t.error !== null).slice(0, 10)) out.line(`  ${t.instanceId} ${t.state}: ${t.error}`);
  const tail = d.events.slice(-10);
  if (tail.length > 0) out.line(`events (last ${tail.length}):`);
  for (const e of tail) out.line(`  ${e.at} ${e.type.padEnd(16)} ${e.status.padEnd(12)} phase ${e.phase}/${d.phaseCount}${e.message ? ` ${e.message}` : ''}`);
}
