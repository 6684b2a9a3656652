import { Worker } from 'node:worker_threads';
import { BadInputError, type ValidationIssue } from '../domain/errors.js';
import type { JsonObject } from '../domain/json.js';
import type { ValidationReply, ValidationRequest } from './validation-worker.js';

export interface SandboxOptions {
  maxSchemaBytes: number;
  /** Longest one validation may take. @default 2000 */
  timeoutMs: number;
  /** Heap of the validation thread. @default 256 */
  memoryMb: number;
}

interface Pending {
  resolve: (issues: ValidationIssue[]) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

// The worker loads validation-worker through tsx when running from sources (dev, tests).
// Only dynamic import(): eval code is CommonJS or ESM depending on how Node was started.
const WORKER_CODE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  if (workerData.moduleUrl.endsWith('.ts')) (await import('tsx/esm/api')).register();
  const { handle } = await import(workerData.moduleUrl);
  parentPort.on('message', (request) => parentPort.postMessage(handle(request)));
})();
`;

/**
 * Validates configs in a worker thread with a time and memory budget. A
 * JSON Schema is code a developer wrote: $ref fan-out, uniqueItems over long
 * arrays or allErrors over huge inputs can take minutes or gigabytes. Here
 * such a validation is stopped (the thread is replaced) and refused, and the
 * server keeps answering.
 */
export class SandboxedValidator {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private readonly moduleUrl = new URL(`./validation-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

  constructor(private readonly options: SandboxOptions) {}

  validate(schemaHash: string, schema: JsonObject, data: unknown): Promise<ValidationIssue[]> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(`validation took longer than ${this.options.timeoutMs} ms`), this.options.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const request: ValidationRequest = { id, schemaHash, schema, data, maxSchemaBytes: this.options.maxSchemaBytes };
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_CODE, {
      eval: true,
      workerData: { moduleUrl: this.moduleUrl },
      resourceLimits: { maxOldGenerationSizeMb: this.options.memoryMb },
    });
    worker.unref();
    worker.on('message', (reply: ValidationReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      clearTimeout(p.timer);
      if ('failure' in reply) p.reject(new BadInputError(reply.failure, { field: 'schema' }));
      else p.resolve(reply.issues);
    });
    worker.on('error', (error) => this.fail(/memory/i.test(error.message) ? 'validation ran out of memory' : error.message));
    this.worker = worker;
    return worker;
  }

  /** Stops the thread and refuses everything it was doing; the next validation starts a new one. */
  private fail(reason: string): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(
        new BadInputError(
          `${reason}: the schema or the config is too costly to validate (deep $ref fan-out, uniqueItems over long arrays, or a huge input)`,
          { field: 'data' },
        ),
      );
    }
  }
}
