const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID, the form of every id HotSwap stores in a uuid column; anything else names nothing. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
