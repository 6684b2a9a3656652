import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigRenderError, parseTemplate, renderConfig, renderEnv, renderTemplate } from '../../../src/agent/formats.js';
import type { ConfigUpdate } from '../../../src/client/types.js';

const updateOf = (data: Record<string, unknown>): ConfigUpdate => ({ profileName: 'orders-api', version: 7, hash: 'ab'.repeat(32), data, deploymentId: null, traceparent: null });

/** What `set -a; . file` exports, read back through `env -0`. */
function sourcedBySh(content: string): Record<string, string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hotswap-env-'));
  try {
    writeFileSync(path.join(dir, 'config.env'), content);
    const out = execFileSync('/bin/sh', ['-c', 'set -a; . "$1"; env -0', 'sh', path.join(dir, 'config.env')], { env: {}, encoding: 'utf8' });
    return Object.fromEntries(out.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('json and yaml', () => {
  it('json is pretty-printed with a trailing newline', () => {
    expect(renderConfig('json', updateOf({ a: { b: [1] } }))).toBe('{\n  "a": {\n    "b": [\n      1\n    ]\n  }\n}\n');
  });

  it('yaml reads back as the same data under YAML 1.1 (PyYAML, SnakeYAML) and 1.2 rules', () => {
    const data = {
      on: 'yes', no: 'off', y: 'n', octal: '0755', octal12: '0o14', hex: '0x1F', sexagesimal: '12:30', date: '2001-12-14',
      underscored: '1_000', nul: 'null', tilde: '~', inf: '.inf', exp: '1e3', empty: '', multi: 'a\nb\n', colon: 'a: b',
      long: `${'x'.repeat(120)} ${'y'.repeat(120)}`, n: 1.5, t: true, z: null, list: [1, 'two', { three: 3 }], none: {},
    };
    const text = renderConfig('yaml', updateOf(data));
    expect(parse(text, { version: '1.1' })).toEqual(data);
    expect(parse(text, { version: '1.2' })).toEqual(data);
    expect(text).not.toContain('%YAML');
  });
});

describe('env', () => {
  it('flattens nested keys with _, splitting camelCase and upper-casing', () => {
    expect(renderEnv({ db: { poolSize: 5, host: 'db1' }, HTTPServer: { port: 80 }, oauth2Client: true, feature_x: false, gone: null })).toBe(
      "DB_POOL_SIZE=5\nDB_HOST='db1'\nHTTP_SERVER_PORT=80\nOAUTH2_CLIENT=true\nFEATURE_X=false\nGONE=\n",
    );
  });

  it('writes arrays and empty objects as JSON strings', () => {
    expect(renderEnv({ hosts: ['a', 'b'], limits: {}, servers: [{ name: 'x' }] })).toBe(`HOSTS='["a","b"]'\nLIMITS='{}'\nSERVERS='[{"name":"x"}]'\n`);
  });

  const tricky = {
    plain: 'hello world',
    multi: 'line one\nline two\n',
    doubleQuotes: 'say "hi"',
    apostrophe: "it's",
    dollar: 'cost $5, ${HOME}, `id` and $(id)',
    hash: 'a # not a comment',
    backslash: 'C:\\path\\n',
    padded: '  padded  ',
    empty: '',
    unicode: 'héllo ✓',
  };

  it('quotes strings so that sh reads every one back unchanged', () => {
    const both = { both: `it's "$HOME" \\ \` done` };
    const vars = sourcedBySh(renderEnv({ ...tricky, ...both }));
    expect(vars).toMatchObject({ PLAIN: tricky.plain, MULTI: tricky.multi, DOUBLE_QUOTES: tricky.doubleQuotes, APOSTROPHE: tricky.apostrophe });
    expect(vars).toMatchObject({ DOLLAR: tricky.dollar, HASH: tricky.hash, BACKSLASH: tricky.backslash, PADDED: tricky.padded, EMPTY: '', UNICODE: tricky.unicode, BOTH: both.both });
  });

  it('quotes strings so that a dotenv parser (Node’s) reads them back unchanged', () => {
    expect(parseEnv(renderEnv(tricky))).toEqual({
      PLAIN: tricky.plain, MULTI: tricky.multi, DOUBLE_QUOTES: tricky.doubleQuotes, APOSTROPHE: tricky.apostrophe, DOLLAR: tricky.dollar,
      HASH: tricky.hash, BACKSLASH: tricky.backslash, PADDED: tricky.padded, EMPTY: '', UNICODE: tricky.unicode,
    });
  });

  it.each([
    [{ 'pool-size': 1 }, /key "pool-size" cannot be part of a variable name/],
    [{ db: { 'a.b': 1 } }, /key "db\.a\.b" cannot be part of a variable name/],
    [{ '': 1 }, /key "" cannot be part/],
    [{ '2fa': true }, /key "2fa" gives 2FA, and a variable name cannot start with a digit/],
    [{ db: { poolSize: 1 }, db_pool_size: 2 }, /keys "db\.poolSize" and "db_pool_size" both give DB_POOL_SIZE/],
    [{ note: 'a\0b' }, /value of "note" holds a NUL character/],
  ])('refuses %j with an error naming the key', (data, message) => {
    expect(() => renderEnv(data)).toThrow(ConfigRenderError);
    expect(() => renderEnv(data)).toThrow(message);
  });
});

describe('template', () => {
  const update = updateOf({ db: { host: 'db1', port: 5432, replicas: ['r1', 'r2'], tls: { on: true } }, version: 'own', nothing: null });

  it('fills paths, array indexes and the four names of the config itself', () => {
    const template = 'host={{db.host}}:{{ db.port }} first={{db.replicas.0}}\ntls={{db.tls}} n={{nothing}}\n# {{profile}} v{{version}} {{hash}} own={{.version}}\n{{json}}\n';
    expect(renderConfig('template', update, template)).toBe(
      `host=db1:5432 first=r1\ntls={"on":true} n=null\n# orders-api v7 ${'ab'.repeat(32)} own=own\n${JSON.stringify(update.data)}\n`,
    );
  });

  it('refuses a config missing any placeholder’s value, listing them all with their lines', () => {
    const template = 'a={{db.host}}\nb={{db.user}}\nc={{db.replicas.5}} d={{db.host.x}}\n';
    expect(() => renderTemplate(template, update)).toThrow(
      'template: no value in orders-api version 7 for {{db.user}} (line 2), {{db.replicas.5}} (line 3), {{db.host.x}} (line 3)',
    );
  });

  it.each([
    ['a={{db.host}\n', /line 1: "\{\{" opens no placeholder/],
    ['ok\n{{ }}\n', /line 2: \{\{ \}\} is not a name or a path/],
    ['{{a..b}}', /is not a name or a path/],
  ])('reports a syntax error in %j with its line', (template, message) => {
    expect(() => parseTemplate(template)).toThrow(message);
  });

  it('needs a template for the template format', () => {
    expect(() => renderConfig('template', update)).toThrow('the template format needs a template');
  });
});
