import { describe, expect, it } from 'vitest';
import { ACTIONS, type Action, authorize, isRole, type Principal, type ResourceScope } from '../../../src/domain/authorization.js';
import { Environment, Role } from '../../../src/domain/enums.js';
import { ForbiddenError, UnauthenticatedError } from '../../../src/domain/errors.js';

const developer: Principal = { sub: 'dev', role: Role.DEVELOPER };
const operator: Principal = { sub: 'ops', role: Role.OPERATOR };
const admin: Principal = { sub: 'root', role: Role.ADMIN };
const instance: Principal = { sub: 'i-1', role: Role.INSTANCE, instanceId: 'i-1', service: 'checkout', environment: Environment.STAGING };
const registration: Principal = { sub: 'ci', role: Role.INSTANCE, service: 'checkout', environment: Environment.STAGING };

/** A scope every rule is satisfied by, so only the role decides. */
const scope: ResourceScope = { environment: Environment.STAGING, service: 'checkout', instanceId: 'i-1' };

const ALLOWED: Record<string, readonly Action[]> = {
  developer: ['profile:read', 'instance:read', 'profile:write', 'version:publish', 'schema:register', 'schema:submit', 'deployment:start'],
  operator: ['profile:read', 'instance:read', 'deployment:start', 'deployment:control', 'instance:deregister'],
  admin: ACTIONS,
  instance: ['instance:act', 'instance:deregister'],
  registration: ['instance:register'],
};
const PRINCIPALS: Record<string, Principal> = { developer, operator, admin, instance, registration };

const table = Object.entries(PRINCIPALS).flatMap(([who, principal]) =>
  ACTIONS.map((action) => [who, action, ALLOWED[who]!.includes(action), principal] as const),
);

describe('authorize: role × action table', () => {
  it('covers all 14 actions', () => {
    expect(ACTIONS).toHaveLength(14);
  });

  it.each(table)('%s %s → allowed: %s', (_who, action, allowed, principal) => {
    if (allowed) expect(authorize(principal, action, scope)).toBe(principal);
    else expect(() => authorize(principal, action, scope)).toThrow(ForbiddenError);
  });
});

describe('authorize: conditions', () => {
  it.each([undefined, null])('requires a principal (%s)', (p) => {
    expect(() => authorize(p, 'profile:read')).toThrow(UnauthenticatedError);
    expect(() => authorize(p, 'profile:read')).toThrow('authentication required: send a bearer token');
  });

  it('says the role and the action when refusing', () => {
    expect(() => authorize(developer, 'profile:delete')).toThrow(/^role DEVELOPER may not delete profiles/);
    expect(() => authorize(operator, 'schema:approve')).toThrow(/^role OPERATOR may not approve or reject schemas.*allowed roles: ADMIN/);
    try {
      authorize(instance, 'profile:read', scope);
      expect.unreachable();
    } catch (err) {
      expect((err as ForbiddenError).details).toEqual({ role: Role.INSTANCE, action: 'profile:read' });
    }
  });

  it.each([Environment.DEVELOPMENT, Environment.STAGING])('lets a DEVELOPER deploy to %s', (environment) => {
    expect(authorize(developer, 'deployment:start', { environment })).toBe(developer);
  });

  it('refuses a DEVELOPER deploying to PRODUCTION and says why', () => {
    expect(() => authorize(developer, 'deployment:start', { environment: Environment.PRODUCTION })).toThrow(
      /DEVELOPER may not start deployments in PRODUCTION: developers deploy to DEVELOPMENT and STAGING only/,
    );
  });

  it('refuses a DEVELOPER deployment without a known environment (fails closed)', () => {
    expect(() => authorize(developer, 'deployment:start')).toThrow(ForbiddenError);
  });

  it.each([operator, admin])('lets $role deploy to PRODUCTION', (p) => {
    expect(authorize(p, 'deployment:start', { environment: Environment.PRODUCTION })).toBe(p);
  });

  it('lets an instance act only as itself', () => {
    expect(() => authorize(instance, 'instance:act', { instanceId: 'i-2' })).toThrow(/only act as an instance .* for itself, not for instance i-2/);
    expect(() => authorize(instance, 'instance:deregister', { instanceId: 'i-2' })).toThrow(ForbiddenError);
    expect(() => authorize(instance, 'instance:act', {})).toThrow(ForbiddenError);
  });

  it('refuses an instance token registering instances', () => {
    expect(() => authorize(instance, 'instance:register', scope)).toThrow(/use a registration token/);
  });

  it('lets a registration token register only for its service and environment', () => {
    expect(() => authorize(registration, 'instance:register', { service: 'billing', environment: Environment.STAGING })).toThrow(
      /for service checkout in STAGING; it may not register an instance of billing in STAGING/,
    );
    expect(() => authorize(registration, 'instance:register', { service: 'checkout', environment: Environment.PRODUCTION })).toThrow(ForbiddenError);
    expect(() => authorize(registration, 'instance:register', {})).toThrow(ForbiddenError);
  });

  it('refuses a registration token acting as an instance, even with a matching-looking scope', () => {
    expect(() => authorize(registration, 'instance:act', { instanceId: undefined })).toThrow(/registration token may only register/);
  });

  it('refuses a registration token without service', () => {
    const bare: Principal = { sub: 'x', role: Role.INSTANCE };
    expect(() => authorize(bare, 'instance:register', {})).toThrow(ForbiddenError);
  });

  it('refuses an unknown role', () => {
    const odd = { sub: 'x', role: 'ROOT' } as unknown as Principal;
    expect(() => authorize(odd, 'profile:read')).toThrow(/unknown role "ROOT"/);
  });
});

describe('isRole', () => {
  it.each([
    ['ADMIN', true],
    ['INSTANCE', true],
    ['admin', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (v, expected) => {
    expect(isRole(v)).toBe(expected);
  });
});
