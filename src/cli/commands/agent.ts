import type { Command } from 'commander';
import { type AgentFlags, AgentFlagError, agentPlan, type AgentPlan } from '../../agent/agent-flags.js';
import { type AgentConfig, startAgent } from '../../agent/agent.js';
import { AtomicFileSink } from '../../agent/file-sink.js';
import { PrometheusScraper } from '../../agent/metrics-scraper.js';
import { CommandHook, SignalHook } from '../../agent/reload-hook.js';
import type { ClientLogger } from '../../client/types.js';
import { DEFAULT_URL } from '../connection.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { examples } from './resource-support.js';

/** One JSON line per event on stderr: what a sidecar's log collector wants. */
const line = (level: string) => (message: string, details?: Record<string, unknown>) =>
  void process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...details })}\n`);
const jsonLogger: ClientLogger = { info: line('info'), warn: line('warn'), error: line('error') };

/** The agent's parts, built from the checked flags. */
function configOf(plan: AgentPlan, url: string): AgentConfig {
  const { file, hook } = plan;
  return {
    ...plan,
    url,
    sink: file === null ? null : new AtomicFileSink({ pathPattern: file.pathPattern, format: file.format, template: file.template, mode: file.mode }),
    hook:
      hook === null ? null : hook.kind === 'command' ? new CommandHook({ command: hook.command, timeoutMs: hook.timeoutMs }) : new SignalHook({ signal: hook.signal, pidFile: hook.pidFile, pid: hook.pid }),
    metrics: plan.metrics === null ? null : new PrometheusScraper({ url: plan.metrics.url, options: plan.metrics.options }),
    logger: jsonLogger,
  };
}

/** `hotswap agent`: the sidecar that is one instance of a service in any language. */
export function registerAgentCommand(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('agent')
    .description('Run beside one service instance: receive its configs, write them to a file and/or serve them on localhost, tell the service, ack with the outcome')
    .option('--service <name>', 'the service this instance belongs to (env HOTSWAP_SERVICE)')
    .option('--environment <env>', 'DEVELOPMENT, STAGING or PRODUCTION (env HOTSWAP_ENVIRONMENT)')
    .option('--registration-token-file <file>', 'file holding the registration token (else env HOTSWAP_REGISTRATION_TOKEN), e.g. a mounted Kubernetes secret')
    .option('--file <path>', 'write each profile\'s config here, atomically; {profile} expands to the profile name')
    .option('--format <format>', 'json (default), yaml or env (dotenv)')
    .option('--template <file>', 'render the file from this template instead: {{path.to.value}}, {{json}}, {{version}}, {{profile}}, {{hash}}')
    .option('--file-mode <octal>', 'mode of the written files (default 644)')
    .option('--on-change <command>', 'run after each write (sh -c), with HOTSWAP_PROFILE, HOTSWAP_VERSION, HOTSWAP_FILE; exit 0 = applied, else the deployment sees a failed ack')
    .option('--signal <signal>', 'instead of a command, send this signal (e.g. HUP) to the service after each write')
    .option('--pid-file <file>', 'the service\'s pid file, read at each signal')
    .option('--pid <pid>', 'the service\'s pid')
    .option('--hook-timeout-seconds <s>', 'a command still running after this fails the ack (default 30)')
    .option('--listen <host:port>', 'serve GET /configs/<profile> (ETag, X-HotSwap-Version, ?wait=S long-poll) and /healthz; host 127.0.0.1 unless given')
    .option('--metrics-url <url>', 'the service\'s Prometheus endpoint: error rate, p99 latency and request count for heartbeats')
    .option('--requests-metric <name>', 'the request counter split by status (default: the first of http_requests_total, http_server_requests_seconds_count, … present)')
    .option('--status-label <label>', 'its status label (default: code, status, status_code, http_response_status_code …)')
    .option('--error-status <regex>', 'the statuses that are errors, matched whole (default 5..; e.g. \'5..|429\')')
    .option('--latency-histogram <name>', 'the latency histogram (default: the first of http_request_duration_seconds, http_server_requests_seconds, … present)')
    .option('--latency-unit <unit>', 'its buckets\' unit: seconds or milliseconds (default: by its name)')
    .option('--custom-metric <name=metric[:counter]>', 'a custom heartbeat metric from a gauge, or a counter\'s rate per second (repeatable)', (v: string, all: string[] = []) => [...all, v])
    .option('--state-dir <dir>', 'instance token and last configs, kept across restarts (default ./.hotswap-agent)')
    .option('--host <host>', 'the host shown for this instance (default $HOSTNAME)')
    .option('--color <color>', 'BLUE or GREEN, for blue-green deployments')
    .option('--metadata <key=value>', 'shown with the instance (repeatable), e.g. pod=$POD_NAME', (v: string, all: string[] = []) => [...all, v])
    .option('--heartbeat-interval-seconds <s>', 'keep it at the server\'s HOTSWAP_HEARTBEAT_INTERVAL_MS (default 10)')
    .addHelpText(
      'after',
      examples(
        'HOTSWAP_REGISTRATION_TOKEN=… hotswap agent --url http://hotswap:4000/graphql --service orders --environment PRODUCTION \\\n    --file /config/{profile}.json --signal HUP --pid-file /run/orders.pid --metrics-url http://127.0.0.1:9102/metrics',
        'hotswap agent --service orders --environment STAGING --listen 8181 --state-dir /var/lib/hotswap-agent',
      ),
    )
    .action(async (flags: AgentFlags, cmd: Command) => {
      let plan: AgentPlan;
      try {
        plan = agentPlan(flags, env);
      } catch (error) {
        if (error instanceof AgentFlagError) throw new CliError([error.message], ExitCode.REFUSED);
        throw error;
      }
      const url = (cmd.optsWithGlobals() as { url?: string }).url ?? env.HOTSWAP_URL ?? DEFAULT_URL;
      let agent;
      try {
        // A bad template, a missing directory, a port in use: said at start, in one line, not at the first deployment.
        const config = configOf(plan, url);
        if (config.sink instanceof AtomicFileSink) await config.sink.checkWritable();
        agent = await startAgent(config);
      } catch (error) {
        throw new CliError([(error as Error).message], ExitCode.REFUSED);
      }
      jsonLogger.info('agent running', { service: plan.service, environment: plan.environment, local: agent.localUrl });
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          jsonLogger.info('stopping: deregistering the instance', { signal });
          void agent.stop().finally(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
