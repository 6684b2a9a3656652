/**
 * `hotswap agent`: one service instance towards HotSwap, for a service in any
 * language. It registers (and stays the same instance across restarts), takes
 * each config pushed to it, writes it where the service reads it and tells the
 * service (a command or a signal), and acks with the outcome and the time that
 * took; it heartbeats with the service's own metrics. The composition root of
 * the agent process: the CLI only turns flags into an AgentConfig.
 */
import { createConfigClient } from '../client/config-client.js';
import type { ClientEnvironment, ClientLogger, ConfigClient, ConfigUpdate, InstanceMetricsReport } from '../client/types.js';
import type { FileSink, ReloadHook, ServiceMetrics } from './agent-types.js';
import { AgentState } from './agent-state.js';
import { DeliveredConfigs } from './config-store.js';
import { startLocalHttp } from './local-http.js';

export interface AgentConfig {
  /** HotSwap's GraphQL endpoint. */
  url: string;
  service: string;
  environment: ClientEnvironment;
  registrationToken: string;
  host?: string;
  color?: 'BLUE' | 'GREEN';
  metadata?: Record<string, unknown>;
  stateDir: string;
  heartbeatIntervalMs: number;
  /** Where configs are written; null: no file. */
  sink: FileSink | null;
  /** What tells the service; null: nothing (it reads the file or the local endpoint). */
  hook: ReloadHook | null;
  /** Where the local HTTP endpoint listens; null: none. */
  listen: { host: string; port: number } | null;
  /** The service's own metrics for heartbeats; null: heartbeats carry none. */
  metrics: ServiceMetrics | null;
  logger: ClientLogger;
}

export interface RunningAgent {
  client: ConfigClient;
  configs: DeliveredConfigs;
  /** The local endpoint's URL, when it listens. */
  localUrl: string | null;
  /** Stops: closes the endpoint and the client, deregistering the instance. */
  stop(): Promise<void>;
}

/**
 * Delivers one config: writes it, runs the hook, and only then counts it as
 * delivered. When the service refuses it (the hook fails), the file is given
 * its previous content back, so the service never restarts into a config it
 * rejected; the error becomes the failed ack and the deployment rolls back.
 */
async function deliver(update: ConfigUpdate, config: AgentConfig, configs: DeliveredConfigs): Promise<void> {
  const previous = configs.get(update.profileName);
  const file = config.sink === null ? null : await config.sink.write(update);
  const delivered = { profileName: update.profileName, version: update.version, hash: update.hash, data: update.data, file, deliveredAt: new Date() };
  if (config.hook !== null) {
    const result = await config.hook.run({ profileName: update.profileName, version: update.version, file });
    if (!result.ok) {
      // A good config goes back in place; with none before (an agent starting before its service, on its cached
      // config), the file stays and is served: the service reads it when it comes up.
      if (previous === undefined) configs.set(delivered);
      else if (config.sink !== null) {
        await config.sink.write({ ...update, version: previous.version, hash: previous.hash, data: previous.data }).catch((error: unknown) => {
          config.logger.error('could not put the previous config back after the service refused the new one', { file, error: String(error) });
        });
      }
      throw new Error(result.error ?? 'the reload hook failed');
    }
  }
  configs.set(delivered);
}

/** The service's metrics for each heartbeat; a scrape that fails is said once per outage (and in /healthz), the heartbeat carrying none. */
function heartbeatMetrics(metrics: ServiceMetrics, logger: ClientLogger): () => Promise<InstanceMetricsReport> {
  let failing = false;
  return async () => {
    const report = await metrics.sample();
    if (metrics.lastError !== null && !failing) logger.warn('cannot read the service\'s metrics: heartbeats carry none (no evidence for the health gate)', { error: metrics.lastError });
    else if (metrics.lastError === null && failing) logger.warn('the service\'s metrics can be read again');
    failing = metrics.lastError !== null;
    return report ?? {};
  };
}

/** Starts the agent: state directory, local endpoint, then the client (which applies the cached configs first). */
export async function startAgent(config: AgentConfig): Promise<RunningAgent> {
  const state = new AgentState(config.stateDir);
  await state.prepare();
  const configs = new DeliveredConfigs();
  let connected = false;
  const client = createConfigClient({
    url: config.url,
    service: config.service,
    environment: config.environment,
    token: await state.savedToken(),
    registration: { token: config.registrationToken, host: config.host, color: config.color, metadata: config.metadata },
    onConfig: (update) => deliver(update, config, configs),
    metrics: config.metrics === null ? undefined : heartbeatMetrics(config.metrics, config.logger),
    onIdentity: ({ token }) => void state.saveToken(token).catch((error: unknown) => config.logger.warn('could not save the instance token', { error: String(error) })),
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    cacheFile: state.cacheFile,
    deregisterOnStop: true,
    deregisterOnSignals: false,
    logger: config.logger,
  });
  void client.ready.then(() => (connected = true)).catch(() => undefined);
  const local =
    config.listen === null
      ? null
      : await startLocalHttp({
          host: config.listen.host,
          port: config.listen.port,
          configs,
          logger: config.logger,
          health: () => ({ ok: connected || configs.profiles().length > 0, detail: { connected, instanceId: client.instanceId ?? null, profiles: configs.profiles(), metricsError: config.metrics?.lastError ?? null } }),
        });
  await client.start();
  return {
    client,
    configs,
    localUrl: local?.url ?? null,
    stop: async () => {
      await local?.close();
      await client.stop({ deregister: true });
      await state.forgetToken();
    },
  };
}
