import { randomUUID } from 'node:crypto';
import { Environment, type SchemaStatus } from '../../src/domain/enums.js';
import type { JsonObject } from '../../src/domain/json.js';
import type { ProfileRecord, SchemaRecord } from '../../src/domain/records.js';
import { SchemaCompiler } from '../../src/json-schema/schema-compiler.js';
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

/** Helpers of the schema storage tests (test/integration/schema-store*.test.ts), on the graph `graph()` answers. */
export function schemaHelpers(graph: () => StoreGraph) {
  /** Computes the hash a stored schema carries. */
  const compiler = new SchemaCompiler({ maxSchemaBytes: 512 * 1024 });
  return {
    compiler,
    /** Inserts the next version of `name` straight through the repository. */
    insert(name: string, options: { schema?: JsonObject; at?: Date; by?: string } = {}): Promise<SchemaRecord> {
      const schema = options.schema ?? { type: 'object' };
      return graph().db.transaction((r) =>
        r.schemas.insertNextVersion(
          { id: randomUUID(), name, schema, hash: compiler.compile(schema).hash, description: null, createdBy: options.by ?? 'writer' },
          options.at ?? new Date(),
        ),
      );
    },
    decide(id: string, status: SchemaStatus, by = 'admin', when = new Date(), comment: string | null = null): Promise<SchemaRecord> {
      return graph().db.transaction((r) => r.schemas.decide(id, { status, by, comment, at: when }));
    },
    /** The rows of `name`, every column, by schema version. */
    rowsOf(name: string): Promise<Array<Record<string, unknown>>> {
      return graph().tdb.query('select * from config_schema where name = $1 order by schema_version', [name]);
    },
  };
}
