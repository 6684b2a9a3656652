import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  getOperationAST,
  GraphQLError,
  type GraphQLFormattedError,
  Kind,
  subscribe,
} from 'graphql';
import { ErrorCode } from '../domain/errors.js';
import { AsyncQueue, isAsyncIterable, mapEvents } from './async-queue.js';
import { DirectLane, type LaneSocket, PayloadBatches } from './direct-lane.js';
import type { MessageScheduler } from './message-scheduler.js';
import { SharedResults } from './shared-results.js';

/** The ways an operation's results reach its socket. */
export enum SendPath {
  /** A query or mutation: graphql-ws executes it and sends its one result (errors formatted by us). */
  RESULT = 'RESULT',
  /** A subscription whose result may differ per subscriber: graphql-ws executes and serializes each event for each subscriber. */
  PER_SUBSCRIBER = 'PER_SUBSCRIBER',
  /**
   * A subscription whose result is the same for every subscriber: each event is
   * executed and serialized once per document (SharedResults); graphql-ws sends
   * a single-use token in its place, which the socket adapter splices the JSON into.
   */
  SHARED = 'SHARED',
  /**
   * SHARED, and an event that arrives while graphql-ws has sent everything
   * before and waits is written straight to the socket as bytes by a DirectLane,
   * past graphql-ws's per-subscriber iteration: the fan-out of a push.
   */
  DIRECT = 'DIRECT',
}

/**
 * Which path the messages of an operation take, and why. DIRECT is only for
 * configUpdates, a feed that never ends by itself: graphql-ws's own `complete`
 * could otherwise overtake a lane's last events (deploymentEvents ends after a
 * terminal event, so it stays SHARED).
 */
export function sendPathOf(document: DocumentNode, operationName: string | null | undefined): SendPath {
  const operation = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription') return SendPath.RESULT;
  if (!SharedResults.isShareable(document, operationName)) return SendPath.PER_SUBSCRIBER;
  const root = operation.selectionSet.selections[0];
  return root?.kind === Kind.FIELD && root.name.value === 'configUpdates' ? SendPath.DIRECT : SendPath.SHARED;
}

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/**
 * Starts each operation on its send path (sendPathOf) and answers graphql-ws's
 * `subscribe` and `onNext` for it. One per websocket server: its shared results
 * and payload batches serve every connection.
 */
export class SendPaths {
  private readonly started = new WeakMap<ExecutionArgs, AsyncGenerator<ExecutionResult>>();
  private readonly batches: PayloadBatches;

  constructor(
    private readonly shared: SharedResults,
    private readonly formatError: FormatError,
    messages?: MessageScheduler,
  ) {
    this.batches = new PayloadBatches(messages);
  }

  /**
   * Starts a subscription here rather than in graphql-ws: a refused one must be
   * an `error` message (API.md), not a `next` carrying errors, so graphql-ws gets
   * the stream (from subscribe()) only once it started. Returns `args` to run,
   * or why the subscription could not start.
   */
  async start(args: ExecutionArgs, id: string, socket: LaneSocket): Promise<ExecutionArgs | readonly GraphQLError[]> {
    const path = sendPathOf(args.document, args.operationName);
    if (path === SendPath.RESULT) return args;
    if (path === SendPath.PER_SUBSCRIBER) {
      const started = await subscribe(args);
      if (!isAsyncIterable<ExecutionResult>(started)) return started.errors ?? notStarted();
      this.started.set(args, started);
      return args;
    }
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable<object>(source)) return (source as ExecutionResult).errors ?? notStarted();
    // The feed's own queue: a lane takes from it the events graphql-ws is not busy with.
    if (path === SendPath.DIRECT && source instanceof AsyncQueue) {
      new DirectLane(source, id, socket, (event) => this.shared.bytesFor(event, args, (result) => JSON.stringify(this.formatted(result))), this.batches);
    }
    this.started.set(args, mapEvents(source, (event) => this.shared.resultFor(event, args)));
    return args;
  }

  /** graphql-ws's `subscribe`: the stream start() began. */
  subscribe(args: ExecutionArgs): AsyncGenerator<ExecutionResult> | ReturnType<typeof subscribe> {
    return this.started.get(args) ?? subscribe(args);
  }

  /** graphql-ws's `onNext`: a shared result becomes its token, a result with errors is formatted, any other is graphql-ws's to send. */
  payloadOf(result: ExecutionResult): FormattedExecutionResult | undefined {
    return this.shared.claim(result) ?? (result.errors ? this.formatted(result) : undefined);
  }

  private formatted(result: ExecutionResult): FormattedExecutionResult {
    return { ...result, ...(result.errors && { errors: result.errors.map((e) => this.formatError(e.toJSON(), e)) }) };
  }
}

function notStarted(): GraphQLError[] {
  return [new GraphQLError('the subscription could not start', { extensions: { code: ErrorCode.BAD_USER_INPUT } })];
}
