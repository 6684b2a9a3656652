import type { Command } from 'commander';
import { Environment, InstanceStatus } from '../../domain/enums.js';
import { connect } from '../connection.js';
import { createOut } from '../output.js';
import { enumValue, examples, shortTime } from './resource-support.js';

interface Instance {
  id: string;
  service: string;
  environment: string;
  host: string;
  color: string | null;
  status: string;
  lastHeartbeatAt: string | null;
  metrics: { errorRate: number | null; latencyP99Ms: number | null; requestCount: number | null } | null;
  appliedVersions: Array<{ profileName: string; version: number; appliedAt: string }>;
}

/** `hotswap instances list`. */
export function registerInstanceCommands(program: Command, env: NodeJS.ProcessEnv): void {
  const out = createOut(process.stdout, env);
  const instances = program
    .command('instances')
    .description('Running service instances, their health and the config versions they applied')
    .addHelpText('after', examples('hotswap instances list --service orders --environment PRODUCTION'));

  instances
    .command('list')
    .description('List registered instances')
    .option('--service <service>', 'only this service')
    .option('--environment <environment>', 'only this environment', enumValue(Environment))
    .option('--status <status>', `only this status: ${Object.values(InstanceStatus).join(', ')}`, enumValue(InstanceStatus))
    .option('--json', 'print the GraphQL data as JSON')
    .addHelpText('after', examples('hotswap instances list --service orders --status DEGRADED', 'hotswap instances list --json | jq -r \'.instances[].id\''))
    .action(async (o: { service?: string; environment?: Environment; status?: InstanceStatus; json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ instances: Instance[] }>(
        `query($service: String, $environment: Environment, $status: InstanceStatus) {
          instances(service: $service, environment: $environment, status: $status) {
            id service environment host color status lastHeartbeatAt
            metrics { errorRate latencyP99Ms requestCount }
            appliedVersions { profileName version appliedAt }
          }
        }`,
        { service: o.service, environment: o.environment, status: o.status },
      );
      if (o.json) return out.json(data);
      if (data.instances.length === 0) return out.line('no instances');
      out.table(
        data.instances.map((i) => ({
          id: i.id,
          service: i.service,
          environment: i.environment,
          host: i.host,
          color: i.color,
          status: i.status,
          heartbeat: shortTime(i.lastHeartbeatAt),
          applied: i.appliedVersions.length ? i.appliedVersions.map((a) => `${a.profileName}@${a.version}`).join(',') : null,
        })),
        ['id', 'service', 'environment', 'host', 'color', 'status', 'heartbeat', 'applied'],
      );
    });
}
