import { printSchema } from 'graphql';
import { buildGraphQLSchema } from './build-schema.js';

/** The SDL of the schema as the code defines it; committed as schema.graphql. */
export function printGraphQLSchema(): string {
  return `${printSchema(buildGraphQLSchema())}\n`;
}

