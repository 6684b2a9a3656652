/**
 * The etcd peer of bench/fanout.bench.ts: a real etcd (Debian's etcd-server,
 * 3.4) on loopback, one process, its data in a temp dir. Subscribers are gRPC
 * Watch streams (bench/fanout-clients.ts, mode 'etcd', and its client
 * bench/fanout-etcd-client.ts); a push is one put of the config HotSwap deploys.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface EtcdServer {
  /** host:port of its client (gRPC and JSON gateway) listener. */
  address: string;
  pid: number;
  put(key: string, value: string): Promise<void>;
  stop(): Promise<void>;
}

/** etcd's binary: ETCD_BIN, /usr/bin/etcd, or Debian's etcd-server installed now (as root). */
export function findEtcd(log: (text: string) => void): string {
  const candidates = [process.env.ETCD_BIN, '/usr/bin/etcd', '/usr/local/bin/etcd'].filter((c): c is string => Boolean(c));
  const found = candidates.find((c) => existsSync(c));
  if (found) return found;
  if (process.getuid?.() === 0) {
    log('etcd not found: installing Debian etcd-server (apt-get)');
    execFileSync('apt-get', ['install', '-y', '-qq', 'etcd-server'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (existsSync('/usr/bin/etcd')) return '/usr/bin/etcd';
  }
  throw new Error('etcd not found: install it (apt-get install etcd-server) or set ETCD_BIN');
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts etcd and waits until it answers a put. */
export async function startEtcd(log: (text: string) => void): Promise<EtcdServer> {
  const bin = findEtcd(log);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hotswap-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const child = spawn(
    bin,
    [
      '--name', 'bench', '--data-dir', path.join(dir, 'data'),
      '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `bench=http://127.0.0.1:${peer}`, '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const base = `http://127.0.0.1:${client}`;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const put = async (key: string, value: string) => {
    const res = await fetch(`${base}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64(key), value: b64(value) }) });
    if (!res.ok) throw new Error(`etcd put answered ${res.status}: ${await res.text()}`);
  };
  for (let tries = 0; ; tries++) {
    try {
      await put('bench/ready', '1');
      break;
    } catch (error) {
      if (child.exitCode !== null || tries > 100) throw new Error(`etcd did not start: ${String(error)}\n${stderr}`, { cause: error });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    address: `127.0.0.1:${client}`,
    pid: child.pid!,
    put,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
