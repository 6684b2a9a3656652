import {
  type DocumentNode,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  getOperationAST,
  Kind,
  visit,
} from 'graphql';

const MARKER = '\u0001hotswap-result:';
/** How the marker reads inside a JSON-encoded message (JSON escapes U+0001). */
const ENCODED_MARKER = JSON.stringify(MARKER).slice(1, -1);
const JSON_TEXT = Symbol('json');

type SharedResult = ExecutionResult & { [JSON_TEXT]: string };

/**
 * Serializes a pushed config once for all its subscribers. graphql-ws would
 * execute the selection and JSON.stringify the result once per subscriber;
 * for a push to 10,000 instances that is most of the fan-out's cost. Here the
 * result is executed once per (push, document) and travels as a short marker
 * that the socket's send puts back as the pre-serialized JSON.
 */
export class SharedResults {
  private readonly byEvent = new WeakMap<object, Map<DocumentNode, Promise<ExecutionResult>>>();
  private readonly live = new Map<number, WeakRef<SharedResult>>();
  private readonly finalizer = new FinalizationRegistry<number>((id) => this.live.delete(id));
  private nextId = 0;

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
    let perDocument = this.byEvent.get(event);
    if (!perDocument) {
      perDocument = new Map();
      this.byEvent.set(event, perDocument);
    }
    let result = perDocument.get(args.document);
    if (!result) {
      result = this.build(event, args);
      perDocument.set(args.document, result);
    }
    return result;
  }

  /** Puts the serialized result back in an outgoing message that carries a marker. */
  expand(message: string): string {
    const at = message.indexOf(ENCODED_MARKER);
    if (at < 0) return message;
    const end = message.indexOf('"', at);
    const json = this.live.get(Number(message.slice(at + ENCODED_MARKER.length, end)))?.deref()?.[JSON_TEXT];
    return json === undefined ? message : message.slice(0, at - 1) + json + message.slice(end + 1);
  }

  private async build(event: object, args: ExecutionArgs): Promise<ExecutionResult> {
    const result = await execute({ ...args, rootValue: event });
    if (result.errors) return result;
    const id = this.nextId++;
    const marker = `${MARKER}${id}`;
    // Own properties: graphql-ws spreads the result into its message, so toJSON and the text go along.
    const shared = { toJSON: () => marker, [JSON_TEXT]: JSON.stringify(result) } as unknown as SharedResult;
    this.live.set(id, new WeakRef(shared));
    this.finalizer.register(shared, id);
    return shared;
  }
}
