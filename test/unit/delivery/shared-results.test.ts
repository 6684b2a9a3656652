import 'reflect-metadata';
import { buildSchema, type ExecutionResult, parse } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { SharedResults } from '../../../src/delivery/shared-results.js';

const schema = buildSchema('type Query { x: Int } type Subscription { feed(id: ID!): Item } type Item { name: String secret: String }');
const document = parse('subscription($id: ID!) { feed(id: $id) { name secret } }');

async function sharedMessage(shared: SharedResults, event: object, id = '1'): Promise<string> {
  const result = await shared.resultFor(event, { schema, document, rootValue: event, variableValues: { id: 'a' } });
  const claimed = shared.claim(result)!;
  return shared.expand(JSON.stringify({ id, type: 'next', payload: claimed }));
}

describe('SharedResults', () => {
  it('splices the once-serialized result into each subscriber message', async () => {
    const shared = new SharedResults();
    const event = { feed: { name: 'n', secret: 's' } };
    const a = JSON.parse(await sharedMessage(shared, event, '1'));
    const b = JSON.parse(await sharedMessage(shared, event, '2'));
    expect(a).toEqual({ id: '1', type: 'next', payload: { data: { feed: { name: 'n', secret: 's' } } } });
    expect(b.id).toBe('2');
    expect(b.payload).toEqual(a.payload);
  });

  it('executes once per event and document', async () => {
    const shared = new SharedResults();
    const event = { feed: { name: 'n', secret: 's' } };
    const args = { schema, document, variableValues: { id: 'a' } };
    expect(await shared.resultFor(event, args)).toBe(await shared.resultFor(event, args));
  });

  it('never expands a marker a client wrote itself, and a claim works only once', async () => {
    const shared = new SharedResults();
    const message = await sharedMessage(shared, { feed: { name: 'tenant-a', secret: 'a-secret' } });
    expect(message).toContain('a-secret');
    // A client echoing marker-looking text (its metadata, say) gets its text back, never another push.
    for (const forged of ['\u0001hotswap-result:0', '\u0001hotswap-result:AAAAAAAAAAAAAAAA']) {
      const echoed = JSON.stringify({ id: '9', type: 'next', payload: { data: { metadata: forged } } });
      expect(shared.expand(echoed)).toBe(echoed);
    }
    const result = await shared.resultFor({ feed: { name: 'b', secret: 'b-secret' } }, { schema, document, variableValues: { id: 'a' } });
    const text = JSON.stringify({ id: '3', type: 'next', payload: shared.claim(result) });
    expect(shared.expand(text)).toContain('b-secret');
    expect(shared.expand(text)).toBe(text); // the token is spent
  });

  it('keeps many outstanding claims until they are used, and drops the ones unused for a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const shared = new SharedResults();
      const result = await shared.resultFor({ feed: { name: 'n', secret: 's' } }, { schema, document, variableValues: { id: 'a' } });
      // A push to 5,000 subscribers claims 5,000 times before the first send.
      const texts = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: String(i), type: 'next', payload: shared.claim(result) }));
      expect(texts.every((t) => shared.expand(t).includes('"secret":"s"'))).toBe(true);
      const unused = JSON.stringify({ id: 'x', type: 'next', payload: shared.claim(result) });
      vi.advanceTimersByTime(61_000);
      const fresh = JSON.stringify({ id: 'y', type: 'next', payload: shared.claim(result) });
      expect(shared.expand(unused)).toBe(unused);
      expect(shared.expand(fresh)).toContain('"secret":"s"');
    } finally {
      vi.useRealTimers();
    }
  });

  it('bytesFor makes the payload once per event and document, and hands results with errors to withErrors', async () => {
    const shared = new SharedResults();
    const args = { schema, document, variableValues: { id: 'a' } };
    const event = { feed: { name: 'n', secret: 's' } };
    const withErrors = vi.fn((_result: ExecutionResult) => '{"errors":[]}');
    const first = shared.bytesFor(event, args, withErrors);
    expect(shared.bytesFor(event, args, withErrors)).toBe(first);
    expect(JSON.parse((await first).toString())).toEqual({ data: { feed: { name: 'n', secret: 's' } } });
    expect(withErrors).not.toHaveBeenCalled();

    const failing = { feed: { name: 'n', get secret(): string { throw new Error('no secret'); } } };
    expect((await shared.bytesFor(failing, args, withErrors)).toString()).toBe('{"errors":[]}');
    expect(withErrors).toHaveBeenCalledTimes(1);
    expect(withErrors.mock.calls[0]![0]).toMatchObject({ errors: [expect.objectContaining({ message: 'no secret' })] });
  });

  it('shares only operations whose variables are arguments of the root field', () => {
    expect(SharedResults.isShareable(document, undefined)).toBe(true);
    expect(SharedResults.isShareable(parse('subscription($id: ID!, $x: Boolean!) { feed(id: $id) { name @include(if: $x) } }'), undefined)).toBe(false);
    expect(SharedResults.isShareable(parse('subscription($id: ID!) { feed(id: $id) { ...F } } fragment F on Item { name }'), undefined)).toBe(false);
  });
});
