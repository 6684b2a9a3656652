import { describe, expect, it } from 'vitest';
import { type ConfigClientOptions, createConfigClient } from '../../src/client/index.js';

const base: ConfigClientOptions = { url: 'http://localhost:4000/graphql', service: 'orders', environment: 'STAGING', onConfig: () => {} };

describe('client options', () => {
  it('refuses a registration without a token at once, naming the option (e.g. HOTSWAP_REGISTRATION_TOKEN unset)', () => {
    const unset = process.env.HOTSWAP_TEST_UNSET_VARIABLE as string;
    expect(() => createConfigClient({ ...base, registration: { token: unset } })).toThrow(
      new TypeError('registration.token must be a registration token (a JWT), got undefined'),
    );
    expect(() => createConfigClient({ ...base, registration: { token: '' } })).toThrow(/registration\.token must be a registration token \(a JWT\), got ""/);
  });
});
