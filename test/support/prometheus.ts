import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './wait.js';

/** Debian's prometheus package (2.42 on Debian 12); .ci/run installs it. */
const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface RunningPrometheus {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Kills the server and removes its config and storage; idempotent. */
  stop(): Promise<void>;
}

/** A loopback port nobody listens on right now (another process may take it before it is used). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A real Prometheus on a free loopback port (never :9090, where the Debian
 * package's own service may run) scraping `targets` (host:port, at /metrics)
 * every `scrapeIntervalSeconds`, with `honor_labels` so the exporter's labels
 * are the series' labels. Resolves once /-/ready answers.
 */
export async function startPrometheus({ targets, scrapeIntervalSeconds = 1 }: { targets: string[]; scrapeIntervalSeconds?: number }): Promise<RunningPrometheus> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} not found: install Debian's prometheus package (apt-get install --no-install-recommends prometheus), as .ci/run does`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hotswap-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  // JSON is YAML: no YAML writer needed.
  const interval = `${scrapeIntervalSeconds}s`;
  await writeFile(
    config,
    JSON.stringify({
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      scrape_configs: [{ job_name: 'test', honor_labels: true, static_configs: [{ targets }] }],
    }),
  );
  // The port is free when picked but could be taken before Prometheus binds it: pick again then.
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      PROMETHEUS_BIN,
      [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, `data-${attempt}`)}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1h', '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Should the test process die without stop(), the server must not outlive it.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const stop = async () => {
      process.off('exit', killOnExit);
      await kill(child, exited);
      await rm(dir, { recursive: true, force: true });
    };
    const ready = await waitFor(
      `Prometheus ready at ${url}`,
      async () => (child.exitCode !== null ? 'exited' : (await isReady(url)) ? 'ready' : false),
      30_000,
    ).catch(async (error: unknown) => {
      await stop();
      throw new Error(`Prometheus did not become ready: ${String(error)}\n${output}`);
    });
    if (ready === 'ready') return { url, stop: once(stop) };
    process.off('exit', killOnExit);
    lastOutput = output;
    if (!output.includes('address already in use')) break;
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`Prometheus exited before it was ready:\n${lastOutput}`);
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false; // not listening yet
  }
}

/** SIGTERM, then SIGKILL if Prometheus is still flushing its head block after 5 s. */
async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

export type Labels = Record<string, string>;

export interface Exporter {
  /** 127.0.0.1:port, a scrape target. */
  hostPort: string;
  /** Serves `name{labels} value` from the next scrape on (replacing the series' value). */
  set(name: string, labels: Labels, value: number): void;
  /** Stops serving the series: Prometheus marks it stale at its next scrape. */
  remove(name: string, labels: Labels): void;
  close(): Promise<void>;
}

/** Prometheus's text format for a label value: backslash, double quote and newline escaped. */
const escapeLabel = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
const seriesKey = (name: string, labels: Labels) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`)
    .join(',')}}`;

/** A /metrics endpoint on loopback serving, as gauges, whatever series the test sets. */
export async function startExporter(): Promise<Exporter> {
  const series = new Map<string, { name: string; value: number }>();
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    const names = new Set([...series.values()].map((s) => s.name));
    const lines = [...names].flatMap((name) => [`# TYPE ${name} gauge`, ...[...series].filter(([, s]) => s.name === name).map(([key, s]) => `${key} ${s.value}`)]);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lines.map((l) => `${l}\n`).join(''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    hostPort: `127.0.0.1:${port}`,
    set: (name, labels, value) => void series.set(seriesKey(name, labels), { name, value }),
    remove: (name, labels) => void series.delete(seriesKey(name, labels)),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
