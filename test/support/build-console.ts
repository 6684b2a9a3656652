import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BUILDING = Symbol.for('hotswap.test.build-console');

/** The newest mtime under `p`, in ms (0 when absent). */
function newest(p: string): number {
  let stat;
  try {
    stat = statSync(p);
  } catch {
    return 0;
  }
  let latest = stat.mtimeMs;
  if (stat.isDirectory()) for (const name of readdirSync(p)) latest = Math.max(latest, newest(path.join(p, name)));
  return latest;
}

/**
 * Builds the console into dist/console as `npm run build` does (scripts/build.mjs
 * --console) when its sources changed since the last build, once per run (the
 * projects' global setups share one build), so tests see the current sources
 * served by the service.
 */
export default async function setup(): Promise<void> {
  const built = newest(path.join(ROOT, 'dist/console/index.html'));
  const sources = Math.max(newest(path.join(ROOT, 'console')), newest(path.join(ROOT, 'package-lock.json')));
  if (built > sources) return;
  const shared = globalThis as { [BUILDING]?: Promise<unknown> };
  shared[BUILDING] ??= promisify(execFile)(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--console'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  await shared[BUILDING];
}
