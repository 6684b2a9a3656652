/** Where a profile's configuration runs; PRODUCTION has the strictest rules. */
export enum Environment {
  DEVELOPMENT = 'DEVELOPMENT',
  STAGING = 'STAGING',
  PRODUCTION = 'PRODUCTION',
}

export enum DeploymentStrategy {
  CANARY = 'CANARY',
  BLUE_GREEN = 'BLUE_GREEN',
  ROLLING = 'ROLLING',
  DIRECT = 'DIRECT',
}

export enum DeploymentStatus {
  PENDING = 'PENDING',
  IN_PROGRESS = 'IN_PROGRESS',
  PAUSED = 'PAUSED',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  ROLLING_BACK = 'ROLLING_BACK',
  ROLLED_BACK = 'ROLLED_BACK',
  CANCELLED = 'CANCELLED',
}

export enum SchemaStatus {
  DRAFT = 'DRAFT',
  PENDING_APPROVAL = 'PENDING_APPROVAL',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
}

export enum InstanceStatus {
  HEALTHY = 'HEALTHY',
  DEGRADED = 'DEGRADED',
  STALE = 'STALE',
}

export enum Color {
  BLUE = 'BLUE',
  GREEN = 'GREEN',
}

export enum ChangeOp {
  ADD = 'ADD',
  REMOVE = 'REMOVE',
  REPLACE = 'REPLACE',
}

/** A health judgement: the evidence says healthy, says degraded, or is not enough to say. */
export enum HealthVerdict {
  PASS = 'PASS',
  FAIL = 'FAIL',
  INCONCLUSIVE = 'INCONCLUSIVE',
}

/** What a phase does when its health stays INCONCLUSIVE past its evidence bound. */
export enum InconclusiveAction {
  /** Pause for an operator, who resumes (promotes) or rolls back. */
  PAUSE = 'PAUSE',
  /** Go on as if it passed: for fleets that report no metrics at all. Never the default. */
  PROMOTE = 'PROMOTE',
}

export enum Role {
  DEVELOPER = 'DEVELOPER',
  OPERATOR = 'OPERATOR',
  ADMIN = 'ADMIN',
  INSTANCE = 'INSTANCE',
}

/** True when `value` is one of the enum's values (for parsing untrusted input). */
export function isEnumValue<E extends Record<string, string>>(e: E, value: unknown): value is E[keyof E] {
  return typeof value === 'string' && (Object.values(e) as string[]).includes(value);
}
