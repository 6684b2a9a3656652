import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Builds the console into dist/console once per run, as `npm run build` does
 * (scripts/build.mjs --console), so the browser tests see the current sources
 * served by the built service.
 */
export default async function setup(): Promise<void> {
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--console'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
}
