#!/usr/bin/env node
// The `hotswap` command: runs the compiled CLI (npm install builds it via `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('hotswap: the CLI is not built yet; run `npm run build` in the HotSwap checkout first.');
  process.exit(1);
}
await import(entry.href);
