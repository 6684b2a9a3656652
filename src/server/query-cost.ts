import {
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  typeFromAST,
} from 'graphql';

/** What a JSON leaf (a config body, up to the config size limit) costs, against 1 for an object field. */
export const JSON_FIELD_COST = 50;

interface CostContext {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  maxPageSize: number;
}

/**
 * The cost of the operation to run, knowing our pagination, our payloads and
 * the request's variables: each object field costs 1, a JSON field (config
 * data) JSON_FIELD_COST, and a field with a `first` (or `last`) argument multiplies what is
 * under it by that page size (the literal or variable's value, else the
 * argument's default, at most `maxPageSize`). Returns 0 when the operation is
 * not found (validation reports that).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  maxPageSize: number,
): number {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return 0;
  const root =
    operation.operation === 'query' ? schema.getQueryType()
      : operation.operation === 'mutation' ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!root) return 0;
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );
  return selectionCost({ schema, fragments, variables: variables ?? {}, maxPageSize }, operation.selectionSet, root, new Set());
}

function selectionCost(ctx: CostContext, selectionSet: SelectionSetNode, parentType: GraphQLCompositeType, fragmentsOnPath: Set<string>): number {
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const field = fieldOf(parentType, selection.name.value);
      const type = field && getNamedType(field.type);
      if (type?.name === 'JSON') cost += JSON_FIELD_COST;
      if (!field || !selection.selectionSet || !isCompositeType(type)) continue;
      const pages = pageSize(ctx, field, selection.arguments ?? []);
      cost += 1 + pages * selectionCost(ctx, selection.selectionSet, type, fragmentsOnPath);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? typeFromAST(ctx.schema, selection.typeCondition) : parentType;
      if (isCompositeType(type)) cost += selectionCost(ctx, selection.selectionSet, type, fragmentsOnPath);
    } else {
      const name = selection.name.value;
      const fragment = ctx.fragments.get(name);
      if (!fragment || fragmentsOnPath.has(name)) continue; // unknown or cyclic: validation reports it
      const type = typeFromAST(ctx.schema, fragment.typeCondition);
      if (!isCompositeType(type)) continue;
      fragmentsOnPath.add(name);
      cost += selectionCost(ctx, fragment.selectionSet, type, fragmentsOnPath);
      fragmentsOnPath.delete(name);
    }
  }
  return cost;
}

function fieldOf(type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

/** Arguments that say how many items a list field returns. */
const PAGE_ARGS = ['first', 'last'];

function pageSize(ctx: CostContext, field: GraphQLField<unknown, unknown>, args: readonly ArgumentNode[]): number {
  const def = field.args.find((a) => PAGE_ARGS.includes(a.name));
  if (!def) return 1;
  const given = args.find((a) => a.name.value === def.name);
  let value: unknown = def.defaultValue;
  if (given?.value.kind === Kind.INT) value = Number(given.value.value);
  else if (given?.value.kind === Kind.VARIABLE) value = ctx.variables[given.value.name.value] ?? def.defaultValue;
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(Math.max(1, value), ctx.maxPageSize) : ctx.maxPageSize;
}
