import type { EntityManager } from '@mikro-orm/postgresql';
import type { Color, Environment } from '../domain/enums.js';

type Row = Record<string, unknown>;

/** The active color (blue-green) of each service and environment, and the version each color runs per profile. */
export class TrafficRepository {
  constructor(private readonly em: EntityManager) {}

  /** The active color, or null before the first blue-green switch. */
  async activeColor(service: string, environment: Environment): Promise<Color | null> {
    const rows = await this.em.execute<Row[]>('select active_color from traffic_color where service = ? and environment = ?', [
      service,
      environment,
    ]);
    return rows[0] ? (rows[0].active_color as Color) : null;
  }

  async switchTo(service: string, environment: Environment, color: Color, deploymentId: string): Promise<void> {
    await this.em.execute(
      `insert into traffic_color (service, environment, active_color, deployment_id, updated_at) values (?, ?, ?, ?, now())
       on conflict (service, environment) do update set active_color = excluded.active_color,
         deployment_id = excluded.deployment_id, updated_at = excluded.updated_at`,
      [service, environment, color, deploymentId],
    );
  }

  /** Records that the instances of `color` run `version` of the profile. */
  async setColorVersion(profileId: string, color: Color, version: number): Promise<void> {
    await this.em.execute(
      `insert into color_version (profile_id, color, version) values (?, ?, ?)
       on conflict (profile_id, color) do update set version = excluded.version`,
      [profileId, color, version],
    );
  }

  /** Forgets the per-color versions of a profile: every instance runs the same version again. */
  async clearColorVersions(profileId: string): Promise<void> {
    await this.em.execute('delete from color_version where profile_id = ?', [profileId]);
  }
}
