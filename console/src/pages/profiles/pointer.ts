import { type Node, parseTree } from 'jsonc-parser';

/** The reference tokens of a JSON Pointer (RFC 6901): "/a~1b/0" → ["a/b", "0"]. */
export function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(pointer.startsWith('/') ? 1 : 0)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function child(node: Node, token: string): Node | undefined {
  if (node.type === 'object') {
    const prop = node.children?.find((p) => p.children?.[0]?.value === token);
    return prop?.children?.[1];
  }
  if (node.type === 'array' && /^(0|[1-9]\d*)$/.test(token)) return node.children?.[Number(token)];
  return undefined;
}

export interface TextRange {
  from: number;
  to: number;
}

/**
 * Where a JSON Pointer points in `text`: the value itself (a scalar), or the
 * property's key (an object or array, so the mark stays short). A pointer to
 * something missing (a required property) marks its deepest existing parent.
 * Null when the text does not parse.
 */
export function pointerRange(text: string, pointer: string, root: Node | undefined = parseTree(text)): TextRange | null {
  if (!root) return null;
  let node = root;
  for (const token of pointerTokens(pointer)) {
    const next = child(node, token);
    if (!next) break;
    node = next;
  }
  if (node.type === 'object' || node.type === 'array') {
    const key = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
    if (key) return { from: key.offset, to: key.offset + key.length };
    return { from: node.offset, to: node.offset + 1 };
  }
  return { from: node.offset, to: node.offset + node.length };
}

/** The 0-based lines a value spans in `text` (for highlighting a diff column). */
export function pointerLines(text: string, pointer: string, root: Node | undefined): { first: number; last: number } | null {
  if (!root) return null;
  let node: Node | undefined = root;
  for (const token of pointerTokens(pointer)) {
    node = child(node, token);
    if (!node) return null;
  }
  // A property's value is marked with its key.
  const start = node.parent?.type === 'property' ? node.parent.offset : node.offset;
  const end = node.offset + node.length;
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length - 1;
  return { first: lineAt(start), last: lineAt(end) };
}
