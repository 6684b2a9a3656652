import type { Command } from 'commander';
import { CliError, ExitCode } from './exit-codes.js';
import { CliGraphQL } from './graphql-client.js';

export const DEFAULT_URL = 'http://localhost:4000/graphql';

/** `--url` / `--token` on the program, else HOTSWAP_URL / HOTSWAP_TOKEN. */
export function addConnectionOptions(program: Command): Command {
  return program
    .option('--url <url>', `GraphQL endpoint of HotSwap (env HOTSWAP_URL; default ${DEFAULT_URL})`)
    .option('--token <token>', 'bearer token (env HOTSWAP_TOKEN; mint one with `hotswap token`)');
}

/** The API client for a command, from its (global) options and the environment. */
export function connect(command: Command, env: NodeJS.ProcessEnv): CliGraphQL {
  const o = command.optsWithGlobals<{ url?: string; token?: string }>();
  const url = o.url ?? env.HOTSWAP_URL ?? DEFAULT_URL;
  try {
    const parsed = new URL(url);
    if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error('not http');
  } catch {
    throw new CliError([`--url must be the http(s) URL of HotSwap's GraphQL endpoint, e.g. ${DEFAULT_URL}; got "${url}"`], ExitCode.REFUSED);
  }
  const token = o.token ?? env.HOTSWAP_TOKEN;
  if (!token) {
    throw new CliError(['no token: set HOTSWAP_TOKEN or pass --token (mint one with `hotswap token --role OPERATOR --sub <you>`)'], ExitCode.REFUSED);
  }
  return new CliGraphQL(url, token);
}
