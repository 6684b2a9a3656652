// Loaded into the server process by bench/fanout.bench.ts (NODE_OPTIONS=
// "--expose-gc --import <this file>"; plain JavaScript so it loads before tsx).
// Writes into FANOUT_HOOK_DIR:
// - on SIGWINCH: a full GC, then process.memoryUsage() as mem-<pid>-<n>.json
//   (what the subscribers retain, without the garbage RSS also counts);
// - on SIGUSR2, when FANOUT_CPU_PROFILE=1: the first starts a CPU profile, the
//   second stops it and writes server-<pid>.cpuprofile (--cpu-prof is not allowed
//   in NODE_OPTIONS on Node 20). Open it in Chrome DevTools or speedscope.
// - on SIGPWR: [time (epoch ms), bytes, 1 if a configUpdates message else 0] of
//   every websocket send since the previous SIGPWR as sends-<pid>-<n>.json, so the
//   bench can tell when the server wrote the last message of a push, apart from
//   when its client read it;
// - on SIGURG: the event-loop delay (perf_hooks.monitorEventLoopDelay, sampled
//   every LOOP_RESOLUTION_MS) since the previous SIGURG as loop-<pid>-<n>.json,
//   { p99, max, mean } in ms and its sample count; the bench sends one at t0 and
//   one once it saw COMPLETED, so the second covers the round's push window.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';

const dir = process.env.FANOUT_HOOK_DIR;
const fail = (error) => process.stderr.write(`fanout-server-hook: ${String(error)}\n`);
/** On `signal`, writes JSON.stringify(produce()) to <name>-<pid>-<n>.json (n counts the signals). */
function answerOn(signal, name, produce) {
  let seq = 0;
  process.on(signal, () => {
    try {
      writeFileSync(path.join(dir, `${name}-${process.pid}-${seq++}.json`), JSON.stringify(produce()));
    } catch (error) {
      fail(error);
    }
  });
}
if (dir) {
  answerOn('SIGWINCH', 'mem', () => {
    globalThis.gc?.();
    globalThis.gc?.();
    return process.memoryUsage();
  });
  // The server's `ws` is this module (one node_modules): every send goes through its prototype.
  const sends = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data, ...rest) {
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const push = (typeof data === 'string' || Buffer.isBuffer(data)) && data.includes('"configUpdates"');
    sends.push([performance.timeOrigin + performance.now(), bytes, push ? 1 : 0]);
    return send.call(this, data, ...rest);
  };
  answerOn('SIGPWR', 'sends', () => sends.splice(0));
  const LOOP_RESOLUTION_MS = 1;
  const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  delay.enable();
  answerOn('SIGURG', 'loop', () => {
    const ms = (ns) => ns / 1e6;
    const stats = { p99: ms(delay.percentile(99)), max: ms(delay.max), mean: ms(delay.mean), count: delay.count, resolutionMs: LOOP_RESOLUTION_MS };
    delay.reset();
    return stats;
  });
}
if (dir && process.env.FANOUT_CPU_PROFILE === '1') {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    void (async () => {
      if (!running) {
        running = true;
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 250 });
        await session.post('Profiler.start');
        return;
      }
      running = false;
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(path.join(dir, `server-${process.pid}.cpuprofile`), JSON.stringify(profile));
    })().catch(fail);
  });
}
