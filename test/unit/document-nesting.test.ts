import { GraphQLError, parse } from 'graphql';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createErrorFormatter } from '../../src/schema/format-error.js';
import { documentNestingExceeds, fragmentNestingExceeds } from '../../src/server/document-nesting.js';

const chain = (n: number) =>
  `query { ...F0 } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ...F${i + 1} }`).join(' ')} fragment F${n} on Query { __typename }`;

describe('documentNestingExceeds', () => {
  it('counts braces, brackets and parentheses together, up to the limit included', () => {
    expect(documentNestingExceeds(`{ a(x: [{ y: 1 }]) }`, 4)).toBe(false);
    expect(documentNestingExceeds(`{ a(x: [{ y: 1 }]) }`, 3)).toBe(true);
    expect(documentNestingExceeds('{ a '.repeat(10_000) + '}'.repeat(10_000), 256)).toBe(true);
  });

  it.each([
    ['a string', `{ a(x: "${'{'.repeat(300)}") }`],
    ['a string with escaped quotes', `{ a(x: "\\"${'{'.repeat(300)}\\"") }`],
    ['a block string', `{ a(x: """${'['.repeat(300)}\\"""${'('.repeat(300)}""") }`],
    ['a comment', `# ${'{'.repeat(300)}\n{ a }`],
  ])('ignores brackets inside %s', (_label, text) => {
    expect(documentNestingExceeds(text, 10)).toBe(false);
  });

  it('sees the brackets after a string that ends in an escaped backslash', () => {
    expect(documentNestingExceeds(`{ a(x: "\\\\") ${'{'.repeat(20)} }`, 10)).toBe(true);
  });

  it('refuses fragments spread in one another past the limit, and accepts a chain within it', () => {
    expect(documentNestingExceeds(chain(3000), 256)).toBe(true);
    expect(documentNestingExceeds(chain(250), 256)).toBe(false);
  });
});

describe('fragmentNestingExceeds', () => {
  it('measures the longest chain of spreads, each fragment once', () => {
    expect(fragmentNestingExceeds(parse(chain(20)), 20)).toBe(false);
    expect(fragmentNestingExceeds(parse(chain(21)), 20)).toBe(true);
    // A wide document: many spreads of one shallow fragment.
    const wide = `query { ${Array.from({ length: 500 }, (_, i) => `a${i}: profiles { ...P }`).join(' ')} } fragment P on ConfigProfileConnection { totalCount }`;
    expect(fragmentNestingExceeds(parse(wide), 2)).toBe(false);
  });

  it('stops at a cycle (validation reports it) instead of looping', () => {
    expect(fragmentNestingExceeds(parse('query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }'), 5)).toBe(false);
  });
});

describe('formatError behind the guards', () => {
  it('answers a stack overflow in parsing or validation with designed text, not the RangeError message', () => {
    const format = createErrorFormatter(pino({ level: 'silent' }));
    const overflow = new GraphQLError('Maximum call stack size exceeded', { originalError: new RangeError('Maximum call stack size exceeded') });
    const parseFailed = new GraphQLError(overflow.message, { originalError: overflow, extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    const formatted = format({ message: parseFailed.message, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }, parseFailed);
    expect(formatted).toEqual({ message: 'the operation could not be processed: it is nested too deeply or too large', extensions: { code: 'BAD_USER_INPUT' } });
  });
});
