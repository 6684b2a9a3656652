import { SpanStatusCode } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { authorize, type Principal } from '../domain/authorization.js';
import { BadInputError } from '../domain/errors.js';
import { validateProfileName } from '../domain/profile.js';
import { toWellFormedUnicode } from '../domain/text.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { Topics, type WakeMessage } from '../pubsub/topics.js';
import type { Database } from '../store/database.js';
import { GroupCommit } from '../store/group-commit.js';
import type { Ack } from '../store/instance-config.repository.js';
import type { InstanceRegistry } from '../registry/instance-registry.js';
import type { InstanceIdentityService } from './instance-identity.service.js';
import { contextOf, tracer } from '../telemetry/tracing.js';

interface Queued {
  ack: Ack;
  principal: Principal | undefined;
}

const MAX_BATCH = 500;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_ERROR_LENGTH = 2000;

/**
 * reportConfigApplied. Acks are written with group commit: those arriving while
 * a batch is being written go together in the next one statement, and each
 * caller is answered only once its ack is committed. Then the runners of the
 * deployments concerned are woken. An accepted ack also restores a
 * registration the registry lost, from the instance's token, in the background
 * (checked once per batch).
 */
export class AckService {
  private readonly writer = new GroupCommit<Queued, boolean>((batch) => this.write(batch), MAX_BATCH);

  constructor(
    private readonly db: Database,
    private readonly identities: InstanceIdentityService,
    private readonly registry: Pick<InstanceRegistry, 'statuses'>,
    private readonly pubsub: PubSub,
    private readonly logger: Logger,
    /** Told the reload time of every accepted successful ack (metrics). */
    private readonly onApplied?: (reloadMs: number) => void,
  ) {}

  async report(principal: Principal | undefined, ack: Ack, traceparent: string | null = null): Promise<true> {
    authorize(principal, 'instance:act', { instanceId: ack.instanceId });
    validateProfileName(ack.profileName);
    if (!Number.isInteger(ack.version) || ack.version < 1) {
      throw new BadInputError(`version must be a version number (1 or more), got ${ack.version}`, { field: 'version' });
    }
    if (ack.reloadMs !== null && !(Number.isFinite(ack.reloadMs) && ack.reloadMs >= 0)) {
      throw new BadInputError(`reloadMs must be a finite number of milliseconds ≥ 0, got ${ack.reloadMs}`, { field: 'reloadMs' });
    }
    // Cut by code points and repair lone surrogates: one unstorable error must not fail a whole batch.
    const error = ack.error === null ? null : toWellFormedUnicode(Array.from(ack.error).slice(0, MAX_ERROR_LENGTH).join(''));
    const span = tracer().startSpan(
      'hotswap.ack',
      {
        attributes: {
          'hotswap.instance.id': ack.instanceId,
          'hotswap.profile': ack.profileName,
          'hotswap.version': ack.version,
          'hotswap.ack.success': ack.success,
          ...(ack.reloadMs !== null && { 'hotswap.ack.reload_ms': ack.reloadMs }),
        },
      },
      // A malformed traceparent is ignored: tracing never refuses an ack.
      contextOf(traceparent !== null && TRACEPARENT.test(traceparent) ? traceparent : null),
    );
    let accepted: boolean;
    try {
      accepted = await this.writer.add({ ack: { ...ack, error }, principal });
      span.setAttribute('hotswap.ack.accepted', accepted);
      if (!ack.success) span.setStatus({ code: SpanStatusCode.ERROR, message: error ?? 'the instance reported a failure' });
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw e;
    } finally {
      span.end();
    }
    if (accepted && ack.success && ack.reloadMs !== null) this.onApplied?.(ack.reloadMs);
    if (!accepted) {
      throw new BadInputError(
        `version ${ack.version} of profile "${ack.profileName}" was never sent to instance ${ack.instanceId}`,
        { field: 'version' },
      );
    }
    return true;
  }

  /**
   * Restores the registrations the registry lost of the instances whose acks
   * were accepted: one registry round trip per batch finds them (a lookup per
   * ack was a sixth of an ack's server time), then each is restored from its
   * instance's token. An ack, already recorded, never fails for the registry.
   */
  private async keepRegistered(accepted: readonly Queued[]): Promise<void> {
    if (accepted.length === 0) return;
    try {
      const held = await this.registry.statuses(accepted.map((p) => p.ack.instanceId));
      const lost = new Map(accepted.filter((p) => !held.has(p.ack.instanceId)).map((p) => [p.ack.instanceId, p.principal]));
      for (const [instanceId, principal] of lost) {
        await this.identities.find(principal, instanceId).catch((error: unknown) =>
          this.logger.warn({ err: error, instanceId }, 'could not restore the registration of an acknowledging instance'),
        );
      }
    } catch (error) {
      this.logger.warn({ err: error, instances: accepted.length }, 'could not check the registrations of acknowledging instances');
    }
  }

  /** One batch of acks in one statement; a failing batch is written again one ack at a time (GroupCommit). */
  private async write(batch: Queued[]): Promise<boolean[]> {
    const outcome = await this.db.transaction((r) => r.instanceConfigs.recordAcks(batch.map((q) => q.ack)));
    // Not awaited: while Redis is down a registry call waits for its retries, and acks must not.
    void this.keepRegistered(batch.filter((_, i) => outcome.accepted[i]));
    for (const deploymentId of outcome.deploymentIds) {
      const wake: WakeMessage = { deploymentId, reason: 'ack' };
      void this.pubsub.publish(Topics.deploymentWake, wake).catch((error: unknown) =>
        this.logger.warn({ err: error, deploymentId }, 'could not wake the deployment runner'),
      );
    }
    return batch.map((_, i) => outcome.accepted[i] ?? false);
  }
}
