import Ajv, { type Options, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { canonicalJson, sha256Hex } from '../domain/canonical-json.js';
import { BadInputError, type ValidationIssue } from '../domain/errors.js';
import { describeJsonType, isJsonObject, jsonDepth, type JsonObject } from '../domain/json.js';
import { quoteForMessage } from '../domain/text.js';
import { toIssues } from './issues.js';
import { re2Engine } from './re2-engine.js';
import { assertLocalRefs, LOCAL_BASE_URI } from './schema-refs.js';

/** The JSON Schema dialects accepted, chosen by `$schema`. */
export type SchemaDraft = '2020-12' | 'draft-07';

/** `$schema` of draft 2020-12, the default when `$schema` is absent. */
export const DRAFT_2020_12_URI = 'https://json-schema.org/draft/2020-12/schema';
/** `$schema` of draft-07 (also accepted without the trailing `#`). */
export const DRAFT_07_URI = 'http://json-schema.org/draft-07/schema#';
/** Deepest nesting of objects and arrays a schema may have. */
export const MAX_SCHEMA_DEPTH = 64;
/** Default number of compiled validators kept (least recently used are dropped). */
export const DEFAULT_SCHEMA_CACHE_SIZE = 500;

/**
 * Compilations per ajv instance before a fresh one replaces it: ajv keeps every
 * pattern, schema and validator it compiled in its instance-wide scope, so
 * without rotation memory would grow with every distinct schema ever seen.
 */
const COMPILES_PER_AJV = 200;
/** ajv's "schema is invalid" problems quoted in a refusal. */
const META_ERRORS_SHOWN = 10;

/** A schema ready to validate configs. */
export interface CompiledSchema {
  /** sha256 hex of the schema's canonical JSON (equal to `contentHash(schema)`). */
  readonly hash: string;
  readonly draft: SchemaDraft;
  /** Every failure of `data` (at most 100), each with its JSON Pointer into `data`; `[]` when valid. */
  validate(data: unknown): ValidationIssue[];
}

/** Options of {@link SchemaCompiler}. */
export interface SchemaCompilerOptions {
  /** Largest schema accepted, in bytes of canonical JSON (e.g. 512 KiB). */
  maxSchemaBytes: number;
  /** Compiled validators kept, by content hash @default 500 */
  cacheSize?: number;
}

/**
 * Compiles JSON Schemas (draft-07 or 2020-12) with ajv and ajv-formats, and
 * caches the validators by content hash (LRU). Every `pattern` runs on RE2
 * (linear time), remote `$ref`s are refused rather than fetched, and
 * validation reports every failure (`allErrors`).
 */
export class SchemaCompiler {
  private readonly maxSchemaBytes: number;
  private readonly cacheSize: number;
  /** Insertion order is recency: the first key is the least recently used. */
  private readonly cache = new Map<string, CompiledSchema>();
  private readonly engines: Partial<Record<SchemaDraft, { ajv: Ajv.default; compiles: number }>> = {};
  private compilations = 0;

  constructor(options: SchemaCompilerOptions) {
    if (!(options.maxSchemaBytes > 0)) throw new RangeError('maxSchemaBytes must be positive');
    this.maxSchemaBytes = options.maxSchemaBytes;
    this.cacheSize = Math.max(1, Math.floor(options.cacheSize ?? DEFAULT_SCHEMA_CACHE_SIZE));
  }

  /** How many schemas ajv really compiled (cache hits do not count). */
  get compiledCount(): number {
    return this.compilations;
  }

  /** How many compiled validators the cache holds now. */
  get cachedCount(): number {
    return this.cache.size;
  }

  /**
   * Checks and compiles `schema`, or returns the cached validator of an equal schema.
   *
   * @throws BadInputError (`details.field = 'schema'`) when the schema is not a
   *   JSON object, is larger than `maxSchemaBytes` or deeper than 64 levels, has
   *   a `$schema` other than draft-07 or 2020-12, a `$ref` that is not local, a
   *   pattern RE2 cannot compile, or anything ajv refuses (its message is kept)
   */
  compile(schema: unknown): CompiledSchema {
    if (!isJsonObject(schema)) {
      throw refuse(`schema must be a JSON object, got ${describeJsonType(schema)}`);
    }
    if (jsonDepth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH) {
      throw refuse(`schema nests objects and arrays deeper than ${MAX_SCHEMA_DEPTH} levels`);
    }
    const canonical = canonicalOf(schema);
    const bytes = Buffer.byteLength(canonical, 'utf8');
    if (bytes > this.maxSchemaBytes) {
      throw refuse(
        `schema is ${bytes.toLocaleString('en-US')} bytes (canonical JSON); the limit is ${this.maxSchemaBytes.toLocaleString('en-US')} bytes`,
        { bytes, limit: this.maxSchemaBytes },
      );
    }
    const hash = sha256Hex(canonical);
    const cached = this.cache.get(hash);
    if (cached) {
      this.cache.delete(hash);
      this.cache.set(hash, cached);
      return cached;
    }
    const draft = draftOf(schema);
    assertLocalRefs(schema);
    const validator = this.compileWithAjv(draft, schema);
    const compiled: CompiledSchema = {
      hash,
      draft,
      validate: (data: unknown) => (validator(data) ? [] : toIssues(validator.errors ?? [])),
    };
    this.cache.set(hash, compiled);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return compiled;
  }

  private compileWithAjv(draft: SchemaDraft, schema: JsonObject): ValidateFunction {
    const engine = this.engineFor(draft);
    const { ajv } = engine;
    engine.compiles++;
    this.compilations++;
    // No ajv.removeSchema afterwards: it would also drop a meta-schema whose
    // $id the user's schema reuses. What the instance keeps is bounded by rotation.
    // A root without $id gets one: with addUsedSchema off, ajv resolves "#" only against a named root.
    const named = typeof schema.$id === 'string' ? schema : { $id: LOCAL_BASE_URI, ...schema };
    try {
      if (!ajv.validateSchema(schema)) throw refuse(`schema is invalid: ${metaErrors(ajv)}`);
      return ajv.compile(named);
    } catch (err) {
      if (err instanceof BadInputError) throw err;
      const reason = (err instanceof Error ? err.message : String(err))
        .replaceAll(`from id ${LOCAL_BASE_URI}`, 'from the root schema')
        .replaceAll(LOCAL_BASE_URI, '');
      const hint = err instanceof RangeError ? ' (is there a $ref to itself, or a cycle of $refs with nothing in between?)' : '';
      throw refuse(`schema does not compile: ${reason}${hint}`);
    }
  }

  private engineFor(draft: SchemaDraft): { ajv: Ajv.default; compiles: number } {
    let engine = this.engines[draft];
    if (!engine || engine.compiles >= COMPILES_PER_AJV) {
      engine = { ajv: newAjv(draft), compiles: 0 };
      this.engines[draft] = engine;
    }
    return engine;
  }
}

function newAjv(draft: SchemaDraft): Ajv.default {
  const options: Options = {
    allErrors: true,
    strict: false,
    validateSchema: true,
    verbose: true,
    addUsedSchema: false,
    logger: false,
    code: { regExp: re2Engine },
  };
  const ajv = draft === '2020-12' ? new Ajv2020.default(options) : new Ajv.default(options);
  addFormats.default(ajv);
  return ajv;
}

function draftOf(schema: JsonObject): SchemaDraft {
  const declared = schema.$schema;
  if (declared === undefined) return '2020-12';
  const uri = typeof declared === 'string' ? declared.replace(/#$/, '') : null;
  if (uri === DRAFT_2020_12_URI) return '2020-12';
  if (uri === DRAFT_07_URI.replace(/#$/, '')) return 'draft-07';
  const shown = typeof declared === 'string' ? quoteForMessage(declared, 120) : describeJsonType(declared);
  throw refuse(`$schema ${shown} is not supported: use "${DRAFT_2020_12_URI}" (the default when $schema is absent) or "${DRAFT_07_URI}"`);
}

function canonicalOf(schema: JsonObject): string {
  try {
    return canonicalJson(schema);
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    throw refuse(`schema: ${err.message}`, err.details);
  }
}

/** ajv's meta-schema errors, each once (allErrors repeats some), at most ten. */
function metaErrors(ajv: Ajv.default): string {
  const seen = [...new Set((ajv.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`))];
  const more = seen.length > META_ERRORS_SHOWN ? `; … and ${seen.length - META_ERRORS_SHOWN} more` : '';
  return seen.slice(0, META_ERRORS_SHOWN).join('; ') + more;
}

function refuse(message: string, details: Record<string, unknown> = {}): BadInputError {
  return new BadInputError(message, { ...details, field: 'schema' });
}
