import pg from 'pg';
import { expect } from 'vitest';
import type { TestServer } from './server.js';

/** Tables the app writes (the migration bookkeeping excluded). */
const SNAPSHOT_QUERY = `
  select table_name from information_schema.tables
  where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'hotswap_migrations'
  order by table_name`;

const INSTANCES = `{ instances { id service environment host color metadata lastHeartbeatAt
  metrics { errorRate latencyP99Ms requestCount custom } } }`;

/**
 * Everything the server has written: a digest of each database table, and the
 * instance registry (in memory without Redis) read over the API as ADMIN.
 */
export class StateProbe {
  private constructor(
    private readonly client: pg.Client,
    private readonly sql: string,
    private readonly server: TestServer,
  ) {}

  static async open(server: TestServer): Promise<StateProbe> {
    const client = new pg.Client({ connectionString: server.db.url });
    await client.connect();
    const tables = (await client.query<{ table_name: string }>(SNAPSHOT_QUERY)).rows.map((r) => r.table_name);
    expect(tables).toEqual(expect.arrayContaining(['config_profile', 'config_version', 'config_schema', 'deployment', 'deployment_event', 'deployment_target', 'instance_config']));
    const sql = `select ${tables
      .map((t) => `(select count(*) || ':' || md5(coalesce(string_agg(x::text, E'\\n' order by x::text), '')) from "${t}" x) as "${t}"`)
      .join(', ')}`;
    return new StateProbe(client, sql, server);
  }

  async snapshot(): Promise<Record<string, unknown>> {
    const tables = (await this.client.query<Record<string, string>>(this.sql)).rows[0] ?? {};
    const instances = await this.server.gql<{ instances: Array<{ id: string }> }>(INSTANCES);
    expect(instances.errors, JSON.stringify(instances.errors)).toBeUndefined();
    const sorted = [...(instances.data?.instances ?? [])].sort((x, y) => x.id.localeCompare(y.id));
    return { ...tables, instances: sorted };
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
