/**
 * An unbounded push-based AsyncIterableIterator: producers `push`, one consumer
 * iterates. `return()` (the consumer leaving, e.g. a websocket closing) runs
 * `onClose` once, so subscriptions are released exactly once.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: Array<(result: IteratorResult<T>) => void> = [];
  private closed = false;
  private take: ((value: T) => void) | undefined;

  constructor(private readonly onClose: () => void = () => {}) {}

  /**
   * From now on, a value pushed while nothing is buffered and the consumer
   * waits goes to `take` instead, which then owns its delivery (and keeps the
   * order): once taken, the consumer waits on, so every later value is taken too.
   */
  divert(take: (value: T) => void): void {
    this.take = take;
  }

  push(value: T): void {
    if (this.closed) return;
    if (this.take !== undefined && this.buffer.length === 0 && this.waiting.length > 0) return this.take(value);
    const resolve = this.waiting.shift();
    if (resolve) resolve({ value, done: false });
    else this.buffer.push(value);
  }

  /** Ends the iteration after the buffered values have been read. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    for (const resolve of this.waiting.splice(0)) resolve({ value: undefined, done: true });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.buffer.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.return();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

export function isAsyncIterable<T>(value: unknown): value is AsyncGenerator<T> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Maps each event of a source stream. Not an async generator: return() must
 * reach the source at once (a subscriber leaving while no event is pending),
 * where a generator's return() would wait for the pending next().
 */
export function mapEvents<S, T>(source: AsyncIterable<S>, map: (event: S) => Promise<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const done = async (): Promise<IteratorResult<T>> => {
    await iterator.return?.();
    return { value: undefined, done: true };
  };
  const mapped: AsyncGenerator<T> = {
    async next() {
      const next = await iterator.next();
      return next.done ? { value: undefined, done: true } : { value: await map(next.value), done: false };
    },
    return: done,
    async throw(error: unknown) {
      await done();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped;
}
