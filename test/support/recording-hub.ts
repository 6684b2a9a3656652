import { ConfigPushHub } from '../../src/delivery/push-hub.js';
import type { PushMessage } from '../../src/delivery/push-message.js';
import type { PubSub } from '../../src/pubsub/pubsub.js';

/** A push hub whose publish records a copy of each push in `published` instead of sending it. */
export function recordingHub(pubsub: PubSub, published: PushMessage[]): ConfigPushHub {
  return Object.assign(Object.create(new ConfigPushHub(pubsub)) as ConfigPushHub, {
    publish: (m: PushMessage) => {
      published.push(structuredClone(m));
      return Promise.resolve();
    },
  });
}
