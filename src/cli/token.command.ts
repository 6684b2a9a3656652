import { type Command, InvalidArgumentError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { mintToken } from '../auth/tokens.js';
import { loadConfig } from '../config.js';
import { Environment, Role } from '../domain/enums.js';
import { parseDurationSeconds } from './duration.js';

interface TokenOptions {
  role: Role;
  sub?: string;
  service?: string;
  environment?: Environment;
  instanceId?: string;
  expiresIn: number;
}

/** `hotswap token`: mints a token with JWT_SECRET (or the embedded default's generated secret). */
export function registerTokenCommand(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('token')
    .description('Mint a bearer token signed with JWT_SECRET (or the embedded default\'s secret in HOTSWAP_DATA_DIR)')
    .addOption(new Option('--role <role>', 'who the token speaks for').choices(Object.values(Role)).makeOptionMandatory())
    .option('--sub <subject>', 'the caller: a person, a CI job or an instance id (INSTANCE: defaults to "registration")')
    .option('--service <service>', 'INSTANCE tokens: the service')
    .addOption(new Option('--environment <environment>', 'INSTANCE tokens: the environment').choices(Object.values(Environment)))
    .option('--instance-id <id>', 'INSTANCE tokens: the instance (omit for a registration token)')
    .option('--expires-in <duration>', 'lifetime: 3600, 90m, 12h, 30d', parseLifetime, 12 * 3600)
    .addHelpText(
      'after',
      '\nExamples:\n  $ hotswap token --role ADMIN --sub alice\n  $ hotswap token --role INSTANCE --service orders --environment STAGING --expires-in 30d',
    )
    .action(async (o: TokenOptions) => {
      if (o.role === Role.INSTANCE && (o.service === undefined || o.environment === undefined)) {
        throw new Error('an INSTANCE token needs --service and --environment');
      }
      const sub = o.sub ?? (o.role === Role.INSTANCE ? (o.instanceId ?? 'registration') : undefined);
      if (sub === undefined) throw new Error('--sub is required (who the token is for)');
      const secret = await readSecret(env);
      const token = await mintToken(secret, {
        sub,
        role: o.role,
        expiresInSeconds: o.expiresIn,
        ...(o.role === Role.INSTANCE ? { service: o.service, environment: o.environment, instanceId: o.instanceId } : {}),
      });
      process.stdout.write(`${token}\n`);
    });
}

function parseLifetime(text: string): number {
  const seconds = parseDurationSeconds(text);
  if (seconds === null) throw new InvalidArgumentError('use seconds or a number with s, m, h or d, e.g. 12h');
  return seconds;
}

/** The secret the server verifies with: the same parsing as the server's (loadConfig). */
async function readSecret(env: NodeJS.ProcessEnv): Promise<string> {
  const config = loadConfig(env);
  if (config.jwksUrl !== undefined) throw new Error('tokens are verified with JWKS_URL: mint them with your identity provider');
  if (config.jwtSecret !== undefined) return config.jwtSecret;
  const file = path.join(config.dataDir, 'jwt-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new Error(`set JWT_SECRET, or start HotSwap once on its embedded default so that ${file} exists`, { cause: error });
  }
}
