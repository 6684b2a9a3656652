import { type DocumentNode, GraphQLError, type GraphQLSchema, parse, specifiedRules, validate, type ValidationRule } from 'graphql';

/** A parsed and validated operation, or why it was refused. */
export type PreparedDocument = { document: DocumentNode } | { errors: readonly GraphQLError[] };

/**
 * Parses and validates operation texts once: instances subscribe and ack with
 * the same few texts, so one shared DocumentNode serves them all (memory) and
 * validation runs once per text (CPU). Refusals are not cached. It is part of
 * delivery: SharedResults keys a push's result by DocumentNode, so it is
 * shared by the subscribers whose text is cached here, and made per subscriber
 * for a text too long to be kept.
 */
export class DocumentCache {
  /** Longer operation texts are prepared every time instead of being kept. */
  static readonly MAX_CACHED_LENGTH = 8 * 1024;

  private readonly documents = new Map<string, DocumentNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly maxEntries = 500,
  ) {}

  prepare(query: string): PreparedDocument {
    const cached = this.documents.get(query);
    if (cached) return { document: cached };
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: 10_000 });
    } catch (error) {
      return { errors: [error instanceof GraphQLError ? error : new GraphQLError('the operation could not be parsed')] };
    }
    const errors = validate(this.schema, document, [...specifiedRules, ...this.rules]);
    if (errors.length > 0) return { errors };
    if (query.length <= DocumentCache.MAX_CACHED_LENGTH) {
      if (this.documents.size >= this.maxEntries) this.documents.delete(this.documents.keys().next().value!);
      this.documents.set(query, document);
    }
    return { document };
  }
}
