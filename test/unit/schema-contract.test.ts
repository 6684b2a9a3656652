import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import {
  type DefinitionNode,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isObjectType,
  Kind,
  parse,
  print,
} from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGraphQLSchema } from '../../src/schema/build-schema.js';
import { printGraphQLSchema } from '../../src/schema/print-schema.js';


const SHARED_API = new URL('../../../shared/API.md', import.meta.url);
const COPY_API = new URL('../../docs/API.md', import.meta.url);

/** The SDL blocks of API.md, the public contract: ../shared/API.md beside the checkout, else the copy in docs/. */
function contractDefinitions(): readonly DefinitionNode[] {
  const apiMd = readFileSync(existsSync(SHARED_API) ? SHARED_API : COPY_API, 'utf8');
  const blocks = [...apiMd.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
  return parse(blocks).definitions;
}

describe('GraphQL schema', () => {
  let schema: GraphQLSchema;
  beforeAll(() => {
    schema = buildGraphQLSchema();
  });

  it('matches the committed schema.graphql (run `npm run schema:print` after a change)', () => {
    expect(printGraphQLSchema()).toBe(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
  });

  it('keeps docs/API.md a faithful copy of the shared contract', () => {
    if (!existsSync(SHARED_API)) return; // a standalone clone has only the copy
    expect(readFileSync(COPY_API, 'utf8')).toBe(readFileSync(SHARED_API, 'utf8'));
  });

  it('has the operations of API.md built so far', () => {
    const query = Object.keys(schema.getQueryType()!.getFields());
    const mutation = Object.keys(schema.getMutationType()!.getFields());
    expect(query).toEqual(expect.arrayContaining(['profiles', 'profile', 'version', 'versionDiff']));
    expect(mutation).toEqual(
      expect.arrayContaining(['createProfile', 'updateProfile', 'deleteProfile', 'publishVersion', 'deleteVersion']),
    );
    expect(query).toEqual(expect.arrayContaining(['deployments', 'deployment', 'instances', 'instance']));
    expect(mutation).toEqual(
      expect.arrayContaining(['startDeployment', 'registerInstance', 'heartbeat', 'reportConfigApplied', 'deregisterInstance']),
    );
    expect(Object.keys(schema.getSubscriptionType()!.getFields())).toEqual(['configUpdates', 'deploymentEvents']);
    expect(query).toEqual(expect.arrayContaining(['schemas', 'schema', 'validateConfig']));
    expect(mutation).toEqual(expect.arrayContaining(['registerSchema', 'submitSchemaForApproval', 'approveSchema', 'rejectSchema']));
  });

  it('keeps every name, type, argument and default of API.md that it implements', () => {
    const mismatches: string[] = [];
    for (const def of contractDefinitions()) {
      if (!('name' in def) || !def.name) continue;
      const ours = schema.getType(def.name.value);
      if (!ours) continue; // a later issue's type
      if ((def.kind === Kind.OBJECT_TYPE_DEFINITION && isObjectType(ours)) || (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION && isInputObjectType(ours))) {
        const fields = ours.getFields();
        for (const field of def.fields ?? []) {
          const f = fields[field.name.value];
          const where = `${def.name.value}.${field.name.value}`;
          if (!f) {
            if (def.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION || !['Query', 'Mutation', 'Subscription'].includes(def.name.value)) {
              mismatches.push(`${where} is missing`);
            }
            continue;
          }
          if (String(f.type) !== print(field.type)) mismatches.push(`${where}: ${String(f.type)} ≠ ${print(field.type)}`);
          if (field.kind === Kind.FIELD_DEFINITION && 'args' in f) {
            for (const arg of field.arguments ?? []) {
              const a = f.args.find((x) => x.name === arg.name.value);
              if (!a) mismatches.push(`${where}(${arg.name.value}) is missing`);
              else if (String(a.type) !== print(arg.type)) mismatches.push(`${where}(${arg.name.value}): ${String(a.type)} ≠ ${print(arg.type)}`);
              else if (arg.defaultValue && JSON.stringify(a.defaultValue) !== print(arg.defaultValue)) {
                mismatches.push(`${where}(${arg.name.value}) default ${JSON.stringify(a.defaultValue)} ≠ ${print(arg.defaultValue)}`);
              }
            }
          }
        }
      } else if (def.kind === Kind.ENUM_TYPE_DEFINITION && isEnumType(ours)) {
        const values = ours.getValues().map((v) => v.name);
        expect(values, def.name.value).toEqual((def.values ?? []).map((v) => v.name.value));
      } else if (def.kind !== Kind.SCALAR_TYPE_DEFINITION) {
        mismatches.push(`${def.name.value} has another kind`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
