import { Role } from '../../src/domain/enums.js';
import { api, type Api } from './api.js';
import { type CliResult, runCli } from './cli.js';
import { ackOk, type Behavior, type Fleet, HEALTHY, type SimInstance, startFleet } from './fleet.js';
import { fleetOnVersion1, profileWithVersions } from './progressive.js';
import { freePort } from './prometheus.js';
import { startTestServer, type TestServer } from './server.js';

interface Started {
  server: TestServer;
  a: Api;
  /** What the CLI runs with: HOTSWAP_URL and an OPERATOR token of ci-orders. */
  env: Record<string, string>;
}

/**
 * What the `hotswap deploy` tests (test/cli/deploy*.test.ts) share: a server,
 * the built CLI run against it as an OPERATOR, and profiles with fleets to
 * deploy to. Call start() in beforeAll and stop() in afterAll; `server`, `a`
 * and `env` are there in between.
 */
export function deployCliHarness() {
  let server: TestServer | undefined;
  let started: Started | undefined;
  const s = (): Started => {
    if (!started) throw new Error('start() the deploy CLI harness (in beforeAll) first');
    return started;
  };
  const fleets: Fleet[] = [];
  let serial = 0;

  const cli = (args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliResult> =>
    runCli(args, { env: { ...s().env, ...extraEnv }, timeoutMs });

  /**
   * A profile with versions 1 and 2 and a fleet of `count` running version 1
   * (deployed DIRECT through the API), reporting healthy metrics so a baseline exists.
   */
  async function setUp(
    count: number,
    behavior: (i: number) => Behavior = () => ackOk(1),
    metricsOf: (i: SimInstance) => Record<string, unknown> = () => HEALTHY,
  ): Promise<{ name: string; fleet: Fleet }> {
    const name = `cli-deploy-${++serial}`;
    const { f: fleet } = await fleetOnVersion1(s().a, name, { count, behavior, metricsOf, fleets });
    return { name, fleet };
  }

  /** A profile with `versions` versions and `instances` instances that ack at once (none: nothing can be deployed). */
  async function bareProfile(versions = 1, instances = 0): Promise<string> {
    const name = `cli-bare-${++serial}`;
    await profileWithVersions(s().a, name, versions);
    if (instances > 0) fleets.push(await startFleet(s().a, { service: `${name}-svc`, count: instances }));
    return name;
  }

  return {
    async start() {
      // A Prometheus nobody runs: a policy may name queries (they then have NO_DATA).
      server = await startTestServer({ PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` });
      started = { server, a: api(server), env: { HOTSWAP_URL: server.url, HOTSWAP_TOKEN: await server.token(Role.OPERATOR, { sub: 'ci-orders' }) } };
    },
    async stop() {
      await Promise.allSettled(fleets.map((f) => f.stop()));
      await server?.stop();
    },
    get server(): TestServer {
      return s().server;
    },
    get a(): Api {
      return s().a;
    },
    get env(): Record<string, string> {
      return s().env;
    },
    cli,
    setUp,
    bareProfile,
  };
}
