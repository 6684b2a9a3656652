import WebSocket from 'ws';
import { deliverAck } from './ack-delivery.js';
import { backoffDelay, type BackoffOptions, DEFAULT_BACKOFF, sleep } from './backoff.js';
import { ConfigApplier } from './config-applier.js';
import { ConfigCache } from './config-cache.js';
import { describeError, GraphQLHttp, GraphQLRequestError, readTokenClaims, toWebSocketUrl } from './graphql-http.js';
import { Heartbeat } from './heartbeat.js';
import { type Identity, InstanceApi } from './operations.js';
import { checkOptions, registrationInput } from './options.js';
import { OutageReporter } from './outage-reporter.js';
import { stopOnSignals } from './signal-stop.js';
import { createStderrLogger, SILENT_LOGGER } from './stderr-logger.js';
import { SubscriptionSession } from './subscription-session.js';
import { type ClientLogger, type ConfigClient, ConfigClientError, type ConfigClientOptions, type ConfigUpdate, type StopSignal } from './types.js';

const DEFAULT_SIGNALS: readonly StopSignal[] = ['SIGTERM', 'SIGINT'];

/**
 * Creates the client of one service instance: it registers, heartbeats,
 * subscribes to its config, applies each update with `onConfig` and
 * acknowledges it. Nothing happens until `start()`.
 */
export function createConfigClient(options: ConfigClientOptions): ConfigClient {
  return new HotSwapConfigClient(options);
}

class HotSwapConfigClient implements ConfigClient {
  readonly ready: Promise<void>;
  private resolveReady: () => void = () => {};
  private rejectReady: (error: Error) => void = () => {};
  private readonly logger: ClientLogger;
  /** Connection trouble, reported once per outage. */
  private readonly outage: OutageReporter;
  private readonly api: InstanceApi;
  private readonly wsUrl: string;
  private readonly backoff: BackoffOptions;
  private readonly requestTimeoutMs: number;
  private readonly cache: ConfigCache | undefined;
  private readonly applier: ConfigApplier;
  private readonly heartbeat: Heartbeat;
  /** Aborted by stop(): ends every backoff wait. */
  private readonly lifetime = new AbortController();
  private identity: Identity | undefined;
  private session: SubscriptionSession | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private sessionFailures = 0;
  private recovering: Promise<void> | undefined;
  /** The instance ids of the last connection_ack and the last accepted heartbeat; ready when both are the current one. */
  private readonly seen = { connected: '', heartbeat: '' };
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private stopped = false;
  private removeSignalHandlers: () => void = () => {};
  private endingBySignal = false;

  constructor(private readonly o: ConfigClientOptions) {
    checkOptions(o);
    this.wsUrl = toWebSocketUrl(o.url);
    this.logger = o.logger === false ? SILENT_LOGGER : (o.logger ?? createStderrLogger());
    this.outage = new OutageReporter(this.logger, o.url);
    this.backoff = { ...DEFAULT_BACKOFF, ...o.reconnect };
    this.requestTimeoutMs = o.requestTimeoutMs ?? 10_000;
    this.api = new InstanceApi(new GraphQLHttp(o.url, o.fetch ?? globalThis.fetch, this.requestTimeoutMs));
    this.cache = o.cacheFile === undefined ? undefined : new ConfigCache(o.cacheFile, { service: o.service, environment: o.environment }, this.logger);
    this.applier = new ConfigApplier({ onConfig: o.onConfig, cache: this.cache, sendAck: (who, ack) =>
        deliverAck({ session: this.identity === who ? this.session : undefined, api: this.api, backoff: this.backoff, logger: this.logger, signal: this.lifetime.signal }, who, ack), logger: this.logger });
    this.heartbeat = new Heartbeat({
      intervalMs: o.heartbeatIntervalMs ?? 10_000,
      api: this.api,
      metrics: o.metrics,
      logger: this.logger,
      outage: this.outage,
      onAccepted: (who) => {
        this.seen.heartbeat = who.instanceId;
        this.checkReady();
      },
      onLost: (who, error) => {
        if (who === this.identity) this.recover(new ConfigClientError(error.message, error.code, { cause: error }));
      },
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // a caller that never awaits ready must not see an unhandled rejection
  }

  get instanceId(): string | undefined {
    return this.identity?.instanceId;
  }

  current(profileName: string): ConfigUpdate | undefined {
    return this.applier.current(profileName);
  }

  start(): Promise<void> {
    if (this.starting === undefined) {
      const signals = this.o.deregisterOnSignals === false ? [] : (this.o.deregisterOnSignals ?? DEFAULT_SIGNALS);
      if (signals.length > 0) {
        this.removeSignalHandlers = stopOnSignals(signals, () => {
          this.endingBySignal = true;
          return this.stop({ deregister: true });
        });
      }
      this.starting = this.run();
    }
    return this.starting;
  }

  stop(options: { deregister?: boolean } = {}): Promise<void> {
    const deregister = options.deregister ?? this.o.deregisterOnStop ?? false;
    this.stopping ??= (async () => {
      this.removeSignalHandlers();
      this.stopped = true;
      this.lifetime.abort();
      clearTimeout(this.refreshTimer);
      this.teardown();
      // The process is ending by a signal: an `await client.ready` of the application must not throw on its way out.
      if (!this.endingBySignal) this.rejectReady(new ConfigClientError('the client stopped before it was ready', 'STOPPED'));
      await this.applier.close();
      await this.recovering;
      await this.starting?.catch(() => {});
      if (deregister && this.identity) {
        try {
          await this.api.deregister(this.identity);
          this.logger.info('deregistered', { instanceId: this.identity.instanceId });
        } catch (error) {
          this.logger.warn('could not deregister', { instanceId: this.identity.instanceId, ...describeError(error) });
        }
      }
    })();
    return this.stopping;
  }

  private async run(): Promise<void> {
    if (this.cache) await this.applier.restore(await this.cache.read());
    if (this.stopped) return;
    if (this.o.token !== undefined) {
      const instanceId = readTokenClaims(this.o.token)?.instanceId as string;
      this.connect({ instanceId, token: this.o.token });
      return;
    }
    try {
      const identity = await this.register();
      this.outage.reached();
      if (this.stopped) this.identity = identity; // stopped meanwhile: kept only so stop() can deregister it
      else this.connect(identity);
    } catch (error) {
      if (error instanceof GraphQLRequestError && error.transient) {
        this.outage.failed('could not register with HotSwap', describeError(error));
        this.recover(new ConfigClientError(error.message, error.code, { cause: error }));
        return;
      }
      this.stopped = true;
      this.lifetime.abort();
      this.rejectReady(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  private register(): Promise<Identity> {
    return this.api.register(this.o.registration!.token, registrationInput(this.o));
  }

  /** Registers, retrying transient failures with backoff; undefined when stopped first. */
  private async registerWithRetry(): Promise<Identity | undefined> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const identity = await this.register();
        this.outage.reached();
        return identity;
      } catch (error) {
        if (!(error instanceof GraphQLRequestError) || !error.transient) throw error;
        const delayMs = backoffDelay(attempt, this.backoff);
        this.outage.failed('could not register with HotSwap', { ...describeError(error), delayMs });
        await sleep(delayMs, this.lifetime.signal);
      }
    }
    return undefined;
  }

  private connect(identity: Identity): void {
    this.identity = identity;
    try {
      this.o.onIdentity?.({ instanceId: identity.instanceId, token: identity.token });
    } catch (error) {
      this.logger.warn('onIdentity failed', describeError(error));
    }
    this.sessionFailures = 0;
    this.logger.info('instance identity in use', { instanceId: identity.instanceId });
    this.heartbeat.start(identity);
    this.openSession();
    this.scheduleRefresh(identity);
  }

  /** Renews the instance token at 80% of its lifetime, keeping the instance id (no new registration). */
  private scheduleRefresh(identity: Identity, delayMs?: number): void {
    clearTimeout(this.refreshTimer);
    const exp = readTokenClaims(identity.token)?.exp;
    if (exp === undefined) return;
    const ms = delayMs ?? Math.max(1000, (exp * 1000 - Date.now()) * 0.8);
    this.refreshTimer = setTimeout(() => void this.refreshToken(identity), Math.min(ms, 2 ** 31 - 1));
    this.refreshTimer.unref();
  }

  private async refreshToken(identity: Identity): Promise<void> {
    if (this.stopped || this.identity !== identity) return;
    try {
      const token = await this.api.refreshToken(identity);
      if (this.stopped || this.identity !== identity) return;
      this.logger.info('instance token renewed', { instanceId: identity.instanceId });
      // The socket authenticated with the old token: reconnect with the new one (the assigned config comes again and is skipped).
      this.session?.close();
      this.session = undefined;
      this.connect({ instanceId: identity.instanceId, token });
    } catch (error) {
      const message = 'could not renew the instance token; retrying in 30 s';
      if (error instanceof GraphQLRequestError && error.transient) this.outage.failed(message, describeError(error));
      else this.logger.warn(message, describeError(error));
      this.scheduleRefresh(identity, 30_000);
    }
  }

  private openSession(): void {
    const identity = this.identity!;
    const session: SubscriptionSession = new SubscriptionSession(
      { wsUrl: this.wsUrl, identity, webSocketImpl: this.o.webSocketImpl ?? WebSocket, backoff: this.backoff, requestTimeoutMs: this.requestTimeoutMs, logger: this.logger, outage: this.outage },
      {
        update: (update) => {
          if (this.session !== session) return;
          this.sessionFailures = 0;
          void this.applier.receive(update, identity);
        },
        connected: () => {
          if (this.session !== session) return;
          this.logger.info('subscribed to config updates', { instanceId: identity.instanceId });
          this.seen.connected = identity.instanceId;
          this.checkReady();
        },
        refused: (error) => {
          if (this.session === session) this.recover(error);
        },
        ended: (error) => {
          if (this.session !== session) return;
          this.session = undefined;
          const delayMs = backoffDelay(this.sessionFailures++, this.backoff);
          this.logger.warn('config subscription ended; subscribing again', { ...describeError(error), delayMs });
          void sleep(delayMs, this.lifetime.signal).then(() => {
            if (!this.stopped && this.identity === identity && this.session === undefined) this.openSession();
          });
        },
      },
    );
    this.session = session;
    session.open();
  }

  /** The registration is gone or refused: register again when possible, else give up and say so. One recovery at a time. */
  private recover(reason: ConfigClientError): void {
    if (this.stopped || this.recovering) return;
    this.teardown();
    if (!this.o.registration) {
      this.giveUp(new ConfigClientError(`HotSwap refused instance ${this.identity?.instanceId ?? '?'} and there is no registration token to register again: ${reason.message}`, reason.code, { cause: reason }));
      return;
    }
    // Within an outage already reported (e.g. HotSwap down at start-up) this is one more retry, not news.
    const log = this.outage.inOutage ? this.logger.info : this.logger.warn;
    log.call(this.logger, 'registering again', { instanceId: this.identity?.instanceId, reason: reason.message, code: reason.code });
    this.recovering = this.registerWithRetry()
      .then((identity) => {
        if (identity && this.stopped) this.identity = identity;
        else if (identity) this.connect(identity);
      })
      .catch((error: unknown) => {
        const { message, code } = describeError(error);
        this.giveUp(new ConfigClientError(`could not register again: ${message}`, code ?? 'REGISTRATION_FAILED', { cause: error }));
      })
      .finally(() => {
        this.recovering = undefined;
      });
  }

  private giveUp(error: ConfigClientError): void {
    this.teardown();
    this.rejectReady(error);
    if (this.o.onError) this.o.onError(error);
    else this.logger.error(error.message, { code: error.code });
  }

  private teardown(): void {
    this.heartbeat.stop();
    this.session?.close();
    this.session = undefined;
  }

  private checkReady(): void {
    const id = this.identity?.instanceId;
    if (id !== undefined && this.seen.connected === id && this.seen.heartbeat === id) this.resolveReady();
  }
}
