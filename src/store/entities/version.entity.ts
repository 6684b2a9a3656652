import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../../domain/json.js';

/** An immutable published config; `profileId` cascades on profile delete. */
@Entity({ tableName: 'config_version' })
export class VersionEntity {
  [OptionalProps]?: 'id' | 'description' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'uuid' })
  profileId!: string;

  @Property({ type: 'integer' })
  version!: number;

  @Property({ type: 'jsonb' })
  data!: JsonObject;

  @Property({ type: 'text' })
  hash!: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Property({ type: 'text' })
  createdBy!: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
