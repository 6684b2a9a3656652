import type { AppConfig } from '../config.js';
import { Role } from '../domain/enums.js';
import type { InstanceTokenSigner } from '../services/instance.service.js';
import { loadOrCreateSecret } from './secret-file.js';
import { mintToken, type TokenKeySource } from './tokens.js';

/** Where token keys come from: JWKS, the configured secret, or (embedded default) a generated one. */
export async function resolveKeySource(config: AppConfig): Promise<TokenKeySource> {
  if (config.jwksUrl !== undefined) return { jwksUrl: config.jwksUrl };
  if (config.jwtSecret !== undefined) return { secret: config.jwtSecret };
  // Only the embedded default gets here: loadConfig requires a key with DATABASE_URL.
  return { secret: await loadOrCreateSecret(config.dataDir) };
}

/** Signs instance tokens when the server holds the secret (not with JWKS). */
export function instanceTokenSigner(keySource: TokenKeySource, ttlSeconds: number): InstanceTokenSigner | undefined {
  if (!('secret' in keySource)) return undefined;
  return ({ instanceId, service, environment, host, color }) =>
    mintToken(keySource.secret, {
      sub: instanceId,
      role: Role.INSTANCE,
      instanceId,
      service,
      environment,
      host,
      ...(color !== null && { color }),
      expiresInSeconds: ttlSeconds,
    });
}
