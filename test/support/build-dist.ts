import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUILDING = Symbol.for('hotswap.test.build-dist');

/**
 * Builds dist/ once per run (incremental tsc: seconds when nothing changed):
 * CLI tests run the built `hotswap` bin and process tests the built service.
 * The projects' global setups run side by side in one process: they share one
 * build instead of two compilers writing dist/ at once.
 */
export default async function setup(): Promise<void> {
  const shared = globalThis as { [BUILDING]?: Promise<unknown> };
  shared[BUILDING] ??= promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
  });
  await shared[BUILDING];
}
