const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The length of a UUID's text form: every id HotSwap issues (deployments, schemas, instances) has it, none is longer. */
export const MAX_ID_LENGTH = 36;

/** True for a UUID, the form of every id HotSwap stores in a uuid column; anything else names nothing. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
