import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { printGraphQLSchema } from '../src/schema/print-schema.js';

// Regenerates the committed schema.graphql (test/unit/schema-contract.test.ts checks it is current).
writeFileSync(new URL('../schema.graphql', import.meta.url), printGraphQLSchema());
console.log('wrote schema.graphql');
