import { Migration } from '@mikro-orm/migrations';

export class Migration20261125000000_drop_target_instance_index extends Migration {
  override up(): void {
    // Every query of deployment_target names its deployment, so the primary key
    // (deployment_id, instance_id) serves them all; this index only cost writes
    // (~20% of inserting and pushing 10,000 targets).
    this.addSql('drop index if exists deployment_target_instance_index');
  }

  override down(): void {
    this.addSql('create index deployment_target_instance_index on deployment_target (instance_id)');
  }
}
