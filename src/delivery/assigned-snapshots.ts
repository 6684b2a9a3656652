import type { Color, Environment } from '../domain/enums.js';
import type { JsonObject } from '../domain/json.js';
import type { Database, Repositories } from '../store/database.js';
import { GroupCommit } from '../store/group-commit.js';
import type { VersionContent } from '../store/version.repository.js';

/** An instance that subscribes to its config. */
export interface Subscriber {
  id: string;
  service: string;
  environment: Environment;
  color: Color | null;
}

/** One profile's config as an instance is sent it on subscribe. */
export interface AssignedConfig {
  profileName: string;
  version: number;
  hash: string;
  data: JsonObject;
}

const MAX_BATCH = 500;
/** Version contents kept (versions are immutable): a storm of subscribers of a few profiles reads each once. */
const CACHED_VERSIONS = 256;

/**
 * The configs each subscriber is sent first: its assigned version of each of
 * its profiles (InstanceConfigRepository's one rule), recorded as sent so the
 * instance may ack it. Subscribers that arrive while a batch is being read go
 * together in the next one transaction, and version contents come from a
 * cache: a reconnect storm of 10,000 instances is ~20 transactions instead of
 * 10,000, and reads each config once instead of once per instance. A batch
 * that fails is read again one subscriber at a time (GroupCommit), so one
 * failure fails only its own subscription.
 */
export class AssignedSnapshots {
  private readonly reader = new GroupCommit<Subscriber, AssignedConfig[]>((batch) => this.readBatch(batch), MAX_BATCH);
  private readonly contents = new Map<string, VersionContent>();

  constructor(private readonly db: Database) {}

  /** Resolves once what it returns is recorded as sent to the instance. */
  read(instance: Subscriber): Promise<AssignedConfig[]> {
    return this.reader.add(instance);
  }

  private async readBatch(subscribers: Subscriber[]): Promise<AssignedConfig[][]> {
    const byInstance = await this.db.transaction((r) => this.readIn(r, subscribers));
    return subscribers.map((s) => byInstance.get(s.id) ?? []);
  }

  private async readIn(r: Repositories, subscribers: Subscriber[]): Promise<Map<string, AssignedConfig[]>> {
    // An instance subscribed twice at once is read (and recorded) once.
    const instances = [...new Map(subscribers.map((s) => [s.id, s])).values()];
    const assigned = await r.instanceConfigs.assignedVersions(instances);
    const unrecorded = new Map<string, { profileId: string; version: number; ids: string[] }>();
    for (const a of assigned) {
      if (a.recordedVersion === a.version) continue;
      const key = keyOf(a.profileId, a.version);
      const group = unrecorded.get(key);
      if (group) group.ids.push(a.instanceId);
      else unrecorded.set(key, { profileId: a.profileId, version: a.version, ids: [a.instanceId] });
    }
    for (const g of unrecorded.values()) await r.targets.recordSentOnSubscribe(g.ids, g.profileId, g.version);
    await this.loadContents(r, assigned);
    const byInstance = new Map<string, AssignedConfig[]>();
    for (const a of assigned) {
      const content = this.contents.get(keyOf(a.profileId, a.version));
      if (!content) continue; // deleted meanwhile: never an assigned version, so not sent
      const configs = byInstance.get(a.instanceId) ?? [];
      configs.push({ profileName: a.profileName, version: a.version, hash: content.hash, data: content.data });
      byInstance.set(a.instanceId, configs);
    }
    return byInstance;
  }

  private async loadContents(r: Repositories, wanted: ReadonlyArray<{ profileId: string; version: number }>): Promise<void> {
    const missing = new Map<string, { profileId: string; version: number }>();
    for (const w of wanted) {
      const key = keyOf(w.profileId, w.version);
      if (!this.contents.has(key)) missing.set(key, { profileId: w.profileId, version: w.version });
    }
    if (missing.size === 0) return;
    for (const c of await r.versions.contents([...missing.values()])) {
      this.contents.set(keyOf(c.profileId, c.version), c);
      // Oldest first out: a Map iterates in insertion order.
      if (this.contents.size > CACHED_VERSIONS) this.contents.delete(this.contents.keys().next().value!);
    }
  }
}

const keyOf = (profileId: string, version: number) => `${profileId}:${version}`;
