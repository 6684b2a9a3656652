import { Migration } from '@mikro-orm/migrations';

export class Migration20261124300000_progressive_delivery extends Migration {
  override up(): void {
    // The color that takes traffic per service and environment (blue-green).
    this.addSql(`
      create table traffic_color (
        service text not null,
        environment text not null,
        active_color text not null check (active_color in ('BLUE', 'GREEN')),
        deployment_id uuid null references deployment (id) on delete set null,
        updated_at timestamptz not null,
        primary key (service, environment)
      )`);
    // The version each color runs, per profile, while the colors differ (after a blue-green deployment):
    // an instance of that color that registers (or was only sent configs on subscribe) gets it.
    this.addSql(`
      create table color_version (
        profile_id uuid not null references config_profile (id) on delete cascade,
        color text not null check (color in ('BLUE', 'GREEN')),
        version integer not null,
        primary key (profile_id, color)
      )`);
    // Paused deployments keep a runner (and its lease): it watches their health and resumes them.
    this.addSql('drop index deployment_runnable_index');
    this.addSql(`create index deployment_runnable_index on deployment (lease_expires_at)
      where status in ('PENDING', 'IN_PROGRESS', 'PAUSED', 'ROLLING_BACK')`);
    this.addSql(`create index deployment_event_health_index on deployment_event (deployment_id, id) where type = 'HEALTH_CHECKED'`);
    this.addSql('create index instance_config_profile_index on instance_config (profile_id)');
  }

  override down(): void {
    this.addSql('drop index instance_config_profile_index');
    this.addSql('drop index deployment_event_health_index');
    this.addSql('drop index deployment_runnable_index');
    this.addSql(`create index deployment_runnable_index on deployment (lease_expires_at)
      where status in ('PENDING', 'IN_PROGRESS', 'ROLLING_BACK')`);
    this.addSql('drop table if exists color_version');
    this.addSql('drop table if exists traffic_color');
  }
}
