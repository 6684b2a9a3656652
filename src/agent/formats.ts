/**
 * How `hotswap agent` renders a config for a service to read: JSON, YAML, a
 * dotenv file, or a template the user supplies. Pure: text in, text out, and
 * a config that cannot be rendered faithfully is an error — never a file
 * with a value silently dropped or changed.
 */
import { Document, Scalar, visit } from 'yaml';
import type { ConfigUpdate } from '../client/types.js';

export const CONFIG_FORMATS = ['json', 'yaml', 'env', 'template'] as const;
export type ConfigFormat = (typeof CONFIG_FORMATS)[number];

/** A config that cannot be rendered in the format asked for; the message is one line, naming the key or placeholder. */
export class ConfigRenderError extends Error {
  override readonly name = 'ConfigRenderError';
}

export function isConfigFormat(value: string): value is ConfigFormat {
  return (CONFIG_FORMATS as readonly string[]).includes(value);
}

/**
 * Renders one config as the file's content.
 *
 * @param template - the template's text, required for (and only used by) `template`
 * @throws ConfigRenderError when the config does not fit the format (see {@link renderEnv}, {@link renderTemplate})
 * @example renderConfig('env', { ...update, data: { db: { poolSize: 5 } } }) // "DB_POOL_SIZE=5\n"
 */
export function renderConfig(format: ConfigFormat, update: ConfigUpdate, template?: string): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(update.data, null, 2)}\n`;
    case 'yaml':
      return renderYaml(update.data);
    case 'env':
      return renderEnv(update.data);
    case 'template':
      if (template === undefined) throw new ConfigRenderError('the template format needs a template');
      return renderTemplate(template, update);
  }
}

/** What YAML 1.2's core schema reads as a null, bool or number when plain. */
const CORE_NON_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/**
 * YAML that YAML 1.1 readers (PyYAML, SnakeYAML) and 1.2 readers (Go, the
 * `yaml` package) read back as the same data: written with 1.1's rules, which
 * quote `yes`, `on`, `12:30`, `2001-12-14`…, and also quoting what 1.2 alone
 * reads as a number (`0o14`). No anchors, no folded lines.
 */
function renderYaml(data: Record<string, unknown>): string {
  const doc = new Document(data, { version: '1.1', aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && CORE_NON_STRING.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/**
 * A dotenv file, one `NAME=value` line per leaf, readable both by dotenv
 * parsers and by `set -a; . ./file` in a POSIX shell. The rules:
 *
 * - **Names**: nested keys are joined with `_`, camelCase split, upper-cased:
 *   `{ db: { poolSize: 5 } }` → `DB_POOL_SIZE=5`; `HTTPServer` → `HTTP_SERVER`.
 *   Every key must be letters, digits and `_`, and the name must not start
 *   with a digit; any other key (`pool-size`, `a.b`, `""`) is an error naming
 *   it. Two keys giving the same name (`poolSize`, `pool_size`) are an error.
 * - **Numbers and booleans** unquoted (`5`, `true`); **null** is empty (`A=`).
 * - **Arrays** and **empty objects** as their JSON, quoted like strings:
 *   `HOSTS='["a","b"]'`.
 * - **Strings** in single quotes, which both read literally (newlines, `"`,
 *   `$`, `#`, `\` included). A string holding `'` is double-quoted; if it
 *   also holds `"`, `$`, `` ` `` or `\`, those get a `\` in front, as the
 *   shell, godotenv and Ruby's dotenv read it (Node's `dotenv` and
 *   `process.loadEnvFile` keep the backslashes: no single line reads the same
 *   there and in sh). python-dotenv turns `\\` into `\` even in single quotes.
 *   A NUL character is an error (no environment variable can hold one).
 *
 * Use the json, yaml or template format for a config these rules do not fit.
 * @example renderEnv({ db: { host: 'x', poolSize: 5 }, tags: ['a'] }) // "DB_HOST='x'\nDB_POOL_SIZE=5\nTAGS='[\"a\"]'\n"
 */
export function renderEnv(data: Record<string, unknown>): string {
  const lines: string[] = [];
  const origin = new Map<string, string>();
  const walk = (value: unknown, names: string[], keys: string[]): void => {
    if (isPlainObject(value) && (Object.keys(value).length > 0 || names.length === 0)) {
      for (const [key, child] of Object.entries(value)) {
        const where = [...keys, key].join('.');
        if (!/^[A-Za-z0-9_]+$/.test(key)) {
          throw new ConfigRenderError(`env format: the key ${JSON.stringify(where)} cannot be part of a variable name (letters, digits and _ only)`);
        }
        walk(child, [...names, envName(key)], [...keys, key]);
      }
      return;
    }
    const name = names.join('_');
    const where = keys.join('.');
    if (/^[0-9]/.test(name)) throw new ConfigRenderError(`env format: the key ${JSON.stringify(where)} gives ${name}, and a variable name cannot start with a digit`);
    const clash = origin.get(name);
    if (clash !== undefined) throw new ConfigRenderError(`env format: the keys ${JSON.stringify(clash)} and ${JSON.stringify(where)} both give ${name}`);
    origin.set(name, where);
    lines.push(`${name}=${envValue(value, where)}`);
  };
  walk(data, [], []);
  return lines.map((line) => `${line}\n`).join('');
}

/** `poolSize` → `POOL_SIZE`, `HTTPServer` → `HTTP_SERVER`, `oauth2Client` → `OAUTH2_CLIENT`. */
function envName(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();
}

function envValue(value: unknown, where: string): string {
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text.includes('\0')) throw new ConfigRenderError(`env format: the value of ${JSON.stringify(where)} holds a NUL character, which no environment variable can hold`);
  if (!text.includes("'")) return `'${text}'`;
  return `"${text.replace(/[\\"$`]/g, '\\$&')}"`;
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const PATH = /^\.?[^.\s{}]+(?:\.[^.\s{}]+)*$/;

/** One `{{…}}` of a template. */
export interface Placeholder {
  /** As written between the braces, trimmed. */
  name: string;
  line: number;
}

/**
 * Checks a template's syntax, so a broken one stops the agent at start-up
 * rather than at the first deployment.
 *
 * @returns its placeholders, in order
 * @throws ConfigRenderError for a `{{` that opens no placeholder, or a placeholder that is no name or path
 */
export function parseTemplate(template: string): Placeholder[] {
  const found: Placeholder[] = [];
  const lineAt = (index: number): number => template.slice(0, index).split('\n').length;
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const stray = template.slice(last, match.index).indexOf('{{');
    if (stray >= 0) throw new ConfigRenderError(`template line ${lineAt(last + stray)}: "{{" opens no placeholder (write {{path.to.value}})`);
    const name = (match[1] ?? '').trim();
    if (!PATH.test(name)) throw new ConfigRenderError(`template line ${lineAt(match.index)}: {{${match[1]}}} is not a name or a path.to.a.value`);
    found.push({ name, line: lineAt(match.index) });
    last = match.index + match[0].length;
  }
  const stray = template.indexOf('{{', last);
  if (stray >= 0) throw new ConfigRenderError(`template line ${lineAt(stray)}: "{{" opens no placeholder (write {{path.to.value}})`);
  return found;
}

/**
 * Fills a template. `{{json}}` is the whole config as compact JSON,
 * `{{version}}`, `{{profile}}` and `{{hash}}` are the config's own; any other
 * `{{a.b.0.c}}` is the value at that path (keys and array indexes joined by
 * dots; a key with a dot in it cannot be reached). A leading dot reaches a
 * top-level key named like one of the four: `{{.version}}`. Strings are
 * inserted as they are (the template decides on quoting), numbers, booleans
 * and null as JSON, objects and arrays as compact JSON.
 *
 * @throws ConfigRenderError listing every placeholder with no value in this config: a missing value is never an empty string
 * @example renderTemplate('url=postgres://{{db.host}}:{{db.port}} # v{{version}}\n', update)
 */
export function renderTemplate(template: string, update: ConfigUpdate): string {
  const missing = parseTemplate(template).filter((p) => lookup(p.name, update) === undefined);
  if (missing.length > 0) {
    const list = missing.map((p) => `{{${p.name}}} (line ${p.line})`).join(', ');
    throw new ConfigRenderError(`template: no value in ${update.profileName} version ${update.version} for ${list}`);
  }
  return template.replace(PLACEHOLDER, (_all, inner: string) => {
    const value = lookup(inner.trim(), update);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

function lookup(name: string, update: ConfigUpdate): unknown {
  switch (name) {
    case 'json':
      return JSON.stringify(update.data);
    case 'version':
      return String(update.version);
    case 'profile':
      return update.profileName;
    case 'hash':
      return update.hash;
  }
  return name
    .replace(/^\./, '')
    .split('.')
    .reduce<unknown>((at, segment) => (at === undefined ? undefined : childOf(at, segment)), update.data);
}

/** A key's value, or an index's element; undefined when there is none. */
function childOf(value: unknown, segment: string): unknown {
  if (Array.isArray(value)) return /^(?:0|[1-9][0-9]*)$/.test(segment) ? (value[Number(segment)] as unknown) : undefined;
  return isPlainObject(value) && Object.hasOwn(value, segment) ? value[segment] : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
