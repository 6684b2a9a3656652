import { hostname } from 'node:os';
import { readTokenClaims } from './graphql-http.js';
import type { ConfigClientOptions } from './types.js';

/** @throws TypeError naming the option a caller got wrong, before anything starts */
export function checkOptions(o: ConfigClientOptions): void {
    if (typeof o.onConfig !== 'function') throw new TypeError('onConfig must be a function');
    if (o.token === undefined && o.registration === undefined) throw new TypeError('pass token (an instance token) or registration');
    if (o.registration !== undefined && (typeof o.registration.token !== 'string' || o.registration.token === '')) {
      throw new TypeError(`registration.token must be a registration token (a JWT), got ${JSON.stringify(o.registration.token) ?? 'undefined'}`);
    }
    if (o.token !== undefined && readTokenClaims(o.token)?.instanceId === undefined) {
      throw new TypeError('token must be an INSTANCE token with an instanceId claim; a registration token goes in registration.token');
    }
}

/** What the instance registers as: its service and environment, and the registration's host (this machine's by default), color and metadata. */
export function registrationInput(o: ConfigClientOptions) {
  const reg = o.registration!;
  return {
    service: o.service,
    environment: o.environment,
    host: reg.host ?? hostname(),
    ...(reg.color ? { color: reg.color } : {}),
    ...(reg.metadata ? { metadata: reg.metadata } : {}),
  };
}
