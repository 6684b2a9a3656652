import 'reflect-metadata';
import './enums.js';
import type { GraphQLSchema } from 'graphql';
import { buildSchemaSync, type NonEmptyArray } from 'type-graphql';
import { ProfileResolver } from '../resolvers/profile.resolver.js';
import { VersionResolver } from '../resolvers/version.resolver.js';

/** The resolver instances, built by the composition root. */
export interface ResolverInstances {
  profile: ProfileResolver;
  version: VersionResolver;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
const RESOLVER_CLASSES: NonEmptyArray<Function> = [ProfileResolver, VersionResolver];

/**
 * Builds the executable schema; type-graphql gets our hand-built resolver
 * instances. Without instances the schema can be printed but not executed.
 */
export function buildGraphQLSchema(resolvers?: ResolverInstances): GraphQLSchema {
  const byClass = new Map<unknown, object>(Object.values(resolvers ?? {}).map((r: object) => [r.constructor, r]));
  return buildSchemaSync({
    resolvers: RESOLVER_CLASSES,
    container: { get: (cls) => byClass.get(cls) },
    validate: false,
  });
}
