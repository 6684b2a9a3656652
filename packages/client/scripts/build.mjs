#!/usr/bin/env node
// Builds @hotswap-config/client from the repository's src/client: ES modules
// with their types to dist/esm, CommonJS with its types to dist/cjs.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const staging = path.join(root, '.build');
const compile = (config) => execFileSync(process.execPath, [tsc, '-p', path.join(root, config)], { cwd: root, stdio: 'inherit' });

rmSync(path.join(root, 'dist'), { recursive: true, force: true });
rmSync(staging, { recursive: true, force: true });
compile('tsconfig.esm.json');

// tsc (NodeNext) compiles a file to the module format of its nearest package.json,
// and src/ sits under the repository's "type": "module". A copy under a
// "type": "commonjs" package.json compiles to CommonJS, resolving its imports
// with the `require` conditions, and its .d.ts files are read as CommonJS types.
const commonJs = JSON.stringify({ type: 'commonjs' }) + '\n';
cpSync(path.resolve(root, '../../src/client'), path.join(staging, 'cjs-src'), { recursive: true });
writeFileSync(path.join(staging, 'cjs-src/package.json'), commonJs);
try {
  compile('tsconfig.cjs.json');
} finally {
  rmSync(staging, { recursive: true, force: true });
}
writeFileSync(path.join(root, 'dist/cjs/package.json'), commonJs);
