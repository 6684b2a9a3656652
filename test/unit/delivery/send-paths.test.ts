import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { SendPath, sendPathOf } from '../../../src/delivery/send-paths.js';

const pathOf = (text: string, operationName?: string) => sendPathOf(parse(text), operationName);

describe('sendPathOf', () => {
  it('leaves a query or a mutation to graphql-ws: one result', () => {
    expect(pathOf('{ profiles { totalCount } }')).toBe(SendPath.RESULT);
    expect(pathOf('mutation($id: ID!) { heartbeat(instanceId: $id) { status } }')).toBe(SendPath.RESULT);
  });

  it('writes configUpdates straight to the socket when its result is the same for every subscriber', () => {
    expect(pathOf('subscription($id: ID!) { configUpdates(instanceId: $id) { profileName version data } }')).toBe(SendPath.DIRECT);
  });

  it('shares the results of deploymentEvents, which ends by itself, but sends them through graphql-ws', () => {
    expect(pathOf('subscription($id: ID!) { deploymentEvents(id: $id) { type status } }')).toBe(SendPath.SHARED);
  });

  it('runs a subscription per subscriber when its result may depend on the subscriber', () => {
    // A variable below the root field, in a directive, or a fragment: the result is not known to be the same for all.
    expect(pathOf('subscription($id: ID!, $p: Boolean!) { configUpdates(instanceId: $id) { profileName @include(if: $p) } }')).toBe(SendPath.PER_SUBSCRIBER);
    expect(pathOf('subscription($id: ID!, $s: Boolean!) { configUpdates(instanceId: $id) @skip(if: $s) { version } }')).toBe(SendPath.PER_SUBSCRIBER);
    expect(pathOf('subscription($id: ID!) { configUpdates(instanceId: $id) { ...F } } fragment F on ConfigUpdate { version }')).toBe(SendPath.PER_SUBSCRIBER);
  });

  it('decides for the operation named, in a document of several', () => {
    const text = 'query Q { profiles { totalCount } } subscription S($id: ID!) { configUpdates(instanceId: $id) { version } }';
    expect(pathOf(text, 'Q')).toBe(SendPath.RESULT);
    expect(pathOf(text, 'S')).toBe(SendPath.DIRECT);
  });
});
