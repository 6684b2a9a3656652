import net, { type AddressInfo } from 'node:net';

/**
 * A loopback TCP load balancer in front of the replicas, as clients would have
 * in production: each new connection goes to the next backend, round robin,
 * skipping backends that refuse it (a replica killed with SIGKILL). A dying
 * backend closes the connections it carried, so clients reconnect, and land on
 * a live replica.
 */
export interface Balancer {
  port: number;
  /** `http://127.0.0.1:<port>/graphql` */
  graphqlUrl: string;
  setBackends(ports: number[]): void;
  close(): Promise<void>;
}

export async function startBalancer(backends: number[] = []): Promise<Balancer> {
  let ports = [...backends];
  let next = 0;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };

  const connectUpstream = (candidates: number[]): Promise<net.Socket | null> =>
    new Promise((resolve) => {
      const [port, ...rest] = candidates;
      if (port === undefined) return resolve(null);
      const upstream = net.connect({ host: '127.0.0.1', port });
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        resolve(upstream);
      });
      upstream.once('error', () => {
        upstream.destroy();
        void connectUpstream(rest).then(resolve);
      });
    });

  const server = net.createServer((client) => {
    track(client);
    client.pause();
    const order = ports.map((_, i) => ports[(next + i) % ports.length]!);
    next = ports.length === 0 ? 0 : (next + 1) % ports.length;
    void connectUpstream(order).then((upstream) => {
      if (!upstream || client.destroyed) {
        upstream?.destroy();
        client.destroy();
        return;
      }
      track(upstream);
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    graphqlUrl: `http://127.0.0.1:${port}/graphql`,
    setBackends(list) {
      ports = [...list];
      next = 0;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
