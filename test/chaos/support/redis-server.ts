import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './net.js';

/**
 * A redis-server of the test's own (the shared one on 6379 must never stop):
 * a child process on a free loopback port that the test can stop and start
 * again on the same port.
 */
export interface RedisServer {
  port: number;
  url: string;
  readonly running: boolean;
  /** Stops the server: SIGTERM (a clean shutdown) or SIGKILL (a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts commands. `empty`: its data is deleted first (a crash that lost it). */
  start(options?: { empty?: boolean }): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /**
   * Keep the data across a restart (append-only file, fsync always), as a
   * Redis with persistence would. Off: a restart comes back empty, as the
   * docker-compose Redis (`--save '' --appendonly no`) does.
   * @default false
   */
  persistent?: boolean;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'hotswap-chaos-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--logfile', ''];
  args.push(...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async ({ empty = false }: { empty?: boolean } = {}) => {
    if (child) throw new Error('redis-server is already running');
    if (empty) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    }
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    // Never outlive the test process, even when it dies without running afterAll.
    const reap = () => proc.kill('SIGKILL');
    process.once('exit', reap);
    void exitedOf(proc).then(() => process.off('exit', reap));
    exited = exitedOf(proc);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}: ${out}`)), 15_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
    // Keep draining its output so it never blocks on a full pipe.
    proc.stdout?.resume();
    proc.stderr?.resume();
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (!child) return;
    child.kill(signal);
    await exited;
    child = undefined;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    stop,
    start,
    async close() {
      await stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function exitedOf(proc: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}
