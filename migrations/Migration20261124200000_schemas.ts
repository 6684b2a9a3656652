import { Migration } from '@mikro-orm/migrations';

export class Migration20261124200000_schemas extends Migration {
  override up(): void {
    this.addSql(`
      create table config_schema (
        id uuid primary key,
        name text not null,
        schema_version integer not null check (schema_version > 0),
        schema jsonb not null,
        hash text not null,
        status text not null check (status in ('DRAFT', 'PENDING_APPROVAL', 'APPROVED', 'REJECTED')),
        description text null,
        created_by text not null,
        created_at timestamptz not null,
        submitted_by text null,
        submitted_at timestamptz null,
        decided_by text null,
        decided_at timestamptz null,
        decision_comment text null,
        compatibility jsonb null,
        constraint config_schema_name_version_unique unique (name, schema_version)
      )`);
    this.addSql('create index config_schema_status_index on config_schema (status, created_at desc)');
    this.addSql('alter table config_profile add column schema_id uuid null references config_schema (id) on delete restrict');
    this.addSql('create index config_profile_schema_index on config_profile (schema_id)');
  }

  override down(): void {
    this.addSql('alter table config_profile drop column if exists schema_id');
    this.addSql('drop table if exists config_schema');
  }
}
