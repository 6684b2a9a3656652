import { describe, expect, it } from 'vitest';
import { ACTIONS, allowedActions, authorize, deployEnvironments } from '../../src/domain/authorization.js';
import { Environment, Role } from '../../src/domain/enums.js';

describe('what a caller may do, for a UI to offer', () => {
  it('lists exactly the actions authorize() lets each human role take', () => {
    for (const role of [Role.DEVELOPER, Role.OPERATOR, Role.ADMIN]) {
      const principal = { sub: 'x', role };
      const allowed = allowedActions(principal);
      for (const action of ACTIONS) {
        const environments = action === 'deployment:start' ? Object.values(Environment) : [undefined];
        const permitted = environments.some((environment) => {
          try {
            authorize(principal, action, { environment });
            return true;
          } catch {
            return false;
          }
        });
        expect(allowed.includes(action), `${role} ${action}`).toBe(permitted);
      }
    }
  });

  it('names the environments each role may deploy to', () => {
    expect(deployEnvironments({ sub: 'd', role: Role.DEVELOPER })).toEqual([Environment.DEVELOPMENT, Environment.STAGING]);
    expect(deployEnvironments({ sub: 'o', role: Role.OPERATOR })).toEqual(Object.values(Environment));
  });

  it('offers an instance token nothing a person does', () => {
    const instance = { sub: 'i-1', role: Role.INSTANCE, instanceId: 'i-1', service: 's', environment: Environment.STAGING };
    expect(allowedActions(instance)).not.toContain('profile:write');
    expect(deployEnvironments(instance)).toEqual([]);
  });
});
