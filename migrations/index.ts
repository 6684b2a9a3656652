import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261124000000_profiles_and_versions } from './Migration20261124000000_profiles_and_versions.js';
import { Migration20261124100000_deployments } from './Migration20261124100000_deployments.js';
import { Migration20261124200000_schemas } from './Migration20261124200000_schemas.js';
import { Migration20261124300000_progressive_delivery } from './Migration20261124300000_progressive_delivery.js';
import { Migration20261125000000_drop_target_instance_index } from './Migration20261125000000_drop_target_instance_index.js';
import { Migration20261126000000_instance_config_fillfactor } from './Migration20261126000000_instance_config_fillfactor.js';
import { Migration20261206000000_target_cascade_trigger } from './Migration20261206000000_target_cascade_trigger.js';
import { Migration20261207000000_target_left } from './Migration20261207000000_target_left.js';
import { Migration20261215000000_ended_instances } from './Migration20261215000000_ended_instances.js';
import { Migration20261216000000_target_sends } from './Migration20261216000000_target_sends.js';

/** Every migration, in order. Listed by hand so tsx, vitest and dist load the same classes. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261124000000_profiles_and_versions', class: Migration20261124000000_profiles_and_versions },
  { name: 'Migration20261124100000_deployments', class: Migration20261124100000_deployments },
  { name: 'Migration20261124200000_schemas', class: Migration20261124200000_schemas },
  { name: 'Migration20261124300000_progressive_delivery', class: Migration20261124300000_progressive_delivery },
  { name: 'Migration20261125000000_drop_target_instance_index', class: Migration20261125000000_drop_target_instance_index },
  { name: 'Migration20261126000000_instance_config_fillfactor', class: Migration20261126000000_instance_config_fillfactor },
  { name: 'Migration20261206000000_target_cascade_trigger', class: Migration20261206000000_target_cascade_trigger },
  { name: 'Migration20261207000000_target_left', class: Migration20261207000000_target_left },
  { name: 'Migration20261215000000_ended_instances', class: Migration20261215000000_ended_instances },
  { name: 'Migration20261216000000_target_sends', class: Migration20261216000000_target_sends },
];
