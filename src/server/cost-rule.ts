import {
  type ArgumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  type GraphQLCompositeType,
  GraphQLError,
  type GraphQLField,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type SelectionSetNode,
  typeFromAST,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/**
 * Query cost that knows our pagination: each object field costs 1, and a field
 * with a `first` argument multiplies what is under it by that page size — the
 * literal, the argument's default when absent, or `maxPageSize` when it comes
 * from a variable (validation runs before variables are known). So a request
 * for 100 profiles × 100 versions × their data is refused before it runs.
 */
export function costLimitRule(maxCost: number, maxPageSize: number): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const root = operation.operation === 'query' ? context.getSchema().getQueryType()
        : operation.operation === 'mutation' ? context.getSchema().getMutationType()
          : context.getSchema().getSubscriptionType();
      if (!root) return;
      const cost = selectionCost(context, operation.selectionSet, root, maxPageSize, new Set());
      if (cost > maxCost) {
        context.reportError(
          new GraphQLError(`query cost ${cost} exceeds the limit of ${maxCost}: ask for smaller pages or fewer nested lists`, {
            nodes: [operation],
            extensions: { code: 'BAD_USER_INPUT', cost, maxCost },
          }),
        );
      }
    },
  });
}

function selectionCost(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType,
  maxPageSize: number,
  fragmentsOnPath: Set<string>,
): number {
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const field = fieldOf(parentType, selection.name.value);
      const type = field && getNamedType(field.type);
      if (!field || !selection.selectionSet || !isCompositeType(type)) continue;
      const pages = pageSize(field, selection.arguments ?? [], maxPageSize);
      cost += 1 + pages * selectionCost(context, selection.selectionSet, type, maxPageSize, fragmentsOnPath);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? typeFromAST(context.getSchema(), selection.typeCondition) : parentType;
      if (isCompositeType(type)) cost += selectionCost(context, selection.selectionSet, type, maxPageSize, fragmentsOnPath);
    } else {
      const name = selection.name.value;
      const fragment: FragmentDefinitionNode | null | undefined = context.getFragment(name);
      if (!fragment || fragmentsOnPath.has(name)) continue; // unknown or cyclic: other rules report it
      const type = typeFromAST(context.getSchema(), fragment.typeCondition);
      if (!isCompositeType(type)) continue;
      fragmentsOnPath.add(name);
      cost += selectionCost(context, fragment.selectionSet, type, maxPageSize, fragmentsOnPath);
      fragmentsOnPath.delete(name);
    }
  }
  return cost;
}

function fieldOf(type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

function pageSize(
  field: GraphQLField<unknown, unknown>,
  args: readonly ArgumentNode[],
  maxPageSize: number,
): number {
  const def = field.args.find((a) => a.name === 'first');
  if (!def) return 1;
  const given = args.find((a) => a.name.value === 'first');
  if (!given) return typeof def.defaultValue === 'number' ? def.defaultValue : maxPageSize;
  if (given.value.kind === Kind.INT) return Math.max(1, Number(given.value.value));
  return maxPageSize;
}
