#!/usr/bin/env node
// Compiles the service to dist/ (tsc -p tsconfig.build.json), builds the console
// into dist/console (Vite: the static pages the service serves at `/`), and stamps the build.
// With --if-changed (npm start's prestart) it compiles only when a source, a
// tsconfig or the package files changed since the last successful build, so a
// restart does not wait for the compiler.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = path.join(root, 'dist/.build-stamp');
const ENTRY = path.join(root, 'dist/src/main.js');
/** What the build reads: a file or directory changed (or added, or removed: its directory's mtime moves) after the stamp means a rebuild. */
const INPUTS = ['src', 'console', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

/** The newest mtime under `p` (files and directories), in ms; 0 when absent. */
function newest(p) {
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

/** Why a build is needed, or null when dist/ is current. */
export function staleReason() {
  if (!existsSync(ENTRY) || !existsSync(STAMP)) return 'no build yet';
  const stamp = statSync(STAMP).mtimeMs;
  const changed = INPUTS.find((input) => newest(path.join(root, input)) > stamp);
  return changed === undefined ? null : `${changed} changed since the last build`;
}

function build() {
  // The stamp takes the time the build started: a file saved during the build is newer, and triggers the next one.
  const started = new Date();
  // From empty: tsc never deletes the output of a source that moved or was removed, and npm pack would ship it.
  rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  buildConsole();
  writeFileSync(STAMP, `built ${started.toISOString()}; see scripts/build.mjs\n`);
  utimesSync(STAMP, started, started);
}

/**
 * The console's static files, into dist/console (Vite, its config in console/).
 * Built beside it and swapped in with renames: a running service never serves
 * a half-written console.
 */
export function buildConsole() {
  const vite = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin/vite.js');
  const target = path.join(root, 'dist/console');
  const fresh = `${target}.building-${process.pid}`;
  const old = `${target}.old-${process.pid}`;
  execFileSync(process.execPath, [vite, 'build', '--config', path.join(root, 'console/vite.config.ts'), '--outDir', fresh, '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (existsSync(target)) renameSync(target, old);
  renameSync(fresh, target);
  rmSync(old, { recursive: true, force: true });
}

if (process.argv[2] === '--if-changed') {
  const reason = staleReason();
  if (reason === null) {
    console.log('dist/ is up to date; not compiling (npm run build forces it)');
  } else {
    console.log(`compiling to dist/ (${reason})`);
    build();
  }
} else if (process.argv[2] === '--console') {
  buildConsole();
} else {
  build();
}
