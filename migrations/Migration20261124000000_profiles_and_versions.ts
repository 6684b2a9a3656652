import { Migration } from '@mikro-orm/migrations';

export class Migration20261124000000_profiles_and_versions extends Migration {
  override up(): void {
    this.addSql(`
      create table config_profile (
        id uuid primary key,
        name text not null unique,
        service text not null,
        environment text not null check (environment in ('DEVELOPMENT', 'STAGING', 'PRODUCTION')),
        description text null,
        last_version integer not null default 0,
        active_version integer null,
        created_at timestamptz not null,
        updated_at timestamptz not null
      )`);
    this.addSql('create index config_profile_service_environment_index on config_profile (service, environment)');
    this.addSql('create index config_profile_created_at_index on config_profile (created_at desc, id desc)');
    this.addSql(`
      create table config_version (
        id uuid primary key,
        profile_id uuid not null references config_profile (id) on delete cascade,
        version integer not null check (version > 0),
        data jsonb not null,
        hash text not null,
        description text null,
        created_by text not null,
        created_at timestamptz not null,
        constraint config_version_profile_id_version_unique unique (profile_id, version)
      )`);
    this.addSql('create index config_version_profile_id_hash_index on config_version (profile_id, hash)');
  }

  override down(): void {
    this.addSql('drop table if exists config_version');
    this.addSql('drop table if exists config_profile');
  }
}
