import type { ValidationIssue } from '../domain/errors.js';
import type { JsonObject } from '../domain/json.js';
import { type CompiledSchema, SchemaCompiler } from './schema-compiler.js';

/** A validation request sent to the worker thread. */
export interface ValidationRequest {
  id: number;
  schemaHash: string;
  schema: JsonObject;
  data: unknown;
  maxSchemaBytes: number;
}

export type ValidationReply = { id: number; issues: ValidationIssue[] } | { id: number; failure: string };

let compiler: SchemaCompiler | undefined;
const compiled = new Map<string, CompiledSchema>();

/** Runs inside the validation worker (src/json-schema/sandboxed-validator.ts). */
export function handle(request: ValidationRequest): ValidationReply {
  try {
    compiler ??= new SchemaCompiler({ maxSchemaBytes: request.maxSchemaBytes });
    let schema = compiled.get(request.schemaHash);
    if (!schema) {
      schema = compiler.compile(request.schema);
      if (compiled.size >= 200) compiled.delete(compiled.keys().next().value!);
      compiled.set(request.schemaHash, schema);
    }
    return { id: request.id, issues: schema.validate(request.data) };
  } catch (error) {
    return { id: request.id, failure: error instanceof Error ? error.message : String(error) };
  }
}
