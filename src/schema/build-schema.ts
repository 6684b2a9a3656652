import 'reflect-metadata';
import './enums.js';
import type { GraphQLSchema } from 'graphql';
import { buildSchemaSync, type NonEmptyArray } from 'type-graphql';
import { DeploymentResolver } from '../resolvers/deployment.resolver.js';
import { DeploymentTargetResolver } from '../resolvers/deployment-target.resolver.js';
import { InstanceResolver } from '../resolvers/instance.resolver.js';
import { ProfileResolver } from '../resolvers/profile.resolver.js';
import { SchemaResolver } from '../resolvers/schema.resolver.js';
import { SubscriptionResolver } from '../resolvers/subscription.resolver.js';
import { VersionResolver } from '../resolvers/version.resolver.js';
import { DeploymentPlanResolver } from '../resolvers/deployment-plan.resolver.js';
import { ViewerResolver } from '../resolvers/viewer.resolver.js';
import { boundStringArguments } from './argument-limits.js';

/** The resolver instances, built by the composition root. */
export interface ResolverInstances {
  profile: ProfileResolver;
  version: VersionResolver;
  instance: InstanceResolver;
  deployment: DeploymentResolver;
  deploymentTarget: DeploymentTargetResolver;
  subscription: SubscriptionResolver;
  schema: SchemaResolver;
  deploymentPlan: DeploymentPlanResolver;
  viewer: ViewerResolver;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
const RESOLVER_CLASSES: NonEmptyArray<Function> = [
  ProfileResolver,
  VersionResolver,
  InstanceResolver,
  DeploymentResolver,
  DeploymentTargetResolver,
  SubscriptionResolver,
  SchemaResolver,
  DeploymentPlanResolver,
  ViewerResolver,
];

/**
 * type-graphql requires a pubSub whenever there are subscriptions, although
 * ours each bring their own `subscribe` (src/delivery/config-feed.service.ts)
 * and never use topics.
 */
const TOPICS_UNUSED = {
  publish(): never {
    throw new Error('subscriptions here do not use type-graphql topics');
  },
  subscribe(): never {
    throw new Error('subscriptions here do not use type-graphql topics');
  },
};

/**
 * Builds the executable schema; type-graphql gets our hand-built resolver
 * instances. Without instances the schema can be printed but not executed.
 * Every string argument is bounded where it enters (./argument-limits.ts).
 */
export function buildGraphQLSchema(resolvers?: ResolverInstances): GraphQLSchema {
  const byClass = new Map<unknown, object>(Object.values(resolvers ?? {}).map((r: object) => [r.constructor, r]));
  const schema = buildSchemaSync({
    resolvers: RESOLVER_CLASSES,
    container: { get: (cls) => byClass.get(cls) },
    validate: false,
    pubSub: TOPICS_UNUSED,
  });
  return boundStringArguments(schema);
}
