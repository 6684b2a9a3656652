/** The types of the operations' variables, for the tables in this folder and the fuzzing of test/security. */

export type ScalarName = 'String' | 'ID' | 'Int' | 'Float' | 'Boolean' | 'JSON';
export type Spec =
  | { kind: 'scalar'; name: ScalarName; nonNull: boolean }
  | { kind: 'enum'; values: readonly string[]; nonNull: boolean }
  | { kind: 'input'; name: string; fields: Readonly<Record<string, Spec>>; nonNull: boolean }
  | { kind: 'list'; of: Spec; nonNull: boolean };

const scalar = (name: ScalarName, nonNull = false): Spec => ({ kind: 'scalar', name, nonNull });
export const enumOf = (values: readonly string[], nonNull = false): Spec => ({ kind: 'enum', values, nonNull });
const input = (name: string, fields: Record<string, Spec>, nonNull = false): Spec => ({ kind: 'input', name, fields, nonNull });
const listOf = (of: Spec, nonNull = false): Spec => ({ kind: 'list', of, nonNull });
export const req = (spec: Spec): Spec => ({ ...spec, nonNull: true });

export const ENVIRONMENTS = ['DEVELOPMENT', 'STAGING', 'PRODUCTION'] as const;
export const STRATEGIES = ['CANARY', 'BLUE_GREEN', 'ROLLING', 'DIRECT'] as const;
export const COLORS = ['BLUE', 'GREEN'] as const;

/** The nullable scalars. */
export const S = {
  String: scalar('String'),
  ID: scalar('ID'),
  Int: scalar('Int'),
  Float: scalar('Float'),
  Boolean: scalar('Boolean'),
  JSON: scalar('JSON'),
};

export const INPUT_TYPES = {
  CreateProfileInput: input('CreateProfileInput', {
    name: req(S.String),
    service: req(S.String),
    environment: enumOf(ENVIRONMENTS, true),
    description: S.String,
    schemaId: S.ID,
  }),
  UpdateProfileInput: input('UpdateProfileInput', { description: S.String, schemaId: S.ID }),
  PublishVersionInput: input('PublishVersionInput', { data: req(S.JSON), description: S.String }),
  RegisterSchemaInput: input('RegisterSchemaInput', { name: req(S.String), schema: req(S.JSON), description: S.String }),
  RegisterInstanceInput: input('RegisterInstanceInput', {
    service: req(S.String),
    environment: enumOf(ENVIRONMENTS, true),
    host: req(S.String),
    color: enumOf(COLORS),
    metadata: S.JSON,
  }),
  InstanceMetricsInput: input('InstanceMetricsInput', { errorRate: S.Float, latencyP99Ms: S.Float, requestCount: S.Int, custom: S.JSON }),
  StartDeploymentInput: input('StartDeploymentInput', {
    profileName: req(S.String),
    version: req(S.Int),
    strategy: enumOf(STRATEGIES, true),
    canary: input('CanaryOptions', { phases: listOf(req(S.Float)), bakeSeconds: S.Int }),
    rolling: input('RollingOptions', { batchSize: S.Int, batchPercent: S.Float, intervalSeconds: S.Int }),
    blueGreen: input('BlueGreenOptions', { verifySeconds: S.Int }),
    direct: input('DirectOptions', { maxConcurrency: S.Int }),
    health: input('HealthPolicyInput', {
      maxErrorRateIncrease: S.Float,
      maxLatencyIncreasePct: S.Float,
      customThresholds: S.JSON,
      autoRollback: S.Boolean,
    }),
    ackTimeoutSeconds: S.Int,
  }),
} as const;
