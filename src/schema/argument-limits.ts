import {
  defaultFieldResolver,
  getNullableType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLSchema,
  isInputObjectType,
  isListType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { BadInputError } from '../domain/errors.js';
import { MAX_ID_LENGTH } from '../domain/ids.js';
import { MAX_HOST_LENGTH } from '../domain/instance.js';
import { MAX_CURSOR_LENGTH } from '../domain/pagination.js';
import { MAX_SLUG_LENGTH } from '../domain/slug.js';
import { MAX_TEXT_LENGTH } from '../domain/text.js';

/**
 * The longest value of each String argument or input field that is a name,
 * a filter or a token rather than free text, by schema coordinate
 * (`Type.field(argument:)`, `InputType.field`). The lengths belong to the
 * domain rules they come from; a coordinate the schema lacks stops the start.
 */
export const ARGUMENT_LIMITS: Readonly<Record<string, number>> = {
  'Query.activeColor(service:)': MAX_SLUG_LENGTH,
  'Query.deployments(profileName:)': MAX_SLUG_LENGTH,
  'Query.deployments(after:)': MAX_CURSOR_LENGTH,
  'Query.instances(service:)': MAX_SLUG_LENGTH,
  'Query.profiles(service:)': MAX_SLUG_LENGTH,
  'Query.profiles(after:)': MAX_CURSOR_LENGTH,
  'Query.profile(name:)': MAX_SLUG_LENGTH,
  'Query.version(profileName:)': MAX_SLUG_LENGTH,
  'Query.versionDiff(profileName:)': MAX_SLUG_LENGTH,
  'ConfigProfile.versions(after:)': MAX_CURSOR_LENGTH,
  'Mutation.updateProfile(name:)': MAX_SLUG_LENGTH,
  'Mutation.deleteProfile(name:)': MAX_SLUG_LENGTH,
  'Mutation.publishVersion(profileName:)': MAX_SLUG_LENGTH,
  'Mutation.deleteVersion(profileName:)': MAX_SLUG_LENGTH,
  'Mutation.reportConfigApplied(profileName:)': MAX_SLUG_LENGTH,
  'CreateProfileInput.name': MAX_SLUG_LENGTH,
  'CreateProfileInput.service': MAX_SLUG_LENGTH,
  'RegisterSchemaInput.name': MAX_SLUG_LENGTH,
  'StartDeploymentInput.profileName': MAX_SLUG_LENGTH,
  'RegisterInstanceInput.service': MAX_SLUG_LENGTH,
  'RegisterInstanceInput.host': MAX_HOST_LENGTH,
};

/**
 * The limit of every other string, by scalar: free text (descriptions,
 * reasons…) gets the generous cap, ids the length of a UUID. JSON values are
 * not walked: configs, schemas and metadata have their own size limits.
 */
const LIMIT_BY_SCALAR: Readonly<Record<string, number>> = { String: MAX_TEXT_LENGTH, ID: MAX_ID_LENGTH };

/**
 * Bounds every String and ID argument of `schema`, including those inside
 * input objects and lists, where it enters: each field that takes one checks
 * its arguments before its resolver runs (for a subscription, before it
 * subscribes), refusing a longer value with BAD_USER_INPUT that names the
 * argument and its limit. An argument added later is bounded too, by the
 * table or by its scalar's default. Mutates and returns the schema.
 */
export function boundStringArguments(schema: GraphQLSchema, limits: Readonly<Record<string, number>> = ARGUMENT_LIMITS): GraphQLSchema {
  const known = new Set<string>();
  const carries = new StringCarriers();
  const subscriptionType = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isInputObjectType(type)) for (const f of Object.values(type.getFields())) known.add(`${type.name}.${f.name}`);
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      for (const arg of field.args) known.add(`${type.name}.${field.name}(${arg.name}:)`);
      const bounded = field.args.filter((arg) => carries.strings(arg.type));
      if (bounded.length === 0) continue;
      const check = (args: Record<string, unknown>) => {
        for (const arg of bounded) checkValue(args[arg.name], arg.type, coordinateOf(type.name, field, arg), arg.name, limits, carries);
      };
      if (type === subscriptionType) field.subscribe = checked(field.subscribe ?? defaultFieldResolver, check);
      else field.resolve = checked(field.resolve ?? defaultFieldResolver, check);
    }
  }
  const unknown = Object.keys(limits).filter((coordinate) => !known.has(coordinate));
  if (unknown.length > 0) throw new Error(`argument limits name coordinates the schema does not have: ${unknown.join(', ')}`);
  return schema;
}

function checked<S, C>(resolve: GraphQLFieldResolver<S, C>, check: (args: Record<string, unknown>) => void): GraphQLFieldResolver<S, C> {
  return (source, args, context, info) => {
    check(args);
    return resolve(source, args, context, info);
  };
}

function coordinateOf(typeName: string, field: GraphQLField<unknown, unknown>, arg: GraphQLArgument): string {
  return `${typeName}.${field.name}(${arg.name}:)`;
}

function checkValue(
  value: unknown,
  type: GraphQLInputType,
  coordinate: string,
  path: string,
  limits: Readonly<Record<string, number>>,
  carries: StringCarriers,
): void {
  if (value === null || value === undefined || !carries.strings(type)) return;
  const t = getNullableType(type);
  if (isListType(t)) {
    if (Array.isArray(value)) value.forEach((item, i) => checkValue(item, t.ofType, coordinate, `${path}[${i}]`, limits, carries));
  } else if (isInputObjectType(t)) {
    for (const f of Object.values(t.getFields())) {
      checkValue((value as Record<string, unknown>)[f.name], f.type, `${t.name}.${f.name}`, `${path}.${f.name}`, limits, carries);
    }
  } else if (typeof value === 'string') {
    const max = limits[coordinate] ?? LIMIT_BY_SCALAR[t.name]!;
    if (value.length > max) {
      const what = coordinate.endsWith('(after:)') ? `${path} (a pagination cursor)` : path;
      throw new BadInputError(`${what} is too long (${value.length} characters): at most ${max} are allowed`, { field: path, maxLength: max });
    }
  }
}

/** Which input types hold a String or ID somewhere, computed once per type (input objects may refer to themselves). */
class StringCarriers {
  private readonly known = new Map<string, boolean>();

  strings(type: GraphQLInputType): boolean {
    const t = getNullableType(type);
    if (isListType(t)) return this.strings(t.ofType);
    if (isScalarType(t)) return t.name in LIMIT_BY_SCALAR;
    if (!isInputObjectType(t)) return false;
    const cached = this.known.get(t.name);
    if (cached !== undefined) return cached;
    this.known.set(t.name, false); // while it is being looked at: a self-reference adds nothing
    const result = Object.values(t.getFields()).some((f) => this.strings(f.type));
    this.known.set(t.name, result);
    return result;
  }
}
