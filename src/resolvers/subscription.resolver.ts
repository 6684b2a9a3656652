import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { DeploymentEventRecord } from '../domain/deployment-model.js';
import type { ConfigPush } from '../delivery/push-message.js';
import { ConfigUpdate } from '../schema/config-update.type.js';
import type { GraphQLContext } from '../schema/context.js';
import { DeploymentEvent } from '../schema/deployment.type.js';

interface SubscribeData<A> {
  args: A;
  context: GraphQLContext;
}

/** The two subscriptions; the feeds do the work (src/delivery/config-feed.service.ts). */
@Resolver()
export class SubscriptionResolver {
  @Subscription(() => ConfigUpdate, {
    description: 'First the current config of each of the instance\'s profiles, then every push.',
    subscribe: ({ args, context }: SubscribeData<{ instanceId: string }>) =>
      context.feeds.configUpdates(context.principal, args.instanceId),
  })
  configUpdates(@Root() push: ConfigPush, @Arg('instanceId', () => ID) _instanceId: string): ConfigUpdate {
    return push;
  }

  @Subscription(() => DeploymentEvent, {
    description: 'First the deployment\'s current state as an event (type CURRENT_STATE), then each event.',
    subscribe: ({ args, context }: SubscribeData<{ id: string }>) => context.feeds.deploymentEvents(context.principal, args.id),
  })
  deploymentEvents(@Root() event: DeploymentEventRecord, @Arg('id', () => ID) _id: string): DeploymentEvent {
    return event;
  }
}
