/**
 * The etcd watch client of bench/fanout-clients.ts (mode 'etcd'), as lean as a
 * Node client gets, so bench/fanout.bench.ts compares etcd's server with
 * HotSwap's rather than client libraries: etcd's native gRPC Watch over a bare
 * node:net socket, with HTTP/2 framing (client preface, one HEADERS frame with
 * a literal HPACK block per call, DATA frames), gRPC's length prefix and the
 * protobuf of WatchRequest / WatchResponse written and read by hand; every
 * socket of the process reads into one buffer (net.connect's `onread`), and per
 * event the client does what the floor's and HotSwap's raw clients do: one
 * JSON.parse (of the value, by the caller).
 * Flow control is opened wide at the start, so the client never sends
 * WINDOW_UPDATE; SETTINGS and PING are acknowledged.
 *
 * Tried and dropped (medians of 3 rounds, last receive at N = 1000 / 5000,
 * 128-byte values, 2 client processes, one or two runs each, a noisy 2-core box):
 * @grpc/grpc-js with a connection per watcher 128 / 530 ms (setup 2.6 / 10.5 s),
 * with one connection per process 78–83 / 172–206 ms; node:http2 with this
 * protobuf code 51–55 / 190–301 ms; etcd's JSON gateway (POST /v3/watch, a JSON
 * line per event, the value base64) over node:http 84 / 376 ms, over node:net
 * by hand 68–152 / 292–418 ms: the gateway is a proxy inside etcd (an in-process
 * gRPC client, then JSON per watcher), more work for etcd than native gRPC.
 * This client: a connection per watcher 37–59 / 156–233 ms (setup 0.8 / 3.9 s),
 * one connection per client process 15–17 / 54–94 ms (setup 0.3 / 1.3–1.5 s).
 */
import net from 'node:net';
import { now } from './fanout-support.js';

/** A watch of `key`: resolves with its stop function once etcd confirmed it (created); `onValue` gets each put's value and its receive time. */
export type Watch = (key: string, onValue: (value: Buffer, t: number) => void, onError: (e: Error) => void) => Promise<() => void>;

// ---- protobuf ------------------------------------------------------------------------------------

/** Reads the varint at `pos`: [value, next position] (values here fit a double). */
function varint(b: Buffer, pos: number): [number, number] {
  let value = 0;
  for (let shift = 1; ; shift *= 128) {
    const byte = b[pos++]!;
    value += (byte & 0x7f) * shift;
    if (byte < 0x80) return [value, pos];
  }
}

/** Calls `field(number, start, end)` for each length-delimited field of the message b[start, end), and (number, value, -1) for each varint. */
function fields(b: Buffer, start: number, end: number, field: (n: number, a: number, z: number) => void): void {
  for (let pos = start; pos < end; ) {
    const [tag, p] = varint(b, pos);
    const n = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const [v, q] = varint(b, p);
      field(n, v, -1);
      pos = q;
    } else if (wire === 2) {
      const [len, q] = varint(b, p);
      field(n, q, q + len);
      pos = q + len;
    } else if (wire === 1 || wire === 5) {
      pos = p + (wire === 1 ? 8 : 4);
    } else {
      throw new Error(`protobuf: wire type ${wire}`);
    }
  }
}

/** The gRPC message (length-prefixed) WatchRequest{ create_request (1): WatchCreateRequest{ key (1) } }; keys under 126 bytes. */
function createRequest(key: string): Buffer {
  const k = Buffer.from(key);
  const body = Buffer.concat([Buffer.from([0x0a, k.length + 2, 0x0a, k.length]), k]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

// ---- HTTP/2 --------------------------------------------------------------------------------------

const WIDE = 0x3fffffff;

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const f = Buffer.alloc(9 + payload.length);
  f.writeUIntBE(payload.length, 0, 3);
  f[3] = type;
  f[4] = flags;
  f.writeUInt32BE(stream, 5);
  payload.copy(f, 9);
  return f;
}

/** The client preface, SETTINGS with every stream's window wide, and the connection's window made wide. */
const OPENING = (() => {
  const settings = Buffer.alloc(6);
  settings.writeUInt16BE(0x4, 0); // SETTINGS_INITIAL_WINDOW_SIZE
  settings.writeUInt32BE(WIDE, 2);
  const increment = Buffer.alloc(4);
  increment.writeUInt32BE(WIDE - 65535);
  return Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(0x4, 0, 0, settings), frame(0x8, 0, 0, increment)]);
})();

/** HPACK string literal, no Huffman coding (strings under 127 bytes). */
const str = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);

/** A Watch call on stream `id`: HEADERS (HPACK literals without indexing: no dynamic table to keep) and the create request, stream left open. */
function call(id: number, authority: string, key: string): Buffer {
  const headers = Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table)
    Buffer.from([0x04]), str('/etcdserverpb.Watch/Watch'), // :path (static name 4)
    Buffer.from([0x01]), str(authority), // :authority (static name 1)
    Buffer.from([0x0f, 0x10]), str('application/grpc'), // content-type (static name 31)
    Buffer.from([0x00]), str('te'), str('trailers'),
  ]);
  return Buffer.concat([frame(0x1, 0x4, id, headers), frame(0x0, 0, id, createRequest(key))]);
}

/** One read buffer for every socket of the process: each read is consumed before the next. */
const READ_BUFFER = Buffer.allocUnsafe(1 << 16);

type Stream = { data(d: Buffer, t: number): void; fail(e: Error): void };

/** One HTTP/2 connection to etcd at `address` (host:port); `watch` opens a Watch call on a stream of its own. */
export function etcdConnection(address: string): { watch: Watch; close(): void } {
  const [host, port] = address.split(':') as [string, string];
  const streams = new Map<number, Stream>();
  let nextId = 1;
  let closed = false;
  let pending: Buffer | undefined; // a frame split over reads (a copy)
  const failAll = (e: Error) => {
    if (!closed) for (const s of streams.values()) s.fail(e);
  };
  const read = (nread: number, buf: Buffer) => {
    const t = now();
    let b = pending ? Buffer.concat([pending, buf.subarray(0, nread)]) : buf.subarray(0, nread);
    while (b.length >= 9) {
      const len = b.readUIntBE(0, 3);
      if (b.length < 9 + len) break;
      const [type, flags, id] = [b[3]!, b[4]!, b.readUInt32BE(5) & 0x7fffffff];
      const payload = b.subarray(9, 9 + len);
      b = b.subarray(9 + len);
      if (type === 0x0) streams.get(id)?.data(flags & 0x8 ? payload.subarray(1, payload.length - payload[0]!) : payload, t);
      else if (type === 0x4 && !(flags & 0x1)) socket.write(frame(0x4, 0x1, 0, Buffer.alloc(0)));
      else if (type === 0x6 && !(flags & 0x1)) socket.write(frame(0x6, 0x1, 0, Buffer.from(payload)));
      else if (type === 0x7) failAll(new Error('etcd gRPC: GOAWAY'));
      // RST_STREAM, or DATA / HEADERS (trailers) ending the stream: the watch is over.
      if (id !== 0 && (type === 0x3 || ((type === 0x0 || type === 0x1) && flags & 0x1))) {
        streams.get(id)?.fail(new Error(`etcd gRPC: watch stream ${id} ended (HTTP/2 frame type ${type})`));
      }
    }
    pending = b.length > 0 ? Buffer.from(b) : undefined;
  };
  const socket = net.connect({ host, port: Number(port), noDelay: true, onread: { buffer: READ_BUFFER, callback: (n, b) => (read(n, b as Buffer), true) } });
  socket.write(OPENING);
  socket.on('error', failAll);
  socket.on('close', () => failAll(new Error('etcd gRPC: connection closed')));

  const watch: Watch = (key, onValue, onError) =>
    new Promise((resolve, reject) => {
      const id = nextId;
      nextId += 2;
      let live = false;
      let partial: Buffer | undefined; // a gRPC message split over DATA frames (a copy)
      // WatchResponse: created = 3, events = 11; Event: kv = 2; KeyValue: value = 5.
      const message = (b: Buffer, t: number) =>
        fields(b, 0, b.length, (n, a, z) => {
          if (n === 3 && z < 0 && a === 1 && !live) {
            live = true;
            resolve(() => void streams.delete(id));
          } else if (n === 11 && live) {
            fields(b, a, z, (e, ea, ez) => e === 2 && fields(b, ea, ez, (v, va, vz) => v === 5 && onValue(b.subarray(va, vz), t)));
          }
        });
      streams.set(id, {
        data(d, t) {
          let b = partial ? Buffer.concat([partial, d]) : d;
          while (b.length >= 5 && b.length >= 5 + b.readUInt32BE(1)) {
            const len = b.readUInt32BE(1);
            message(b.subarray(5, 5 + len), t);
            b = b.subarray(5 + len);
          }
          partial = b.length > 0 ? Buffer.from(b) : undefined;
        },
        fail: (e) => (live ? onError(e) : reject(e)),
      });
      socket.write(call(id, address, key));
    });
  return { watch, close: () => ((closed = true), socket.destroy()) };
}

/** A watch on a connection of its own (as each of N instances would have). */
export const ownConnectionWatch = (address: string): Watch => async (key, onValue, onError) => {
  const connection = etcdConnection(address);
  try {
    const stop = await connection.watch(key, onValue, onError);
    return () => (stop(), connection.close());
  } catch (error) {
    connection.close();
    throw error;
  }
};
