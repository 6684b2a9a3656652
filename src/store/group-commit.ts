interface Waiting<T, R> {
  item: T;
  /** Run alone after its batch failed. */
  alone?: boolean;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: the items added while a batch runs go together in the next
 * one (up to `maxBatch`), and each caller is answered with its own result once
 * its batch is done. A batch that fails is run again one item at a time, so a
 * bad item fails only its own caller. `run` answers one result per item, in
 * order.
 */
export class GroupCommit<T, R> {
  private readonly queue: Array<Waiting<T, R>> = [];
  private running = false;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly maxBatch: number,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue[0]?.alone ? this.queue.splice(0, 1) : this.queue.splice(0, this.maxBatch);
        try {
          const results = await this.run(batch.map((w) => w.item));
          batch.forEach((w, i) => w.resolve(results[i]!));
        } catch (error) {
          if (batch.length === 1) batch[0]!.reject(error);
          else this.queue.unshift(...batch.map((w) => ({ ...w, alone: true })));
        }
      }
    } finally {
      this.running = false;
    }
  }
}
