import { type DocumentNode, Kind, parse, type SelectionSetNode, visit } from 'graphql';

/** The refusal of a document past either nesting limit below (designed text, never the parser's stack overflow). */
export const NESTED_TOO_DEEPLY = (max: number): string =>
  `the document is nested too deeply (more than ${max} levels of braces, brackets, parentheses or fragments spread in fragments)`;

const enum Char {
  LF = 0x0a,
  CR = 0x0d,
  QUOTE = 0x22,
  HASH = 0x23,
  BACKSLASH = 0x5c,
  DOT = 0x2e,
  PAREN_OPEN = 0x28,
  PAREN_CLOSE = 0x29,
  BRACKET_OPEN = 0x5b,
  BRACKET_CLOSE = 0x5d,
  BRACE_OPEN = 0x7b,
  BRACE_CLOSE = 0x7d,
}

/**
 * True when the GraphQL text would make graphql-js recurse deeper than `max`:
 * braces, brackets and parentheses nested more than `max` levels (the parser
 * recurses on each; 10,000 levels overflow the stack), or fragments spread in
 * one another more than `max` levels deep (see {@link fragmentNestingExceeds}).
 * One pass over the characters, a few ms for a megabyte; the text is parsed
 * only when it has more than `max` spreads, the fewest a chain that long needs.
 */
export function documentNestingExceeds(text: string, max: number): boolean {
  const scanned = scan(text, max);
  if (scanned === 'too-deep') return true;
  if (scanned.spreads <= max) return false;
  let document: DocumentNode;
  try {
    document = parse(text, { noLocation: true });
  } catch {
    return false; // a syntax error: the parser reports it again where the operation is run
  }
  return fragmentNestingExceeds(document, max);
}

/**
 * Nesting and spreads (`...`) outside strings and comments. Where this
 * scanner and graphql-js's lexer could disagree (an unterminated string, a bad
 * escape), the parser stops at a syntax error before it reaches anything deeper.
 */
function scan(text: string, max: number): 'too-deep' | { spreads: number } {
  let depth = 0;
  let spreads = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    switch (text.charCodeAt(i)) {
      case Char.HASH:
        while (i + 1 < n && !isLineEnd(text.charCodeAt(i + 1))) i++;
        break;
      case Char.QUOTE:
        i = text.startsWith('"""', i) ? blockStringEnd(text, i + 3) + 2 : stringEnd(text, i + 1);
        break;
      case Char.DOT:
        if (text.startsWith('...', i)) {
          spreads++;
          i += 2;
        }
        break;
      case Char.BRACE_OPEN:
      case Char.BRACKET_OPEN:
      case Char.PAREN_OPEN:
        if (++depth > max) return 'too-deep';
        break;
      case Char.BRACE_CLOSE:
      case Char.BRACKET_CLOSE:
      case Char.PAREN_CLOSE:
        if (depth > 0) depth--;
        break;
    }
  }
  return { spreads };
}

function isLineEnd(c: number): boolean {
  return c === Char.LF || c === Char.CR;
}

/** Where the string whose content starts at `from` ends (its closing quote, or the line's or text's end). */
function stringEnd(text: string, from: number): number {
  let i = from;
  for (let c = text.charCodeAt(i); i < text.length && c !== Char.QUOTE && !isLineEnd(c); c = text.charCodeAt(i)) {
    i += c === Char.BACKSLASH ? 2 : 1;
  }
  return i;
}

/** Where the block string whose content starts at `from` ends (its closing quotes), or the text's end. */
function blockStringEnd(text: string, from: number): number {
  let i = text.indexOf('"""', from);
  // \""" is an escaped quote inside the block string, not its end.
  while (i > 0 && text.charCodeAt(i - 1) === Char.BACKSLASH) i = text.indexOf('"""', i + 3);
  return i < 0 ? text.length : i;
}

/**
 * True when fragments are spread inside one another (through any selection
 * nesting) more than `max` levels deep. graphql-js's and graphql-armor's
 * validation rules follow spreads recursively: a chain of a few thousand
 * fragments, each spreading the next, overflows the stack in validate().
 * Iterative; each fragment is measured once (cycles count as their path up to
 * the repeat: validation reports the cycle itself).
 */
export function fragmentNestingExceeds(document: DocumentNode, max: number): boolean {
  const spreads = new Map<string, string[]>();
  for (const d of document.definitions) {
    if (d.kind === Kind.FRAGMENT_DEFINITION && !spreads.has(d.name.value)) spreads.set(d.name.value, spreadsIn(d.selectionSet));
  }
  const height = new Map<string, number>();
  const onPath = new Set<string>();
  for (const start of spreads.keys()) {
    if (height.has(start)) continue;
    const stack: Array<{ name: string; next: number }> = [{ name: start, next: 0 }];
    onPath.add(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const children = spreads.get(top.name) ?? [];
      const child = children[top.next++];
      if (child !== undefined) {
        if (height.has(child) || onPath.has(child) || !spreads.has(child)) continue;
        if (stack.length > max) return true; // the bottom fragment is then at least this many spreads high
        stack.push({ name: child, next: 0 });
        onPath.add(child);
        continue;
      }
      let h = 0;
      for (const c of children) h = Math.max(h, 1 + (height.get(c) ?? 0));
      if (h > max) return true;
      height.set(top.name, h);
      onPath.delete(top.name);
      stack.pop();
    }
  }
  return false;
}

/** The names of the fragments spread anywhere in `selectionSet`, however nested. */
function spreadsIn(selectionSet: SelectionSetNode): string[] {
  const names: string[] = [];
  visit(selectionSet, { FragmentSpread: (node) => void names.push(node.name.value) });
  return names;
}
