import { Migration } from '@mikro-orm/migrations';

export class Migration20261124100000_deployments extends Migration {
  override up(): void {
    this.addSql(`
      create table deployment (
        id uuid primary key,
        profile_id uuid not null references config_profile (id) on delete cascade,
        service text not null,
        environment text not null,
        version integer not null,
        previous_version integer null,
        strategy text not null check (strategy in ('CANARY', 'BLUE_GREEN', 'ROLLING', 'DIRECT')),
        options jsonb not null,
        health_policy jsonb not null,
        ack_timeout_seconds integer not null,
        status text not null check (status in ('PENDING', 'IN_PROGRESS', 'PAUSED', 'COMPLETED', 'FAILED', 'ROLLING_BACK', 'ROLLED_BACK', 'CANCELLED')),
        phase integer not null default 0,
        phase_count integer not null,
        strategy_state jsonb not null default '{}',
        rollback_reason text null,
        failure_reason text null,
        started_by text not null,
        trace_context text null,
        lease_owner text null,
        lease_expires_at timestamptz null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        finished_at timestamptz null
      )`);
    // One deployment at a time per profile, enforced by the database.
    this.addSql(`create unique index deployment_one_active_per_profile on deployment (profile_id)
      where status in ('PENDING', 'IN_PROGRESS', 'PAUSED', 'ROLLING_BACK')`);
    this.addSql('create index deployment_profile_created_index on deployment (profile_id, created_at desc, id desc)');
    this.addSql('create index deployment_created_index on deployment (created_at desc, id desc)');
    this.addSql(`create index deployment_runnable_index on deployment (lease_expires_at)
      where status in ('PENDING', 'IN_PROGRESS', 'ROLLING_BACK')`);

    this.addSql(`
      create table deployment_target (
        deployment_id uuid not null references deployment (id) on delete cascade,
        instance_id text not null,
        phase integer not null,
        state text not null check (state in ('PENDING', 'PUSHED', 'APPLIED', 'FAILED', 'TIMED_OUT', 'ROLLED_BACK')),
        version integer null,
        pushed_at timestamptz null,
        deadline_at timestamptz null,
        acked_at timestamptz null,
        reload_ms double precision null,
        error text null,
        primary key (deployment_id, instance_id)
      )`);
    this.addSql('create index deployment_target_instance_index on deployment_target (instance_id)');

    this.addSql(`
      create table deployment_event (
        id bigserial primary key,
        deployment_id uuid not null references deployment (id) on delete cascade,
        type text not null,
        status text not null,
        phase integer not null,
        progress double precision not null,
        message text null,
        health jsonb null,
        at timestamptz not null
      )`);
    this.addSql('create index deployment_event_deployment_index on deployment_event (deployment_id, id)');

    // What each instance was sent and has applied, per profile (assignment survives reconnects).
    this.addSql(`
      create table instance_config (
        instance_id text not null,
        profile_id uuid not null references config_profile (id) on delete cascade,
        sent_version integer not null,
        sent_versions integer[] not null,
        sent_deployment_id uuid null,
        sent_at timestamptz not null,
        applied_version integer null,
        applied_at timestamptz null,
        reload_ms double precision null,
        primary key (instance_id, profile_id)
      )`);
  }

  override down(): void {
    this.addSql('drop table if exists instance_config');
    this.addSql('drop table if exists deployment_event');
    this.addSql('drop table if exists deployment_target');
    this.addSql('drop table if exists deployment');
  }
}
