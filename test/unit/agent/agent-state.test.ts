import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentState } from '../../../src/agent/agent-state.js';

const jwt = (exp: number) => `h.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.s`;

describe('AgentState', () => {
  it('keeps the instance token readable by its owner only, and gives it back until a minute before it expires', async () => {
    const state = new AgentState(path.join(await mkdtemp(path.join(tmpdir(), 'agent-state-')), 'state'));
    await state.prepare();
    expect((await stat(state.dir)).mode & 0o777).toBe(0o700);
    expect(await state.savedToken()).toBeUndefined();
    const now = Date.parse('2026-12-07T12:00:00Z');
    await state.saveToken(jwt(now / 1000 + 3600));
    expect((await stat(path.join(state.dir, 'instance-token'))).mode & 0o777).toBe(0o600);
    expect(await state.savedToken(now)).toBe(jwt(now / 1000 + 3600));
    expect(await state.savedToken(now + 3600_000 - 30_000)).toBeUndefined();
    await state.forgetToken();
    expect(await state.savedToken(now)).toBeUndefined();
  });

  it('ignores a token file that is not a JWT with an expiry', async () => {
    const state = new AgentState(await mkdtemp(path.join(tmpdir(), 'agent-state-')));
    await writeFile(path.join(state.dir, 'instance-token'), 'garbage');
    expect(await state.savedToken()).toBeUndefined();
    await writeFile(path.join(state.dir, 'instance-token'), jwt(Number.NaN).replace('null', '"soon"'));
    expect(await state.savedToken()).toBeUndefined();
    expect(await readFile(path.join(state.dir, 'instance-token'), 'utf8')).not.toBe('');
  });

  it('says in one line when its directory cannot be made', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'agent-state-'));
    await writeFile(path.join(dir, 'file'), '');
    const under = path.join(dir, 'file', 'state');
    await expect(new AgentState(under).prepare()).rejects.toThrow(`state directory ${under} is not writable: ENOTDIR`);
  });
});
