import { type Color, Environment, isEnumValue, Role } from './enums.js';
import { ForbiddenError, UnauthenticatedError } from './errors.js';
import { quoteForMessage } from './text.js';

/** The authenticated caller, from a verified token. */
export interface Principal {
  sub: string;
  role: Role;
  /** INSTANCE tokens: the instance it speaks for (absent on a registration token). */
  instanceId?: string;
  /** INSTANCE tokens: the service and environment it belongs to. */
  service?: string;
  environment?: Environment;
  /** INSTANCE tokens issued since tokens carry them: the host and color it registered with (restores a lost registration). */
  host?: string;
  color?: Color;
}

/** Everything a caller may be allowed to do. */
export type Action =
  | 'profile:read'
  | 'profile:write'
  | 'profile:delete'
  | 'version:publish'
  | 'version:delete'
  | 'schema:register'
  | 'schema:submit'
  | 'schema:approve'
  | 'deployment:start'
  | 'deployment:control'
  | 'instance:read'
  | 'instance:register'
  | 'instance:act'
  | 'instance:deregister';

/** What the action touches, where a rule depends on it. */
export interface ResourceScope {
  environment?: Environment;
  instanceId?: string;
  service?: string;
}

/** Every action, in a stable order. */
export const ACTIONS: readonly Action[] = [
  'profile:read', 'profile:write', 'profile:delete', 'version:publish', 'version:delete',
  'schema:register', 'schema:submit', 'schema:approve', 'deployment:start', 'deployment:control',
  'instance:read', 'instance:register', 'instance:act', 'instance:deregister',
];

/** How messages name each action ("role X may not …"). */
export const ACTION_DESCRIPTIONS: Readonly<Record<Action, string>> = {
  'profile:read': 'read profiles and versions',
  'profile:write': 'create or update profiles',
  'profile:delete': 'delete profiles',
  'version:publish': 'publish versions',
  'version:delete': 'delete versions',
  'schema:register': 'register schemas',
  'schema:submit': 'submit schemas for approval',
  'schema:approve': 'approve or reject schemas',
  'deployment:start': 'start deployments',
  'deployment:control': 'pause, resume or roll back deployments',
  'instance:read': 'read instances',
  'instance:register': 'register instances',
  'instance:act': 'act as an instance (heartbeat, acks, config subscription)',
  'instance:deregister': 'deregister instances',
};

/** Actions each human role may take without further conditions (ADMIN: all). */
const GRANTS: Readonly<Record<Exclude<Role, Role.INSTANCE>, ReadonlySet<Action>>> = {
  [Role.DEVELOPER]: new Set<Action>([
    'profile:read', 'instance:read', 'profile:write', 'version:publish',
    'schema:register', 'schema:submit', 'deployment:start',
  ]),
  [Role.OPERATOR]: new Set<Action>([
    'profile:read', 'instance:read', 'deployment:start', 'deployment:control', 'instance:deregister',
  ]),
  [Role.ADMIN]: new Set<Action>(ACTIONS),
};

/** Environments a DEVELOPER may deploy to. */
export const DEVELOPER_DEPLOY_ENVIRONMENTS: readonly Environment[] = [Environment.DEVELOPMENT, Environment.STAGING];

/** True when `v` is one of the {@link Role} values. */
export function isRole(v: unknown): v is Role {
  return isEnumValue(Role, v);
}

/**
 * Checks that `principal` may take `action` on the resource in `scope`.
 *
 * - DEVELOPER: reads, profile:write, version:publish, schema:register,
 *   schema:submit, and deployment:start to DEVELOPMENT or STAGING only.
 * - OPERATOR: reads, deployment:start (any environment), deployment:control,
 *   instance:deregister.
 * - ADMIN: everything.
 * - INSTANCE: instance:register with a registration token (no instanceId) for its
 *   own service and environment; instance:act and instance:deregister as itself.
 *
 * @returns the principal, narrowed to non-null
 * @throws UnauthenticatedError when there is no principal
 * @throws ForbiddenError saying which role may not do what, and why
 */
export function authorize(principal: Principal | undefined | null, action: Action, scope: ResourceScope = {}): Principal {
  if (principal === undefined || principal === null) {
    throw new UnauthenticatedError('authentication required: send a bearer token');
  }
  const { role } = principal;
  if (!isRole(role)) {
    throw new ForbiddenError(`unknown role ${quoteForMessage(String(role))}: allowed roles are ${Object.values(Role).join(', ')}`, { action });
  }
  if (role === Role.INSTANCE) {
    authorizeInstance(principal, action, scope);
    return principal;
  }
  if (!GRANTS[role].has(action)) throw denied(role, action, allowedRoles(action));
  if (role === Role.DEVELOPER && action === 'deployment:start') {
    const env = scope.environment;
    if (env === undefined || !DEVELOPER_DEPLOY_ENVIRONMENTS.includes(env)) {
      throw new ForbiddenError(
        `role DEVELOPER may not start deployments in ${env ?? 'an unspecified environment'}: developers deploy to ${DEVELOPER_DEPLOY_ENVIRONMENTS.join(' and ')} only; ask an OPERATOR or ADMIN`,
        { role, action, environment: env ?? null },
      );
    }
  }
  return principal;
}

function authorizeInstance(p: Principal, action: Action, scope: ResourceScope): void {
  if (action === 'instance:register') {
    if (p.instanceId !== undefined) {
      throw new ForbiddenError(
        `the token of instance ${p.instanceId} may not register instances: use a registration token (an INSTANCE token without instanceId)`,
        { role: p.role, action },
      );
    }
    if (p.service === undefined || p.environment === undefined || scope.service !== p.service || scope.environment !== p.environment) {
      throw new ForbiddenError(
        `this registration token is for service ${p.service ?? '(none)'} in ${p.environment ?? '(none)'}; it may not register an instance of ${scope.service ?? '(none)'} in ${scope.environment ?? '(none)'}`,
        { role: p.role, action },
      );
    }
    return;
  }
  if (action === 'instance:act' || action === 'instance:deregister') {
    if (p.instanceId === undefined) {
      throw new ForbiddenError(
        `a registration token may only register instances; use the token returned by registerInstance to ${ACTION_DESCRIPTIONS[action]}`,
        { role: p.role, action },
      );
    }
    if (scope.instanceId !== p.instanceId) {
      throw new ForbiddenError(
        `the token of instance ${p.instanceId} may only ${ACTION_DESCRIPTIONS[action]} for itself, not for instance ${scope.instanceId ?? '(none)'}`,
        { role: p.role, action },
      );
    }
    return;
  }
  throw denied(Role.INSTANCE, action, allowedRoles(action));
}

function allowedRoles(action: Action): Role[] {
  return [Role.DEVELOPER, Role.OPERATOR, Role.ADMIN].filter((r) => GRANTS[r as keyof typeof GRANTS].has(action));
}

function denied(role: Role, action: Action, allowed: Role[]): ForbiddenError {
  return new ForbiddenError(
    `role ${role} may not ${ACTION_DESCRIPTIONS[action]} (${action}); allowed roles: ${allowed.join(', ')}`,
    { role, action },
  );
}

/** Whether {@link authorize} lets `principal` take `action` on `scope` (no error: a yes or a no). */
export function permits(principal: Principal, action: Action, scope: ResourceScope = {}): boolean {
  try {
    authorize(principal, action, scope);
    return true;
  } catch (error) {
    if (error instanceof ForbiddenError) return false;
    throw error;
  }
}

/** The environments `principal` may start deployments in. */
export function deployEnvironments(principal: Principal): Environment[] {
  return Object.values(Environment).filter((environment) => permits(principal, 'deployment:start', { environment }));
}

/**
 * The actions `principal` may take somewhere, so that a UI offers only those
 * (the rules stay here: each operation still calls {@link authorize}).
 * deployment:start counts when some environment allows it.
 */
export function allowedActions(principal: Principal): Action[] {
  return ACTIONS.filter((action) => (action === 'deployment:start' ? deployEnvironments(principal).length > 0 : permits(principal, action)));
}
