import { Buffer } from 'node:buffer';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { BadInputError, ConflictError } from './errors.js';
import { describeJsonType, isJsonObject, jsonDepth, type JsonObject } from './json.js';

/** Limits on the size of a config version's data. */
export interface ConfigLimits {
  /** Largest canonical JSON, in UTF-8 bytes. */
  maxBytes: number;
  /** Deepest nesting of objects/arrays (`{}` is depth 1). */
  maxDepth: number;
}

/** Default for {@link ConfigLimits.maxDepth}. */
export const DEFAULT_MAX_DEPTH = 64;

/** Config data checked and ready to store. */
export interface PreparedConfig {
  /** A detached copy of the data (keys in canonical order). */
  data: JsonObject;
  /** Canonical JSON of the data (sorted keys, no whitespace). */
  canonical: string;
  /** sha256 hex of `canonical`. */
  hash: string;
  /** UTF-8 size of `canonical`. */
  bytes: number;
}

/**
 * Checks config data and computes its canonical form and content hash. Checks,
 * in order: a JSON object; nesting depth (iterative, before anything
 * recursive); only JSON values, with every string and key well-formed Unicode
 * (no lone UTF-16 surrogate, which PostgreSQL refuses in jsonb); canonical
 * UTF-8 size.
 *
 * @throws BadInputError with `details.field = 'data'` (and `details.path`, the
 *   JSON Pointer of the offending value or key, when one value is to blame)
 */
export function prepareConfig(data: unknown, limits: ConfigLimits): PreparedConfig {
  if (!isJsonObject(data)) {
    throw new BadInputError(`config data must be a JSON object, got ${describeJsonType(data)}`, {
      field: 'data',
    });
  }
  if (jsonDepth(data, limits.maxDepth) > limits.maxDepth) {
    throw new BadInputError(
      `config data is nested too deeply: at most ${limits.maxDepth} levels of objects and arrays are allowed`,
      { field: 'data', maxDepth: limits.maxDepth },
    );
  }
  let canonical: string;
  try {
    canonical = canonicalJson(data);
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    throw new BadInputError(`config data: ${err.message}`, { ...err.details, field: 'data' });
  }
  const bytes = Buffer.byteLength(canonical, 'utf8');
  if (bytes > limits.maxBytes) {
    throw new BadInputError(
      `config data is too large: ${formatBytes(bytes)} (${bytes} bytes) as canonical JSON; the limit is ${formatBytes(limits.maxBytes)} (${limits.maxBytes} bytes)`,
      { field: 'data', bytes, maxBytes: limits.maxBytes },
    );
  }
  return { data: JSON.parse(canonical) as JsonObject, canonical, hash: sha256Hex(canonical), bytes };
}

/**
 * Refuses to publish content identical to the profile's latest version.
 *
 * @param hash - content hash of the new data
 * @param latest - the latest version, or null when the profile has none
 * @throws ConflictError with `details.latestVersion`
 */
export function assertNotDuplicateOfLatest(
  hash: string,
  latest: { version: number; hash: string } | null,
  profileName: string,
): void {
  if (latest !== null && latest.hash === hash) {
    throw new ConflictError(
      `content is identical to version ${latest.version} of profile ${profileName}; change the data to publish a new version`,
      { latestVersion: latest.version },
    );
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Human-readable binary size: `512 B`, `1.5 KiB`, `1 MiB`, `1.2 GiB` (one decimal, `.0` dropped). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} B`;
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(Math.round(value)) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${UNITS[unit]}`;
}
