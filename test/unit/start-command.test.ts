import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCommandArgs } from '../support/process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the start command', () => {
  it('is the same in package.json, the Dockerfile and the process tests', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const cmds = [...dockerfile.matchAll(/^CMD (\[.*\])$/gm)].map((m) => JSON.parse(m[1]!) as string[]);
    const server = cmds.find((cmd) => cmd.includes('dist/src/main.js'));
    expect(server).toEqual(['node', ...startCommandArgs()]);
  });

  it('runs the built output with the instrumentation loaded first', () => {
    expect(startCommandArgs()).toEqual(['--import', './dist/src/instrumentation.js', 'dist/src/main.js']);
  });

  it("has the Dockerfile's build stage copy every source the build reads (scripts/build.mjs INPUTS), the console included", () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const buildStage = dockerfile.slice(0, dockerfile.indexOf('\nFROM ', dockerfile.indexOf('AS build')));
    const copied = [...buildStage.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    const inputs = /const INPUTS = (\[[^\]]*\])/.exec(readFileSync(path.join(ROOT, 'scripts/build.mjs'), 'utf8'))![1]!;
    for (const input of JSON.parse(inputs.replace(/'/g, '"')) as string[]) expect(copied, input).toContain(input);
  });
});
