import { SchemaStatus as S } from './enums.js';
import { ConflictError } from './errors.js';
import { validateSlug } from './slug.js';

/** Allowed moves of a schema's approval status. */
export const SCHEMA_TRANSITIONS: Readonly<Record<S, readonly S[]>> = {
  [S.DRAFT]: [S.PENDING_APPROVAL],
  [S.PENDING_APPROVAL]: [S.APPROVED, S.REJECTED],
  [S.APPROVED]: [],
  [S.REJECTED]: [],
};

/** True for DRAFT → PENDING_APPROVAL and PENDING_APPROVAL → APPROVED | REJECTED only. */
export function canTransitionSchema(from: S, to: S): boolean {
  return SCHEMA_TRANSITIONS[from]?.includes(to) ?? false;
}

/** @throws ConflictError naming both statuses when the move is not allowed */
export function assertSchemaTransition(from: S, to: S): void {
  if (canTransitionSchema(from, to)) return;
  const allowed = SCHEMA_TRANSITIONS[from] ?? [];
  const hint = allowed.length === 0 ? `${from} is final` : `from ${from} it may move to ${allowed.join(' or ')}`;
  throw new ConflictError(`schema is ${from}; cannot move to ${to} (${hint})`, { from, to });
}

/** @throws BadInputError (`details.field = 'name'`) unless `name` is a slug like profile names */
export function validateSchemaName(name: string): void {
  validateSlug(name, 'name', 'schema name');
}
