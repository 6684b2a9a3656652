import { Migration } from '@mikro-orm/migrations';

/**
 * How many times a target's current push was sent: re-sends of an unanswered
 * push back off by it (src/domain/repush-pacing.ts), so that late acks under
 * load draw fewer re-sends, not more. 0 for a target not pushed yet.
 */
export class Migration20261216000000_target_sends extends Migration {
  override up(): void {
    this.addSql('alter table deployment_target add column sends smallint not null default 0');
    this.addSql(`update deployment_target set sends = 1 where pushed_at is not null`);
  }

  override down(): void {
    this.addSql('alter table deployment_target drop column if exists sends');
  }
}
