import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandHook, SignalHook } from '../../../src/agent/reload-hook.js';

const context = { profileName: 'orders-api', version: 7, file: '/config/orders-api.json' };

/** Running and not a zombie (an orphan whose reaper is slow still counts as gone). Linux: /proc. */
function isRunning(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('reload hooks', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hotswap-hook-'));
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  describe('CommandHook', () => {
    it('reports exit 0 as applied, with its duration', async () => {
      const result = await new CommandHook({ command: 'sleep 0.05', timeoutMs: 5000 }).run(context);
      expect(result).toEqual({ ok: true, durationMs: expect.any(Number) });
      expect(result.durationMs).toBeGreaterThanOrEqual(40);
    });

    it('reports a non-zero exit with the tail of stderr on one line', async () => {
      const result = await new CommandHook({ command: 'echo starting; echo "bad config:" >&2; printf "  line 3\\n\\tunknown key\\n" >&2; exit 3', timeoutMs: 5000 }).run(context);
      expect(result).toMatchObject({ ok: false, error: 'exit 3: bad config: line 3 unknown key' });
    });

    it('keeps only the last ~500 characters of a long stderr', async () => {
      const result = await new CommandHook({ command: "head -c 20000 /dev/zero | tr '\\0' x >&2; echo ' the end' >&2; exit 1", timeoutMs: 5000 }).run(context);
      expect(result.error).toMatch(/^exit 1: …x+ the end$/);
      expect(result.error!.length).toBeLessThan(520);
    });

    it('says so when a failing command wrote nothing on stderr', async () => {
      expect(await new CommandHook({ command: 'exit 1', timeoutMs: 5000 }).run(context)).toMatchObject({ error: 'exit 1 (nothing on stderr)' });
    });

    it('gives the command the profile, version and file, and none of the agent’s HOTSWAP_ variables', async () => {
      const out = path.join(dir, 'env');
      const command = `printf '%s|%s|%s|%s|%s' "$HOTSWAP_PROFILE" "$HOTSWAP_VERSION" "$HOTSWAP_FILE" "\${HOTSWAP_REGISTRATION_TOKEN-unset}" "$KEEP" > ${out}`;
      const env = { PATH: process.env.PATH, KEEP: 'kept', HOTSWAP_REGISTRATION_TOKEN: 'secret', HOTSWAP_FILE: 'stale' };
      const hook = new CommandHook({ command, timeoutMs: 5000, env });
      expect(await hook.run(context)).toMatchObject({ ok: true });
      expect(await readFile(out, 'utf8')).toBe('orders-api|7|/config/orders-api.json|unset|kept');
      await hook.run({ ...context, file: null });
      expect(await readFile(out, 'utf8')).toBe('orders-api|7||unset|kept');
    });

    it('kills a command that hangs, and the children it started, when the timeout expires', async () => {
      const pidFile = path.join(dir, 'child.pid');
      const hook = new CommandHook({ command: `sleep 30 & echo $! > ${pidFile}; echo waiting >&2; wait`, timeoutMs: 300, killGraceMs: 200 });
      const result = await hook.run(context);
      expect(result).toMatchObject({ ok: false, error: 'timed out after 300 ms: waiting' });
      expect(result.durationMs).toBeGreaterThanOrEqual(290);
      expect(result.durationMs).toBeLessThan(2000);
      const child = Number(await readFile(pidFile, 'utf8'));
      await until(() => !isRunning(child));
    });

    it('escalates to SIGKILL when the command ignores SIGTERM', async () => {
      const pidFile = path.join(dir, 'child.pid');
      const hook = new CommandHook({ command: `trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait`, timeoutMs: 200, killGraceMs: 200 });
      const result = await hook.run(context);
      expect(result).toMatchObject({ ok: false, error: 'timed out after 200 ms (nothing on stderr)' });
      expect(result.durationMs).toBeGreaterThanOrEqual(390);
      await until(() => !isRunning(Number(readFileSync(pidFile, 'utf8'))));
    });

    it('reports a program that cannot be started', async () => {
      const result = await new CommandHook({ command: path.join(dir, 'no-such-program'), shell: false, timeoutMs: 5000 }).run(context);
      expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^cannot run .*no-such-program: spawn .* ENOENT$/) });
    });

    it('runs a program without a shell, with its arguments', async () => {
      expect(await new CommandHook({ command: '/bin/sh', args: ['-c', 'exit 4'], shell: false, timeoutMs: 5000 }).run(context)).toMatchObject({ error: 'exit 4 (nothing on stderr)' });
    });

    it('never runs two reloads of one service at once', async () => {
      const log = path.join(dir, 'log');
      const hook = new CommandHook({ command: `echo start >> ${log}; sleep 0.1; echo end >> ${log}`, timeoutMs: 5000 });
      await Promise.all([hook.run(context), hook.run(context), hook.run(context)]);
      expect(await readFile(log, 'utf8')).toBe('start\nend\n'.repeat(3));
    });
  });

  describe('SignalHook', () => {
    /** A service that records each SIGHUP it gets; resolves once its trap is set. */
    async function service(record: string): Promise<ChildProcess> {
      const child = spawn('/bin/sh', ['-c', `trap 'echo HUP >> ${record}' HUP; echo ready; while :; do sleep 0.02; done`], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      return child;
    }

    it('reads the pid file at every run, so a restarted service gets the signal', async () => {
      const pidFile = path.join(dir, 'service.pid');
      const hook = new SignalHook({ signal: 'SIGHUP', pidFile });
      for (const name of ['first', 'restarted']) {
        const record = path.join(dir, name);
        const child = await service(record);
        await writeFile(pidFile, `${child.pid}\n`);
        expect(await hook.run()).toEqual({ ok: true, durationMs: expect.any(Number) });
        await until(async () => (await readFile(record, 'utf8').catch(() => '')) === 'HUP\n');
        child.kill('SIGKILL');
      }
    });

    it('signals a process given by pid', async () => {
      const record = path.join(dir, 'record');
      const child = await service(record);
      expect(await new SignalHook({ signal: 'SIGHUP', pid: child.pid! }).run()).toMatchObject({ ok: true });
      await until(async () => (await readFile(record, 'utf8').catch(() => '')) === 'HUP\n');
    });

    it('fails, naming the pid file, when the process it names has exited', async () => {
      const gone = spawn('/bin/sh', ['-c', 'exit 0']);
      await new Promise((resolve) => gone.once('exit', resolve));
      const pidFile = path.join(dir, 'stale.pid');
      await writeFile(pidFile, String(gone.pid));
      expect(await new SignalHook({ signal: 'SIGHUP', pidFile }).run()).toMatchObject({ ok: false, error: `process ${gone.pid} (from ${pidFile}) is not running: the pid file is stale` });
    });

    it.each([
      ['missing', undefined, 'does not exist (is the service running?)'],
      ['garbage', 'nginx\n', 'does not hold a process id to signal: "nginx\\n"'],
      ['zero', '0', 'does not hold a process id to signal: "0"'],
      ['negative', '-12', 'does not hold a process id to signal: "-12"'],
    ])('fails on a %s pid file', async (_case, content, message) => {
      const pidFile = path.join(dir, 'service.pid');
      if (content !== undefined) await writeFile(pidFile, content);
      expect(await new SignalHook({ signal: 'SIGHUP', pidFile }).run()).toMatchObject({ ok: false, error: `pid file ${pidFile} ${message}` });
    });

    it('refuses an unknown signal, and needs exactly one of pid and pid file', () => {
      expect(() => new SignalHook({ signal: 'SIGNOPE' as NodeJS.Signals, pid: 1234 })).toThrow('unknown signal SIGNOPE');
      expect(() => new SignalHook({ signal: 'SIGHUP' })).toThrow('a pid or a pid file (one of them)');
      expect(() => new SignalHook({ signal: 'SIGHUP', pid: 1234, pidFile: 'x' })).toThrow('a pid or a pid file (one of them)');
      expect(() => new SignalHook({ signal: 'SIGHUP', pid: process.pid })).toThrow('not a process id to signal');
    });
  });
});
