import { randomUUID } from 'node:crypto';
import { authorize, type Principal } from '../domain/authorization.js';
import { type Color, type Environment, type InstanceStatus, Role } from '../domain/enums.js';
import { BadInputError, NotFoundError, UnavailableError } from '../domain/errors.js';
import { type InstanceMetrics, validateHost, validateMetrics } from '../domain/instance.js';
import { EndReason } from '../domain/instance-identity.js';
import { canonicalJson } from '../domain/canonical-json.js';
import { isJsonObject, jsonDepth, type JsonObject } from '../domain/json.js';
import { validateEnvironment, validateServiceName } from '../domain/profile.js';
import type { InstanceFilter, InstanceRecord, InstanceRegistry, Presence } from '../registry/instance-registry.js';
import type { Database } from '../store/database.js';
import type { AppliedConfig, AssignedVersion } from '../store/instance-config.repository.js';
import type { InstanceIdentityService } from './instance-identity.service.js';

export interface RegisterInstanceRequest {
  service: string;
  environment: Environment;
  host: string;
  color?: Color | null;
  metadata?: unknown;
}

/** What an INSTANCE token names: enough to restore the registration if the registry loses it. */
export interface InstanceClaims {
  instanceId: string;
  service: string;
  environment: Environment;
  host: string;
  color: Color | null;
}

/** Signs an INSTANCE token; absent when tokens are verified with JWKS (nothing to sign with). */
export type InstanceTokenSigner = (claims: InstanceClaims) => Promise<string>;

const MAX_METADATA_BYTES = 16 * 1024;

/**
 * Registration, heartbeats and reads of service instances. A registration the
 * registry lost is restored from the caller's token (InstanceIdentityService).
 */
export class InstanceService {
  constructor(
    private readonly registry: InstanceRegistry,
    private readonly identities: InstanceIdentityService,
    private readonly db: Database,
    private readonly signToken: InstanceTokenSigner | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Registers a new instance (a new id every call) and returns it with its own INSTANCE token. */
  async register(principal: Principal | undefined, req: RegisterInstanceRequest): Promise<{ instance: InstanceRecord; token: string }> {
    authorize(principal, 'instance:register', { service: req.service, environment: req.environment });
    validateServiceName(req.service);
    validateEnvironment(req.environment);
    validateHost(req.host);
    const metadata = validateMetadata(req.metadata);
    if (!this.signToken) {
      throw new UnavailableError('instance registration needs JWT_SECRET on the server: tokens are verified with JWKS_URL, so HotSwap cannot issue instance tokens');
    }
    const id = randomUUID();
    const token = await this.signToken({ instanceId: id, service: req.service, environment: req.environment, host: req.host, color: req.color ?? null });
    const instance = await this.registry.register({
      id,
      service: req.service,
      environment: req.environment,
      host: req.host,
      color: req.color ?? null,
      metadata,
      registeredAt: this.now(),
    });
    return { instance, token };
  }

  /**
   * A fresh token for a registered instance, with a full lifetime, so a
   * long-running instance keeps its id instead of registering again when its
   * token expires.
   */
  async refreshToken(principal: Principal | undefined, instanceId: string): Promise<string> {
    authorize(principal, 'instance:act', { instanceId });
    if (!this.signToken) {
      throw new UnavailableError('instance tokens need JWT_SECRET on the server: tokens are verified with JWKS_URL');
    }
    const instance = await this.identities.find(principal, instanceId);
    if (!instance) throw instanceNotFound(instanceId);
    const { service, environment, host, color } = instance;
    return this.signToken({ instanceId, service, environment, host, color });
  }

  /** Records a heartbeat; a registration the registry lost is restored from the caller's token first. */
  async heartbeat(principal: Principal | undefined, instanceId: string, metrics: InstanceMetrics | null): Promise<InstanceRecord> {
    authorize(principal, 'instance:act', { instanceId });
    validateMetrics(metrics);
    let updated = await this.registry.heartbeat(instanceId, this.now(), metrics);
    if (!updated && (await this.identities.restore(principal, instanceId))) updated = await this.registry.heartbeat(instanceId, this.now(), metrics);
    if (!updated) throw instanceNotFound(instanceId);
    return updated;
  }

  /**
   * Ends the instance for good: its end is recorded (PostgreSQL) before the
   * registry forgets it, so no token can restore it. An instance whose record
   * the registry lost may still deregister itself with its token.
   */
  async deregister(principal: Principal | undefined, instanceId: string): Promise<true> {
    authorize(principal, 'instance:deregister', { instanceId });
    const known = (await this.registry.get(instanceId)) !== null || (await this.identities.isRestorable(principal, instanceId));
    if (!known) throw instanceNotFound(instanceId);
    await this.identities.recordEnded([instanceId], EndReason.DEREGISTERED);
    await this.registry.deregister(instanceId);
    return true;
  }

  async list(principal: Principal | undefined, filter: InstanceFilter): Promise<InstanceRecord[]> {
    authorize(principal, 'instance:read');
    return this.registry.list(filter);
  }

  /** The instance, or null. INSTANCE tokens may read only their own. */
  async get(principal: Principal | undefined, instanceId: string): Promise<InstanceRecord | null> {
    if (principal?.role === Role.INSTANCE) authorize(principal, 'instance:act', { instanceId });
    else authorize(principal, 'instance:read');
    return this.registry.get(instanceId);
  }

  /** The instance as a subscriber: it must be the caller, and exist or be restorable from the caller's token. */
  async requireSubscriber(principal: Principal | undefined, instanceId: string): Promise<InstanceRecord> {
    authorize(principal, 'instance:act', { instanceId });
    const instance = await this.identities.find(principal, instanceId);
    if (!instance) throw instanceNotFound(instanceId);
    return instance;
  }

  /**
   * Records that a config subscription of the instance is open (deployments
   * target connected instances only) and returns what records its close. The
   * close never rejects: one that cannot be recorded (Redis down) leaves the
   * instance counted as connected until it turns STALE, as a replica that dies
   * with open sockets does.
   */
  async holdPresence(instanceId: string): Promise<() => Promise<void>> {
    await this.registry.connected(instanceId);
    let closed = false;
    return async () => {
      if (closed) return;
      closed = true;
      await this.registry.disconnected(instanceId, this.now()).catch(() => undefined);
    };
  }

  /** Whether each instance holds a config subscription (callers were authorised to read the instances). */
  presence(instanceIds: readonly string[]): Promise<Map<string, Presence>> {
    return this.registry.presence(instanceIds);
  }

  /** Each instance's status in the registry now; an id it no longer holds is absent (callers were authorised to read the instances). */
  statuses(instanceIds: readonly string[]): Promise<Map<string, InstanceStatus>> {
    return this.registry.statuses(instanceIds);
  }

  /** The version each instance is assigned per profile (what it is sent on subscribe), per instance id. */
  async assignedVersions(instances: ReadonlyArray<{ id: string; service: string; environment: Environment; color: Color | null }>): Promise<Map<string, AssignedVersion[]>> {
    const rows = await this.db.read((r) => r.instanceConfigs.assignedVersions(instances));
    const byInstance = new Map<string, AssignedVersion[]>();
    for (const row of rows) byInstance.set(row.instanceId, [...(byInstance.get(row.instanceId) ?? []), row]);
    return byInstance;
  }

  /** Applied config versions, per instance id. */
  async appliedVersions(instanceIds: string[]): Promise<Map<string, AppliedConfig[]>> {
    const rows = await this.db.read((r) => r.instanceConfigs.applied(instanceIds));
    const byInstance = new Map<string, AppliedConfig[]>();
    for (const row of rows) byInstance.set(row.instanceId, [...(byInstance.get(row.instanceId) ?? []), row]);
    return byInstance;
  }
}

export function instanceNotFound(instanceId: string): NotFoundError {
  return new NotFoundError(`instance ${instanceId} is not registered (deregistered, reaped, or never registered); register again`, {
    instanceId,
  });
}

function validateMetadata(metadata: unknown): JsonObject | null {
  if (metadata === null || metadata === undefined) return null;
  if (!isJsonObject(metadata)) throw new BadInputError('metadata must be a JSON object', { field: 'metadata' });
  if (jsonDepth(metadata, 16) > 16) throw new BadInputError('metadata may nest at most 16 levels', { field: 'metadata' });
  if (Buffer.byteLength(canonicalJson(metadata)) > MAX_METADATA_BYTES) {
    throw new BadInputError(`metadata must be at most ${MAX_METADATA_BYTES / 1024} KiB`, { field: 'metadata' });
  }
  return metadata;
}
