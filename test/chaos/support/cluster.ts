import { randomBytes } from 'node:crypto';
import { mintToken } from '../../../src/auth/tokens.js';
import { type ConfigClient, type ConfigUpdate, createConfigClient } from '../../../src/client/index.js';
import { Environment, Role } from '../../../src/domain/enums.js';
import { type ServiceProcess, spawnService } from '../../support/process.js';
import { pollUntil } from '../../support/wait.js';
import { sleep } from './net.js';

/**
 * Real HotSwap replicas (child processes through spawnService) on one
 * database, and simulated instances built on the client library, for the
 * chaos tests. Everything here talks HTTP to the processes or SQL to the
 * database; nothing reaches into a server's memory.
 */

export const CHAOS_SECRET = 'chaos-secret-0123456789abcdef0123456789abcdef';
import { HEALTHY, FINISHED } from '../../support/fleet.js';

export interface Replica {
  name: string;
  process: ServiceProcess;
  /** `http://127.0.0.1:<port>/graphql` */
  url: string;
  origin: string;
  port: number;
  pid: number;
  dead: boolean;
}

export interface GqlResult<T> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface DeploymentRow {
  id: string;
  status: string;
  phase: number;
  phase_count: number;
  version: number;
  previous_version: number | null;
  strategy_state: { stage?: string; observeUntil?: string | null };
  lease_owner: string | null;
  failure_reason: string | null;
  rollback_reason: string | null;
}

export type QueryFn = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

export interface ClusterOptions {
  databaseUrl: string;
  /** SQL on the same database, for assertions. */
  query: QueryFn;
  /**
   * REDIS_URL of every replica unless start() says otherwise: a redis-server of
   * the test's own (support/redis-server.ts). Not the shared test Redis: another
   * vitest run's teardown deletes every `test:*` key in it, which wipes the
   * registry in the middle of a test.
   */
  redisUrl: string;
  /** Extra environment of every replica. */
  env?: Record<string, string>;
}

/** The pid in a lease owner name (host:pid:random). */
export const pidOf = (owner: string | null): number | null => (owner === null ? null : Number(owner.split(':').at(-2)));

export class Cluster {
  readonly replicas: Replica[] = [];
  readonly prefix = `test:chaos:${randomBytes(4).toString('hex')}:`;
  readonly clients: SimClient[] = [];
  private adminToken: string | undefined;

  constructor(readonly o: ClusterOptions) {}

  get query(): QueryFn {
    return this.o.query;
  }

  live(): Replica[] {
    return this.replicas.filter((r) => !r.dead);
  }

  async admin(): Promise<string> {
    this.adminToken ??= await mintToken(CHAOS_SECRET, { sub: 'chaos-admin', role: Role.ADMIN, expiresInSeconds: 3600 });
    return this.adminToken;
  }

  /** Spawns one replica and waits until it listens. */
  async start(o: { name?: string; redisUrl?: string; env?: Record<string, string> } = {}): Promise<Replica> {
    const proc = spawnService({
      DATABASE_URL: this.o.databaseUrl,
      REDIS_URL: o.redisUrl ?? this.o.redisUrl,
      JWT_SECRET: CHAOS_SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_SECOND: '0',
      HOTSWAP_LEASE_MS: '1500',
      HOTSWAP_REDIS_PREFIX: this.prefix,
      ...this.o.env,
      ...o.env,
    });
    // Never outlive the test process, even when it dies without running afterAll.
    const reap = () => proc.child.kill('SIGKILL');
    process.once('exit', reap);
    proc.child.once('exit', () => process.off('exit', reap));
    const [, url] = await proc.waitFor(/"url":"([^"]+)"/, 60_000);
    const parsed = new URL(url!);
    const replica: Replica = {
      name: o.name ?? `replica-${this.replicas.length + 1}`,
      process: proc,
      url: url!,
      origin: parsed.origin,
      port: Number(parsed.port),
      pid: proc.child.pid!,
      dead: false,
    };
    this.replicas.push(replica);
    return replica;
  }

  async kill(replica: Replica, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    replica.dead = true;
    return replica.process.kill(signal);
  }

  /** The HTTP status of a replica's /readyz (0 when it does not answer). */
  async readyz(replica: Replica): Promise<number> {
    try {
      const res = await fetch(`${replica.origin}/readyz`, { signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
      return res.status;
    } catch {
      return 0;
    }
  }

  /** Polls until every live replica's /readyz answers `status`; resolves with Date.now() then. */
  async readyzAll(status: number, timeoutMs = 20_000): Promise<number> {
    await pollUntil(async () => Promise.all(this.live().map((r) => this.readyz(r))), (s) => s.every((x) => x === status), {
      timeoutMs,
      intervalMs: 50,
      what: `/readyz ${status} on every replica`,
    });
    return Date.now();
  }

  /** One GraphQL request to `target` (a replica or a URL); never throws on GraphQL errors. */
  async gql<T>(target: Replica | string, query: string, variables: Record<string, unknown> = {}, token?: string | null): Promise<GqlResult<T>> {
    const url = typeof target === 'string' ? target : target.url;
    const auth = token === null ? undefined : (token ?? (await this.admin()));
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as GqlResult<T>;
    return { ...body, status: res.status };
  }

  /** The data of the first live replica that answers without errors (a client behind a load balancer retrying). */
  async anyGql<T>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
    let last: unknown = new Error('no live replica');
    for (let attempt = 0; attempt < 3; attempt++) {
      for (const r of this.live()) {
        try {
          const res = await this.gql<T>(r, query, variables, token);
          if (res.errors) throw new Error(`${r.name}: ${JSON.stringify(res.errors)}`);
          return res.data!;
        } catch (error) {
          last = error;
        }
      }
      await sleep(200);
    }
    throw last;
  }

  async createProfile(name: string, service = name): Promise<void> {
    await this.anyGql('mutation($n: String!, $s: String!) { createProfile(input: { name: $n, service: $s, environment: STAGING }) { name } }', {
      n: name,
      s: service,
    });
  }

  async publish(profile: string, data: unknown): Promise<number> {
    const r = await this.anyGql<{ publishVersion: { version: number } }>(
      'mutation($p: String!, $d: JSON!) { publishVersion(profileName: $p, input: { data: $d }) { version } }',
      { p: profile, d: data },
    );
    return r.publishVersion.version;
  }

  async startDeployment(input: Record<string, unknown>): Promise<string> {
    const r = await this.anyGql<{ startDeployment: { id: string } }>('mutation($i: StartDeploymentInput!) { startDeployment(input: $i) { id } }', {
      i: input,
    });
    return r.startDeployment.id;
  }

  async row(id: string): Promise<DeploymentRow> {
    const rows = await this.query<DeploymentRow>(
      `select id, status, phase, phase_count, version, previous_version, strategy_state, lease_owner, failure_reason, rollback_reason
       from deployment where id = $1`,
      [id],
    );
    return rows[0]!;
  }

  events(id: string) {
    return this.query<{ type: string; phase: number; message: string | null; at: Date }>(
      'select type, phase, message, at from deployment_event where deployment_id = $1 order by id',
      [id],
    );
  }

  targets(id: string) {
    return this.query<{ instance_id: string; phase: number; state: string; error: string | null }>(
      'select instance_id, phase, state, error from deployment_target where deployment_id = $1 order by phase, instance_id',
      [id],
    );
  }

  /** A deployment's events and targets, and what the clients saw, for failure messages. */
  async diagnose(id: string, clients: SimClient[] = []): Promise<string> {
    const lines = [`deployment ${id}:`];
    for (const e of await this.events(id)) lines.push(`  ${e.at.toISOString()} ${e.type} phase ${e.phase}: ${e.message ?? ''}`);
    for (const t of await this.targets(id)) lines.push(`  target ${t.instance_id} phase ${t.phase} ${t.state} ${t.error ?? ''}`);
    for (const c of clients) {
      lines.push(`  client ${c.ids.join(' → ')} applied ${c.applied.map((u) => `v${u.version}`).join(',')}`);
      for (const l of c.log.filter((x) => x.level !== 'info')) lines.push(`    ${new Date(l.at).toISOString()} ${l.level} ${l.message}`);
    }
    return lines.join('\n');
  }

  /** Polls the database until the deployment is in a terminal status. */
  waitForEnd(id: string, timeoutMs = 40_000): Promise<DeploymentRow> {
    return pollUntil(() => this.row(id), (r) => FINISHED.includes(r.status), { timeoutMs, intervalMs: 100, what: `deployment ${id} to end` });
  }

  /** The instance ids the registry lists for `service` (through the API). */
  async registryIds(service: string): Promise<string[]> {
    const r = await this.anyGql<{ instances: Array<{ id: string }> }>('query($s: String!) { instances(service: $s) { id } }', { s: service });
    return r.instances.map((i) => i.id);
  }

  /** The INSTANCE token of a registered instance (as registerInstance issues it). */
  instanceToken(instanceId: string, service: string): Promise<string> {
    return mintToken(CHAOS_SECRET, { sub: instanceId, role: Role.INSTANCE, instanceId, service, environment: Environment.STAGING, expiresInSeconds: 3600 });
  }

  registrationToken(service: string): Promise<string> {
    return mintToken(CHAOS_SECRET, {
      sub: `registrar-${service}`,
      role: Role.INSTANCE,
      service,
      environment: Environment.STAGING,
      expiresInSeconds: 3600,
    });
  }

  /** Starts `count` instances of `service` (client library) on `url`, and waits until each is subscribed. */
  async clientsOf(service: string, count: number, url: string, options: Partial<SimClientOptions> = {}): Promise<SimClient[]> {
    const token = await this.registrationToken(service);
    const started: SimClient[] = [];
    for (let i = 0; i < count; i++) {
      const c = startSimClient({ url, service, registrationToken: token, host: `${service}-${i}`, ...options });
      this.clients.push(c);
      started.push(c);
    }
    await Promise.all(started.map((c) => c.ready()));
    return started;
  }

  /** Stops every client and kills every replica. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => c.stop()));
    await Promise.allSettled(this.live().map((r) => this.kill(r, 'SIGKILL')));
  }
}

export interface SimClientOptions {
  url: string;
  service: string;
  registrationToken: string;
  host: string;
  heartbeatIntervalMs: number;
  /** Reconnect backoff ceiling. */
  maxDelayMs: number;
  /** How long applying a config takes (0: at once). */
  applyMs: number;
}

/** A simulated service instance: the real client library, applying every config at once and reporting healthy metrics. */
export interface SimClient {
  client: ConfigClient;
  /** The current instance id (changes when the client registers again). */
  readonly id: string;
  /** Every instance id it registered under, in order. */
  readonly ids: string[];
  readonly service: string;
  /** Every update applied, in order. */
  readonly applied: ConfigUpdate[];
  /** Date.now() when `profile` `version` was first applied (undefined: never). */
  appliedAt(profile: string, version: number): number | undefined;
  /** What the client logged, with Date.now(). */
  readonly log: Array<{ at: number; level: string; message: string }>;
  /** The version it runs of `profile` (null before any). */
  version(profile: string): number | null;
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export function startSimClient(o: Omit<SimClientOptions, 'heartbeatIntervalMs' | 'maxDelayMs' | 'applyMs'> & Partial<SimClientOptions>): SimClient {
  const applied: ConfigUpdate[] = [];
  const at: number[] = [];
  const log: SimClient['log'] = [];
  const ids: string[] = [];
  const record = (level: string) => (message: string, details?: Record<string, unknown>) => {
    log.push({ at: Date.now(), level, message });
    const id = details?.instanceId;
    if (message === 'instance identity in use' && typeof id === 'string' && ids.at(-1) !== id) ids.push(id);
  };
  const client = createConfigClient({
    url: o.url,
    service: o.service,
    environment: 'STAGING',
    registration: { token: o.registrationToken, host: o.host },
    onConfig: async (u) => {
      if (o.applyMs) await new Promise((r) => setTimeout(r, o.applyMs));
      applied.push(u);
      at.push(Date.now());
    },
    metrics: () => HEALTHY,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 300,
    reconnect: { initialDelayMs: 100, maxDelayMs: o.maxDelayMs ?? 1000 },
    requestTimeoutMs: 5000,
    logger: { info: record('info'), warn: record('warn'), error: record('error') },
  });
  let started: Promise<void> | undefined;
  const sim: SimClient = {
    client,
    get id() {
      const id = client.instanceId;
      if (id === undefined) throw new Error('the client has not registered yet');
      return id;
    },
    ids,
    service: o.service,
    applied,
    appliedAt(profile, version) {
      const i = applied.findIndex((u) => u.profileName === profile && u.version === version);
      return i < 0 ? undefined : at[i];
    },
    log,
    version(profile) {
      return client.current(profile)?.version ?? null;
    },
    async ready() {
      started ??= client.start();
      await started;
      await client.ready;
    },
    stop: () => client.stop(),
  };
  return sim;
}

/** Prints a measured figure (the chaos run's output lists them). */
export function figure(test: string, name: string, value: number | string, unit = 'ms'): void {
  process.stdout.write(`[chaos] ${test}: ${name} = ${value}${typeof value === 'number' ? ` ${unit}` : ''}\n`);
}

/** Waits until every client runs `version` of `profile`. */
export function allOn(clients: SimClient[], profile: string, version: number, timeoutMs = 20_000): Promise<unknown> {
  return pollUntil(
    async () => clients.map((c) => c.version(profile)),
    (vs) => vs.every((v) => v === version),
    { timeoutMs, intervalMs: 50, what: `every instance on ${profile} v${version}` },
  );
}

/** A profile `name` (service `name`) with versions 1 and 2, and version 1 deployed (DIRECT) to `clients`. */
export async function profileOnV1(cluster: Cluster, name: string, clients: SimClient[]): Promise<void> {
  await cluster.createProfile(name);
  await cluster.publish(name, { v: 1 });
  await cluster.publish(name, { v: 2 });
  const id = await cluster.startDeployment({ profileName: name, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
  const row = await cluster.waitForEnd(id, 20_000);
  if (row.status !== 'COMPLETED') throw new Error(`the DIRECT deployment of v1 ended ${row.status}: ${row.failure_reason ?? row.rollback_reason}`);
  await allOn(clients, name, 1);
}
