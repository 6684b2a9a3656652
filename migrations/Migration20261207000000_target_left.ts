import { Migration } from '@mikro-orm/migrations';

/** A target whose instance went away before acking ends LEFT (it does not fail the deployment). */
export class Migration20261207000000_target_left extends Migration {
  override up(): void {
    this.addSql('alter table deployment_target drop constraint deployment_target_state_check');
    this.addSql(
      `alter table deployment_target add constraint deployment_target_state_check
       check (state in ('PENDING', 'PUSHED', 'APPLIED', 'FAILED', 'TIMED_OUT', 'LEFT', 'ROLLED_BACK'))`,
    );
  }

  override down(): void {
    this.addSql(`update deployment_target set state = 'TIMED_OUT' where state = 'LEFT'`);
    this.addSql('alter table deployment_target drop constraint deployment_target_state_check');
    this.addSql(
      `alter table deployment_target add constraint deployment_target_state_check
       check (state in ('PENDING', 'PUSHED', 'APPLIED', 'FAILED', 'TIMED_OUT', 'ROLLED_BACK'))`,
    );
  }
}
