import { Environment } from '../../src/domain/enums.js';
import type { ProfileRecord } from '../../src/domain/records.js';
import type { StoreGraph } from './graph.js';

/** The settled outcomes of concurrent calls, as 'ok' or the error's code. */
export function outcomes(results: PromiseSettledResult<unknown>[]): string[] {
  return results.map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: unknown }).code ?? (r.reason as Error).message)));
}

/** Helpers of the storage tests (test/integration/store-*.test.ts) on the graph `graph()` answers once the file's beforeAll started it. */
export function storageHelpers(graph: () => StoreGraph) {
  /** One statement on the graph's ORM connection (`?` placeholders). */
  const sql = <T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> =>
    graph().orm.em.getConnection().execute<T[]>(query, params);
  return {
    sql,
    /** The version numbers stored for `profile`, ascending. */
    async versionNumbers(profile: ProfileRecord): Promise<number[]> {
      const rows = await sql<{ version: number }>('select version from config_version where profile_id = ? order by version', [profile.id]);
      return rows.map((r) => r.version);
    },
    newProfile: (name: string, service = 'store', environment = Environment.STAGING): Promise<ProfileRecord> =>
      graph().profiles.create({ name, service, environment }),
  };
}
