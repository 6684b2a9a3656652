import { describe, expect, it } from 'vitest';
import { principalFromClaims } from '../../../src/auth/tokens.js';
import type { Principal } from '../../../src/domain/authorization.js';
import { Color, Environment, Role } from '../../../src/domain/enums.js';
import { endedRetentionSeconds, restorableIdentity, UNKNOWN_HOST } from '../../../src/domain/instance-identity.js';

const A = '6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
const B = '0b1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f';
const token = (extra: Partial<Principal> = {}): Principal => ({
  sub: A,
  role: Role.INSTANCE,
  instanceId: A,
  service: 'orders',
  environment: Environment.STAGING,
  ...extra,
});

describe('restorableIdentity', () => {
  it('restores the instance its own token names, with the host and color the token carries', () => {
    expect(restorableIdentity(token({ host: 'orders-7f9c', color: Color.GREEN }), A)).toEqual({
      instanceId: A, service: 'orders', environment: Environment.STAGING, host: 'orders-7f9c', color: Color.GREEN,
    });
  });

  it('without host and color claims (tokens issued before they were carried): host "unknown", no color', () => {
    expect(restorableIdentity(token(), A)).toMatchObject({ host: UNKNOWN_HOST, color: null });
    expect(restorableIdentity(token({ host: 'a b' }), A)).toMatchObject({ host: UNKNOWN_HOST });
    expect(restorableIdentity(token({ host: 'h'.repeat(256) }), A)).toMatchObject({ host: UNKNOWN_HOST });
  });

  it('a token for instance A cannot restore instance B', () => {
    expect(restorableIdentity(token(), B)).toBeNull();
  });

  it.each<[string, Principal | undefined]>([
    ['no caller', undefined],
    ['a registration token (no instanceId)', token({ instanceId: undefined })],
    ['an ADMIN token', { sub: 'alice', role: Role.ADMIN }],
    ['an OPERATOR token naming the id in sub', { sub: A, role: Role.OPERATOR }],
    ['an INSTANCE token without service', token({ service: undefined })],
    ['an INSTANCE token without environment', token({ environment: undefined })],
    ['a service that is not a slug', token({ service: 'Not A Slug' })],
  ])('restores nothing for %s', (_name, principal) => {
    expect(restorableIdentity(principal, A)).toBeNull();
  });

  it('restores nothing for an id HotSwap would never have issued (not a UUID)', () => {
    expect(restorableIdentity(token({ instanceId: 'x' }), 'x')).toBeNull();
    expect(restorableIdentity(token({ instanceId: `${A}x` }), `${A}x`)).toBeNull();
  });
});

describe('principalFromClaims: the claims a restore reads', () => {
  it('reads host and color from an INSTANCE token, and ignores a color that is not one', () => {
    const claims = { sub: A, role: 'INSTANCE', instanceId: A, service: 'orders', environment: 'STAGING' };
    expect(principalFromClaims({ ...claims, host: 'h1', color: 'BLUE' })).toMatchObject({ host: 'h1', color: Color.BLUE });
    expect(principalFromClaims({ ...claims, host: 7, color: 'PINK' })).not.toHaveProperty('color');
    expect(principalFromClaims({ ...claims, host: 7 })).not.toHaveProperty('host');
    expect(principalFromClaims({ sub: 'alice', role: 'ADMIN', host: 'h', color: 'BLUE' })).toEqual({ sub: 'alice', role: Role.ADMIN });
  });
});

describe('endedRetentionSeconds', () => {
  it('keeps an ended id one token lifetime and a 10-minute margin', () => {
    expect(endedRetentionSeconds(7 * 86_400)).toBe(7 * 86_400 + 600);
    expect(endedRetentionSeconds(5)).toBe(605);
  });
});
