import { startTcpProxy, type TcpProxy } from '../../support/tcp-proxy.js';

/**
 * A network path that keeps breaking: a loopback TCP proxy in front of a
 * replica that drops every connection through it every `periodMs` while
 * flapping, so whatever connects through it stays connected at most that long.
 */
export interface FlappingLink {
  /** `http://127.0.0.1:<port>/graphql` through the link. */
  graphqlUrl: string;
  /** How many times it dropped its connections. */
  readonly drops: number;
  flap(periodMs?: number): void;
  /** Stops dropping: connections through it stay up from now on. */
  steady(): void;
  close(): Promise<void>;
}

export async function startFlappingLink(port: number): Promise<FlappingLink> {
  const proxy: TcpProxy = await startTcpProxy({ host: '127.0.0.1', port });
  let timer: NodeJS.Timeout | undefined;
  let drops = 0;
  const steady = () => {
    clearInterval(timer);
    timer = undefined;
  };
  return {
    graphqlUrl: `${proxy.url('http:')}/graphql`,
    get drops() {
      return drops;
    },
    flap(periodMs = 200) {
      steady();
      timer = setInterval(() => {
        proxy.cut();
        proxy.restore();
        drops++;
      }, periodMs);
    },
    steady,
    async close() {
      steady();
      await proxy.close();
    },
  };
}
