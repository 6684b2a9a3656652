import { Migration } from '@mikro-orm/migrations';

/**
 * deployment_target loses its foreign key to deployment: PostgreSQL checks a
 * foreign key with a trigger per inserted row, about half of writing a new
 * deployment's targets (1,000 targets 18 → 9 ms, 10,000 90 → 48 ms). Targets
 * are written only under the deployment's row lock, by a statement that joins
 * the deployment row (TargetRepository.insert), so no target can name a
 * deployment that does not exist; the cascade on delete is kept by a
 * statement-level trigger. See docs/adr/0001-deployment-target-without-foreign-key.md.
 */
export class Migration20261206000000_target_cascade_trigger extends Migration {
  override up(): void {
    this.addSql('alter table deployment_target drop constraint if exists deployment_target_deployment_id_fkey');
    // Dynamic SQL: planned for each call's number of deleted deployments (PL/pgSQL would keep the plan
    // of a connection's first call, e.g. a hash join over every target, for every later delete).
    this.addSql(`
      create function deployment_target_cascade() returns trigger language plpgsql as $$
      begin
        execute 'delete from deployment_target t using gone g where t.deployment_id = g.id';
        return null;
      end $$`);
    this.addSql(`
      create trigger deployment_delete_targets after delete on deployment
      referencing old table as gone for each statement execute function deployment_target_cascade()`);
    // TRUNCATE fires no delete trigger: truncating deployment (or config_profile cascading to it) empties the targets too.
    this.addSql(`
      create function deployment_target_truncate() returns trigger language plpgsql as $$
      begin
        truncate deployment_target;
        return null;
      end $$`);
    this.addSql(`
      create trigger deployment_truncate_targets after truncate on deployment
      for each statement execute function deployment_target_truncate()`);
  }

  override down(): void {
    this.addSql('drop trigger if exists deployment_truncate_targets on deployment');
    this.addSql('drop function if exists deployment_target_truncate()');
    this.addSql('drop trigger if exists deployment_delete_targets on deployment');
    this.addSql('drop function if exists deployment_target_cascade()');
    this.addSql('delete from deployment_target t where not exists (select 1 from deployment d where d.id = t.deployment_id)');
    this.addSql(`alter table deployment_target add constraint deployment_target_deployment_id_fkey
      foreign key (deployment_id) references deployment (id) on delete cascade`);
  }
}
