/**
 * `npx tsx bench/validation.bench.ts`: in-process validation throughput of a
 * realistic ~50 KB config against a ~200-line schema (SchemaCompiler: ajv with
 * allErrors, ajv-formats, patterns on RE2). For comparison, the same schema on
 * ajv with JavaScript's own RegExp (what RE2 costs). Env: BENCH_SECONDS (per scenario, default 3).
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { canonicalJson } from '../src/domain/canonical-json.js';
import { SchemaCompiler } from '../src/json-schema/schema-compiler.js';
import { breakConfig, buildConfig, buildSchema } from './validation-fixtures.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

function measure(run: () => unknown): { perSecond: number; meanUs: number } {
  for (let i = 0; i < 50; i++) run(); // warm-up
  let n = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 20; i++) run();
    n += 20;
  }
  const elapsedMs = performance.now() - started;
  return { perSecond: Math.round((n / elapsedMs) * 1000), meanUs: Math.round((elapsedMs / n) * 1000 * 10) / 10 };
}

const schema = buildSchema();
let services = 1;
while (Buffer.byteLength(canonicalJson(buildConfig(services + 1))) <= 50 * 1024) services++;
const config = buildConfig(services);
const invalid = breakConfig(config, 10);

const compiler = new SchemaCompiler({ maxSchemaBytes: 512 * 1024 });
let started = performance.now();
const compiled = compiler.compile(schema);
const compileMs = performance.now() - started;
started = performance.now();
for (let i = 0; i < 100; i++) compiler.compile(structuredClone(schema));
const cachedCompileUs = ((performance.now() - started) / 100) * 1000;

const valid = compiled.validate(config);
if (valid.length > 0) throw new Error(`the benchmark config should be valid: ${JSON.stringify(valid.slice(0, 3))}`);
const issues = compiled.validate(invalid);

const nativeAjv = new Ajv2020.default({ allErrors: true, strict: false, verbose: true });
addFormats.default(nativeAjv);
const native = nativeAjv.compile(schema);

console.log(`config: ${Buffer.byteLength(JSON.stringify(config)).toLocaleString('en-US')} bytes of JSON (${services} services); ` +
  `schema: ${JSON.stringify(schema, null, 2).split('\n').length} lines pretty-printed, ${Buffer.byteLength(JSON.stringify(schema))} bytes`);
console.log(`compile (first): ${compileMs.toFixed(1)} ms; compile of an equal schema (cache hit, hash included): ${cachedCompileUs.toFixed(0)} µs; ajv compilations: ${compiler.compiledCount}`);
console.log(`invalid config: ${issues.length} issues, e.g. ${JSON.stringify(issues[0])}`);
console.log(`measuring ${SECONDS} s per scenario…`);

const rows = {
  'valid 50 KB config (RE2)': measure(() => compiled.validate(config)),
  [`invalid config, ${issues.length} issues (RE2)`]: measure(() => compiled.validate(invalid)),
  'cache lookup + validate (RE2)': measure(() => compiler.compile(schema).validate(config)),
  'valid config, native RegExp (comparison only)': measure(() => native(config)),
};
console.table(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, { 'validations/s': v.perSecond, 'mean µs': v.meanUs }])));
