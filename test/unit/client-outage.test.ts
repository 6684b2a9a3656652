import { describe, expect, it } from 'vitest';
import { OUTAGE_NOTE, OutageReporter } from '../../src/client/outage-reporter.js';
import { createStderrLogger } from '../../src/client/stderr-logger.js';
import type { ClientLogger } from '../../src/client/types.js';

function recording() {
  const lines: Array<[level: string, message: string, details?: Record<string, unknown>]> = [];
  const logger: ClientLogger = {
    info: (m, d) => void lines.push(['info', m, d]),
    warn: (m, d) => void lines.push(['warn', m, d]),
    error: (m, d) => void lines.push(['error', m, d]),
  };
  return { lines, logger };
}

describe('the outage reporter', () => {
  it('warns at the first failure of an outage and puts the retries that follow at info', () => {
    const { lines, logger } = recording();
    const outage = new OutageReporter(logger, 'http://h/graphql');
    for (let i = 0; i < 5; i++) outage.failed('could not register with HotSwap', { code: 'NETWORK' });
    expect(lines.map(([level]) => level)).toEqual(['warn', 'info', 'info', 'info', 'info']);
    expect(lines[0]).toEqual(['warn', `could not register with HotSwap (${OUTAGE_NOTE})`, { url: 'http://h/graphql', code: 'NETWORK' }]);
    expect(outage.inOutage).toBe(true);
  });

  it('warns once when HotSwap answers again, with the outage length and failure count, and starts afresh after', () => {
    const { lines, logger } = recording();
    let now = 1000;
    const outage = new OutageReporter(logger, 'http://h/graphql', () => now);
    outage.reached();
    expect(lines).toEqual([]);
    outage.failed('heartbeat failed; will try again');
    now = 4500;
    outage.failed('heartbeat failed; will try again');
    outage.reached();
    outage.reached();
    expect(lines.slice(2)).toEqual([['warn', 'HotSwap is reachable again', { url: 'http://h/graphql', outageMs: 3500, failures: 2 }]]);
    expect(outage.inOutage).toBe(false);
    outage.failed('connection to HotSwap lost');
    expect(lines.at(-1)?.[0]).toBe('warn');
  });
});

describe('the default logger', () => {
  it('writes warnings and errors to its stream, one line each with the details as JSON, and drops info', () => {
    const written: string[] = [];
    const logger = createStderrLogger((line) => void written.push(line));
    logger.info('subscribed to config updates', { instanceId: 'i' });
    logger.warn('HotSwap is reachable again', { outageMs: 12 });
    logger.error('gave up');
    expect(written).toEqual(['hotswap-client warn: HotSwap is reachable again {"outageMs":12}\n', 'hotswap-client error: gave up\n']);
  });
});
