import { Migration } from '@mikro-orm/migrations';

/**
 * The ids of instances that ended (deregistered or reaped), kept where a Redis
 * restart cannot lose them: a valid INSTANCE token restores a registration the
 * registry lost, but never one of these (src/domain/instance-identity.ts). Rows
 * are deleted once no token naming them can still be valid, by ended_at.
 */
export class Migration20261215000000_ended_instances extends Migration {
  override up(): void {
    this.addSql(`
      create table ended_instance (
        instance_id text primary key,
        reason text not null check (reason in ('DEREGISTERED', 'REAPED')),
        ended_at timestamptz not null default now()
      )`);
    this.addSql('create index ended_instance_ended_at_idx on ended_instance (ended_at)');
  }

  override down(): void {
    this.addSql('drop table if exists ended_instance');
  }
}
