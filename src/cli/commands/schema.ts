import type { Command } from 'commander';
import { SchemaStatus } from '../../domain/enums.js';
import { connect } from '../connection.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { readDocument } from '../input.js';
import { createOut, type Out } from '../output.js';
import { enumValue, examples, fields, notFound, shortTime } from './resource-support.js';

interface Schema {
  id: string;
  name: string;
  schemaVersion: number;
  status: string;
  description: string | null;
  createdBy: string;
  createdAt: string;
  submittedBy?: string | null;
  submittedAt?: string | null;
  approvedBy?: string | null;
  rejectedBy?: string | null;
  decidedAt?: string | null;
  decisionComment?: string | null;
  compatibility?: Compatibility | null;
  schema?: unknown;
}

/** The report stored on submission (src/services/compatibility-report.ts). */
interface Compatibility {
  previousApprovedVersion: number | null;
  breakingChanges: Array<{ path: string; message: string }>;
  profiles: Array<{ profileName: string; which: string; version: number; valid: boolean; errors: Issue[] }>;
  compatible: boolean;
}

interface Issue {
  path: string;
  message: string;
  keyword: string;
}

const FIELDS = 'id name schemaVersion status description createdBy createdAt';
const DETAIL_FIELDS = `${FIELDS} submittedBy submittedAt approvedBy rejectedBy decidedAt decisionComment compatibility`;
const issueLine = (e: Issue) => `${e.path === '' ? '/' : e.path}: ${e.message} (${e.keyword})`;

/** `hotswap schema register|submit|approve|reject|validate|list|show`. */
export function registerSchemaCommands(program: Command, env: NodeJS.ProcessEnv): void {
  const out = createOut(process.stdout, env);
  const schema = program
    .command('schema')
    .description('JSON Schemas configs are validated against, and their approval workflow (DRAFT → PENDING_APPROVAL → APPROVED | REJECTED)')
    .addHelpText('after', examples('hotswap schema register --name orders --file orders.schema.json', 'hotswap schema validate <id> --file config.yaml'));

  schema
    .command('register')
    .description('Register a JSON Schema (the next schemaVersion of its name), as DRAFT')
    .requiredOption('--name <name>', 'the schema name (a slug)')
    .requiredOption('--file <path>', 'the JSON Schema: a .json or .yaml file, or - for stdin')
    .option('--description <text>', 'what the schema describes or changes')
    .option('--json', 'print the registered schema as JSON')
    .addHelpText('after', examples('hotswap schema register --name orders --file orders.schema.json --description "adds pool.max"'))
    .action(async (o: { name: string; file: string; description?: string; json?: boolean }, cmd: Command) => {
      const api = connect(cmd, env);
      const document = await readDocument(o.file);
      const data = await api.request<{ registerSchema: Schema }>(
        `mutation($input: RegisterSchemaInput!) { registerSchema(input: $input) { ${FIELDS} } }`,
        { input: { name: o.name, schema: document, description: o.description } },
      );
      if (o.json) return out.json(data);
      const s = data.registerSchema;
      out.line(`registered schema ${s.name} v${s.schemaVersion} as ${s.status}: ${s.id}`);
      out.line(`submit it for approval: hotswap schema submit ${s.id}`);
    });

  schema
    .command('submit')
    .description('Submit a DRAFT schema for approval; prints the compatibility report')
    .argument('<id>', 'the schema id')
    .option('--json', 'print the submitted schema as JSON')
    .addHelpText('after', examples('hotswap schema submit 3f1c2a7e-…'))
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ submitSchemaForApproval: Schema }>(
        `mutation($id: ID!) { submitSchemaForApproval(id: $id) { ${DETAIL_FIELDS} } }`,
        { id },
      );
      if (o.json) return out.json(data);
      const s = data.submitSchemaForApproval;
      out.line(`schema ${s.name} v${s.schemaVersion} is ${s.status}`);
      printCompatibility(out, s.compatibility ?? null);
    });

  schema
    .command('approve')
    .description('Approve a schema PENDING_APPROVAL (ADMIN)')
    .argument('<id>', 'the schema id')
    .option('--comment <text>', 'why it is approved')
    .option('--json', 'print the approved schema as JSON')
    .addHelpText('after', examples('hotswap schema approve 3f1c2a7e-… --comment "reviewed with the orders team"'))
    .action(async (id: string, o: { comment?: string; json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ approveSchema: Schema }>(
        `mutation($id: ID!, $comment: String) { approveSchema(id: $id, comment: $comment) { ${DETAIL_FIELDS} } }`,
        { id, comment: o.comment },
      );
      if (o.json) return out.json(data);
      const s = data.approveSchema;
      out.line(`approved schema ${s.name} v${s.schemaVersion} (${s.status} by ${s.approvedBy ?? '?'})`);
    });

  schema
    .command('reject')
    .description('Reject a schema PENDING_APPROVAL, with a reason (ADMIN)')
    .argument('<id>', 'the schema id')
    .requiredOption('--reason <text>', 'why it is rejected')
    .option('--json', 'print the rejected schema as JSON')
    .addHelpText('after', examples('hotswap schema reject 3f1c2a7e-… --reason "pool.max must stay optional"'))
    .action(async (id: string, o: { reason: string; json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ rejectSchema: Schema }>(
        `mutation($id: ID!, $reason: String!) { rejectSchema(id: $id, reason: $reason) { ${DETAIL_FIELDS} } }`,
        { id, reason: o.reason },
      );
      if (o.json) return out.json(data);
      const s = data.rejectSchema;
      out.line(`rejected schema ${s.name} v${s.schemaVersion}: ${s.decisionComment ?? ''}`);
    });

  schema
    .command('validate')
    .description('Validate a config file against a schema: exit 0 when valid, else one line per failing path and exit 4')
    .argument('<id>', 'the schema id')
    .requiredOption('--file <path>', 'the config: a .json or .yaml file, or - for stdin')
    .option('--json', 'print the validation result as JSON (still exit 4 when invalid)')
    .addHelpText('after', examples('hotswap schema validate 3f1c2a7e-… --file config.yaml'))
    .action(async (id: string, o: { file: string; json?: boolean }, cmd: Command) => {
      const api = connect(cmd, env);
      const document = await readDocument(o.file);
      const data = await api.request<{ validateConfig: { valid: boolean; errors: Issue[] }; schema: Schema | null }>(
        `query($id: ID!, $data: JSON!) { validateConfig(schemaId: $id, data: $data) { valid errors { path message keyword } } schema(id: $id) { ${FIELDS} } }`,
        { id, data: document },
      );
      const { valid, errors } = data.validateConfig;
      const against = data.schema ? `schema ${data.schema.name} v${data.schema.schemaVersion}` : `schema ${id}`;
      if (o.json) out.json({ validateConfig: data.validateConfig });
      if (valid) {
        if (!o.json) out.line(`valid against ${against}`);
        return;
      }
      throw new CliError(
        [`VALIDATION_FAILED: the config does not match ${against}: ${errors.length} error${errors.length === 1 ? '' : 's'}`, ...errors.map((e) => `  ${issueLine(e)}`)],
        ExitCode.REFUSED,
      );
    });

  schema
    .command('list')
    .description('List schemas, newest first')
    .option('--status <status>', `only this status: ${Object.values(SchemaStatus).join(', ')}`, enumValue(SchemaStatus))
    .option('--json', 'print the GraphQL data as JSON')
    .addHelpText('after', examples('hotswap schema list --status PENDING_APPROVAL'))
    .action(async (o: { status?: SchemaStatus; json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ schemas: Schema[] }>(`query($status: SchemaStatus) { schemas(status: $status) { ${FIELDS} } }`, {
        status: o.status,
      });
      if (o.json) return out.json(data);
      if (data.schemas.length === 0) return out.line('no schemas');
      out.table(
        data.schemas.map((s) => ({ id: s.id, name: s.name, version: s.schemaVersion, status: s.status, by: s.createdBy, created: shortTime(s.createdAt) })),
        ['id', 'name', 'version', 'status', 'by', 'created'],
      );
    });

  schema
    .command('show')
    .description('Show a schema: its approval state, compatibility report and the JSON Schema')
    .argument('<id>', 'the schema id')
    .option('--json', 'print the GraphQL data as JSON')
    .addHelpText('after', examples('hotswap schema show 3f1c2a7e-…'))
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      const data = await connect(cmd, env).request<{ schema: Schema | null }>(`query($id: ID!) { schema(id: $id) { ${DETAIL_FIELDS} schema } }`, { id });
      if (!data.schema) throw notFound(`schema ${id}`);
      if (o.json) return out.json(data);
      const s = data.schema;
      fields(out, [
        ['id', s.id],
        ['name', s.name],
        ['version', s.schemaVersion],
        ['status', s.status],
        ['description', s.description],
        ['created', `${String(shortTime(s.createdAt))} by ${s.createdBy}`],
        ['submitted', s.submittedAt ? `${String(shortTime(s.submittedAt))} by ${s.submittedBy ?? '?'}` : null],
        ['decided', s.decidedAt ? `${String(shortTime(s.decidedAt))} by ${s.approvedBy ?? s.rejectedBy ?? '?'}` : null],
        ['comment', s.decisionComment],
      ]);
      if (s.compatibility) printCompatibility(out, s.compatibility);
      out.line('schema:');
      out.json(s.schema);
    });
}

function printCompatibility(out: Out, c: Compatibility | null): void {
  if (!c) return;
  const against = c.previousApprovedVersion === null ? 'no earlier approved version' : `approved v${c.previousApprovedVersion}`;
  if (c.compatible) {
    out.line(out.paint(`compatible: no breaking change against ${against}; every bound config validates`, 'green'));
    return;
  }
  out.line(out.paint(`not compatible (against ${against}):`, 'red'));
  for (const b of c.breakingChanges) out.line(`  breaking: ${b.message}`);
  for (const p of c.profiles.filter((x) => !x.valid)) {
    for (const e of p.errors) out.line(`  profile ${p.profileName} (${p.which} v${p.version}) would fail: ${issueLine(e)}`);
  }
}
