import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

@Entity({ tableName: 'config_profile' })
export class ProfileEntity {
  [OptionalProps]?: 'id' | 'description' | 'lastVersion' | 'activeVersion' | 'schemaId' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'text', unique: true })
  name!: string;

  @Property({ type: 'text' })
  service!: string;

  @Property({ type: 'text' })
  environment!: string;

  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  /** Highest version number ever assigned; numbers are never reused. */
  @Property({ type: 'integer', default: 0 })
  lastVersion: number = 0;

  /** Version of the last completed deployment. */
  @Property({ type: 'integer', nullable: true })
  activeVersion: number | null = null;

  @Property({ type: 'uuid', nullable: true })
  schemaId: string | null = null;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
