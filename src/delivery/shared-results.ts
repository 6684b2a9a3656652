import { randomBytes } from 'node:crypto';
import {
  type DocumentNode,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  getOperationAST,
  Kind,
  visit,
} from 'graphql';

const MARKER = '\u0001hotswap-result:';
/** How the marker reads inside a JSON-encoded message (JSON escapes U+0001). */
const ENCODED_MARKER = JSON.stringify(MARKER).slice(1, -1);
const JSON_TEXT = Symbol('json');
/** A claim not used within this long (its socket closed before the send) is dropped. */
const CLAIM_TTL_MS = 60_000;

type SharedResult = ExecutionResult & { [JSON_TEXT]: string };

/**
 * Serializes a pushed config once for all its subscribers. graphql-ws would
 * execute the selection and JSON.stringify the result once per subscriber;
 * for a push to 10,000 instances that is most of the fan-out's cost. Here the
 * result is executed and serialized once per (push, document); each send
 * claims it with a single-use token (a secret random prefix and a counter),
 * graphql-ws stringifies only that token, and the socket adapter's send splices the
 * JSON back in (or the direct lane writes the bytes from bytesFor). A token is never
 * seen by a client and works once, so text a client controls (metadata, ids)
 * cannot make the server send anything but what it echoes.
 */
export class SharedResults {
  private readonly byEvent = new WeakMap<object, Map<DocumentNode, Promise<ExecutionResult>>>();
  private readonly bytesByEvent = new WeakMap<object, Map<DocumentNode, Promise<Buffer>>>();
  private readonly claims = new Map<string, { json: string; at: number }>();
  /** Tokens are this secret prefix and a counter: unguessable, and cheaper than random bytes for each send. */
  private readonly tokenPrefix = randomBytes(12).toString('base64url');
  private issued = 0;
  private sweptAt = Date.now();

  /**
   * True when the operation's result cannot depend on the subscriber: its
   * variables are used only as arguments of the root field (the instance id),
   * never below it or in directives.
   */
  static isShareable(document: DocumentNode, operationName: string | null | undefined): boolean {
    const operation = getOperationAST(document, operationName);
    const root = operation?.selectionSet.selections;
    if (!operation || root?.length !== 1 || root[0]!.kind !== Kind.FIELD) return false;
    if (document.definitions.some((d) => d.kind === Kind.FRAGMENT_DEFINITION)) return false;
    let usesVariables = false;
    const field = root[0]!;
    for (const node of [...(field.directives ?? []), ...(field.selectionSet ? [field.selectionSet] : [])]) {
      visit(node, { Variable: () => void (usesVariables = true) });
    }
    return !usesVariables;
  }

  /** The result of `args` for `event`, executed and serialized once per (event, document). */
  resultFor(event: object, args: ExecutionArgs): Promise<ExecutionResult> {
    return once(this.byEvent, event, args.document, () => this.build(event, args));
  }

  /**
   * The message payload of `args` for `event` as UTF-8 JSON bytes, made once
   * per (event, document): every subscriber of a push awaits the same promise.
   * A result with errors is serialized by `withErrors` (formatted errors).
   */
  bytesFor(event: object, args: ExecutionArgs, withErrors: (result: ExecutionResult) => string): Promise<Buffer> {
    return once(this.bytesByEvent, event, args.document, async () => {
      const result = await this.resultFor(event, args);
      return Buffer.from(SharedResults.jsonOf(result) ?? withErrors(result));
    });
  }

  /** The JSON text of a result from resultFor, unless it has errors. */
  private static jsonOf(result: ExecutionResult): string | undefined {
    return (result as Partial<SharedResult>)[JSON_TEXT];
  }

  /** For graphql-ws's onNext: a shared result becomes a single-use token to splice in at send; null otherwise. */
  claim(result: ExecutionResult): FormattedExecutionResult | null {
    const json = SharedResults.jsonOf(result);
    if (json === undefined) return null;
    const now = Date.now();
    // Swept once per TTL: sweeping on every claim made a push to N subscribers cost N² (900 ms for 10,000).
    if (now - this.sweptAt > CLAIM_TTL_MS) {
      this.sweptAt = now;
      for (const [t, c] of this.claims) if (now - c.at > CLAIM_TTL_MS) this.claims.delete(t);
    }
    const token = `${this.tokenPrefix}${(this.issued++).toString(36)}`;
    this.claims.set(token, { json, at: now });
    const marker = `${MARKER}${token}`;
    return { toJSON: () => marker } as unknown as FormattedExecutionResult;
  }

  /** Splices a claimed result back into an outgoing message; other messages pass unchanged. */
  expand(message: string): string {
    const at = message.indexOf(ENCODED_MARKER);
    if (at < 0) return message;
    const end = message.indexOf('"', at);
    const token = message.slice(at + ENCODED_MARKER.length, end);
    const claim = this.claims.get(token);
    if (!claim) return message;
    this.claims.delete(token);
    return message.slice(0, at - 1) + claim.json + message.slice(end + 1);
  }

  private async build(event: object, args: ExecutionArgs): Promise<ExecutionResult> {
    const result = await execute({ ...args, rootValue: event });
    if (result.errors) return result;
    return Object.assign({ ...result }, { [JSON_TEXT]: JSON.stringify(result) }) as SharedResult;
  }
}

/** The value cached for (event, document), made by `make` the first time. */
function once<V>(cache: WeakMap<object, Map<DocumentNode, V>>, event: object, document: DocumentNode, make: () => V): V {
  let perDocument = cache.get(event);
  if (!perDocument) {
    perDocument = new Map();
    cache.set(event, perDocument);
  }
  let value = perDocument.get(document);
  if (value === undefined) {
    value = make();
    perDocument.set(document, value);
  }
  return value;
}
