/**
 * Tells the service its config changed, and reports how that went: the
 * result becomes the instance's ack, so a reload the service refuses rolls
 * the deployment back.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ReloadHook, StepResult } from './agent-types.js';

type HookContext = Parameters<ReloadHook['run']>[0];

export interface CommandHookOptions {
  /** With `shell`, a command line for `sh -c`; without, the program to run (with `args`). */
  command: string;
  /** Arguments, when `shell` is false. @default [] */
  args?: readonly string[];
  /** How long the command may run before its process group is killed and the reload counts as failed. */
  timeoutMs: number;
  /** Run `command` with `sh -c`. @default true */
  shell?: boolean;
  /** Between SIGTERM and SIGKILL when the command times out. @default 2000 */
  killGraceMs?: number;
  /** The environment the command inherits (its `HOTSWAP_*` variables removed). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default the agent's working directory */
  cwd?: string;
}

/** How much of the command's stderr is kept, and how much of it an error shows. */
const STDERR_KEEP_BYTES = 4096;
const STDERR_TAIL_CHARS = 500;
/** How long to wait, after the command exits, for the rest of its stderr (a child it left behind may hold the pipe). */
const STDERR_DRAIN_MS = 200;

/**
 * Runs a command after each write: exit 0 means the service took the config.
 * Its environment is the agent's minus every `HOTSWAP_*` variable (the
 * registration token is one), plus `HOTSWAP_PROFILE`, `HOTSWAP_VERSION` and,
 * when a file was written, `HOTSWAP_FILE`. Stdout is discarded; the last
 * ~500 characters of stderr, on one line, are the error of a failed run.
 *
 * The command leads a process group of its own, so a timeout kills it and
 * everything it started: SIGTERM, then SIGKILL after `killGraceMs`. Runs of
 * one hook never overlap: a second waits for the first.
 *
 * @example new CommandHook({ command: 'curl -fsS -X POST localhost:8080/-/reload', timeoutMs: 30_000 })
 */
export class CommandHook implements ReloadHook {
  private readonly baseEnv: NodeJS.ProcessEnv;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: CommandHookOptions) {
    if (options.command.trim() === '') throw new TypeError('the reload command is empty');
    if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) throw new TypeError(`the reload timeout must be a positive number of ms, got ${options.timeoutMs}`);
    this.baseEnv = options.env ?? process.env;
  }

  run(context: HookContext): Promise<StepResult> {
    const result = this.queue.then(() => this.execute(context));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private execute(context: HookContext): Promise<StepResult> {
    const { command, timeoutMs, shell = true, killGraceMs = 2000 } = this.options;
    const started = performance.now();
    const child = spawn(shell ? '/bin/sh' : command, shell ? ['-c', command] : [...(this.options.args ?? [])], {
      cwd: this.options.cwd,
      env: hookEnvironment(this.baseEnv, context),
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const stderr = new StderrTail();
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    return new Promise((resolve) => {
      let settled = false;
      let timedOut = false;
      let killed = false;
      let exited = false;
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (outcome: { ok: true } | { ok: false; error: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(killTimer);
        child.stderr?.destroy();
        resolve({ ...outcome, durationMs: performance.now() - started });
      };
      const timeoutError = (): { ok: false; error: string } => ({ ok: false, error: withTail(`timed out after ${timeoutMs} ms`, stderr.text()) });
      const timer = setTimeout(() => {
        timedOut = true;
        signalGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => {
          signalGroup(child.pid, 'SIGKILL');
          killed = true;
          if (exited) finish(timeoutError());
        }, killGraceMs);
      }, timeoutMs);
      child.once('error', (error) => finish({ ok: false, error: `cannot run ${command}: ${error.message}` }));
      child.once('exit', (code, signal) => {
        exited = true;
        if (timedOut) {
          if (killed || !groupAlive(child.pid)) finish(timeoutError());
          return;
        }
        const drained = (): void => {
          if (code === 0) finish({ ok: true });
          else finish({ ok: false, error: withTail(code === null ? `killed by ${signal}` : `exit ${code}`, stderr.text()) });
        };
        const drainTimer = setTimeout(drained, STDERR_DRAIN_MS);
        child.once('close', () => {
          clearTimeout(drainTimer);
          drained();
        });
      });
    });
  }
}

function hookEnvironment(base: NodeJS.ProcessEnv, context: HookContext): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) if (!name.startsWith('HOTSWAP_')) env[name] = value;
  env.HOTSWAP_PROFILE = context.profileName;
  env.HOTSWAP_VERSION = String(context.version);
  if (context.file !== null) env.HOTSWAP_FILE = context.file;
  return env;
}

/** Signals a process group, ignoring that it is gone already. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: every process of the group has exited.
  }
}

function groupAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function withTail(reason: string, tail: string): string {
  return tail === '' ? `${reason} (nothing on stderr)` : `${reason}: ${tail}`;
}

/** The last bytes of a stream, shown as one line of at most ~500 characters. */
class StderrTail {
  private kept = Buffer.alloc(0);

  push(chunk: Buffer): void {
    const all = Buffer.concat([this.kept, chunk]);
    this.kept = all.length > STDERR_KEEP_BYTES ? all.subarray(all.length - STDERR_KEEP_BYTES) : all;
  }

  text(): string {
    // eslint-disable-next-line no-control-regex
    const line = this.kept.toString('utf8').replace(/^\uFFFD+/, '').replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
    return line.length > STDERR_TAIL_CHARS ? `…${line.slice(line.length - STDERR_TAIL_CHARS)}` : line;
  }
}

export interface SignalHookOptions {
  /** e.g. SIGHUP. */
  signal: NodeJS.Signals;
  /** The service's process id; give this or `pidFile`. */
  pid?: number;
  /** A file holding the service's process id, read at every run: a restarted service has a new one. */
  pidFile?: string;
}

/**
 * Sends the service a signal after each write (nginx, HAProxy, most daemons
 * reload on SIGHUP). `ok` means *delivered*: a signal carries no answer, so
 * the hook cannot know whether the service accepted the config — a service
 * that can refuse one should use a command hook that waits for its verdict.
 * A missing pid file, or a process that is not running, is a failure: the
 * config did not reach the service.
 *
 * A stale pid file whose number a new, unrelated process has taken would be
 * signalled; services remove their pid file on exit for that reason.
 */
export class SignalHook implements ReloadHook {
  constructor(private readonly options: SignalHookOptions) {
    if (!Object.hasOwn(constants.signals, options.signal)) throw new TypeError(`unknown signal ${options.signal}`);
    if ((options.pid === undefined) === (options.pidFile === undefined)) throw new TypeError('a signal hook needs a pid or a pid file (one of them)');
    if (options.pid !== undefined && !validPid(options.pid)) throw new TypeError(`not a process id to signal: ${options.pid}`);
  }

  async run(): Promise<StepResult> {
    const started = performance.now();
    const outcome = await this.deliver();
    return { ...outcome, durationMs: performance.now() - started };
  }

  private async deliver(): Promise<{ ok: true } | { ok: false; error: string }> {
    const { signal, pidFile } = this.options;
    let pid = this.options.pid;
    if (pidFile !== undefined) {
      let text: string;
      try {
        text = await readFile(pidFile, 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return { ok: false, error: code === 'ENOENT' ? `pid file ${pidFile} does not exist (is the service running?)` : `cannot read pid file ${pidFile}: ${(error as Error).message}` };
      }
      pid = /^\s*[0-9]{1,10}\s*$/.test(text) ? Number(text) : undefined;
      if (pid === undefined || !validPid(pid)) return { ok: false, error: `pid file ${pidFile} does not hold a process id to signal: ${JSON.stringify(text.slice(0, 40))}` };
    }
    const which = pidFile === undefined ? `process ${pid}` : `process ${pid} (from ${pidFile})`;
    try {
      process.kill(pid!, signal);
      return { ok: true };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') return { ok: false, error: `${which} is not running${pidFile === undefined ? '' : ': the pid file is stale'}` };
      if (code === 'EPERM') return { ok: false, error: `no permission to send ${signal} to ${which}` };
      return { ok: false, error: `cannot send ${signal} to ${which}: ${(error as Error).message}` };
    }
  }
}

/** A single process other than init and the agent itself: 0 and negative numbers would signal whole process groups. */
function validPid(pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 1 && pid !== process.pid;
}
