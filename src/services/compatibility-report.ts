import type { ValidationIssue } from '../domain/errors.js';
import type { JsonObject } from '../domain/json.js';
import type { SchemaRecord } from '../domain/records.js';
import type { BreakingChange } from '../json-schema/compatibility.js';

/** What a schema submitted for approval would break; stored on the schema as `compatibility`. */
export interface CompatibilityReport {
  /** The APPROVED version it was compared with; null when there is none. */
  previousApprovedVersion: number | null;
  breakingChanges: BreakingChange[];
  /** Each bound profile's active and latest config, validated against the new schema. */
  profiles: Array<{ profileName: string; which: 'active' | 'latest'; version: number; valid: boolean; errors: ValidationIssue[] }>;
  /** True when nothing breaks: no breaking change and every bound config still validates. */
  compatible: boolean;
  computedAt: string;
}

const ERRORS_SHOWN = 10;

export function buildCompatibilityReport(input: {
  previous: SchemaRecord | null;
  breakingChanges: BreakingChange[];
  profiles: Array<{ profileName: string; configs: Array<{ which: 'active' | 'latest'; version: number; data: JsonObject }> }>;
  validate: (data: JsonObject) => ValidationIssue[];
  at: Date;
}): CompatibilityReport {
  const profiles = input.profiles.flatMap((p) =>
    p.configs.map((c) => {
      const errors = input.validate(c.data);
      return { profileName: p.profileName, which: c.which, version: c.version, valid: errors.length === 0, errors: errors.slice(0, ERRORS_SHOWN) };
    }),
  );
  return {
    previousApprovedVersion: input.previous?.schemaVersion ?? null,
    breakingChanges: input.breakingChanges,
    profiles,
    compatible: input.breakingChanges.length === 0 && profiles.every((p) => p.valid),
    computedAt: input.at.toISOString(),
  };
}
