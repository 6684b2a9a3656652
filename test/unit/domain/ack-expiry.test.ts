import { describe, expect, it } from 'vitest';
import { expireAck } from '../../../src/domain/ack-expiry.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const GRACE = 15_000;

describe('expireAck: what a push past its ack deadline becomes', () => {
  it('is TIMED_OUT when the instance is connected (on any replica) and did not answer', () => {
    expect(expireAck({ connections: 1, disconnectedAt: null }, at(30), GRACE, 30)).toEqual({ kind: 'timed-out', error: 'no ack within 30 s' });
    expect(expireAck({ connections: 2, disconnectedAt: null }, at(30), GRACE, 5).kind).toBe('timed-out');
  });

  it('waits until the end of the grace for an instance that disconnected less than the grace ago', () => {
    expect(expireAck({ connections: 0, disconnectedAt: at(20) }, at(30), GRACE, 30)).toEqual({ kind: 'grace', until: at(35) });
  });

  it('is LEFT once the grace has passed without the instance coming back', () => {
    const e = expireAck({ connections: 0, disconnectedAt: at(10) }, at(25), GRACE, 30);
    expect(e).toEqual({ kind: 'left', error: `disconnected at ${at(10).toISOString()} and not back within 15 s` });
    expect(expireAck({ connections: 0, disconnectedAt: at(10) }, at(40), GRACE, 30).kind).toBe('left');
  });

  it('is LEFT at once when nothing is known of it: deregistered, reaped, or never subscribed', () => {
    expect(expireAck(undefined, at(30), GRACE, 30).kind).toBe('left');
    expect(expireAck({ connections: 0, disconnectedAt: null }, at(30), GRACE, 30).kind).toBe('left');
  });

  it('with no grace, a disconnected instance is LEFT at its deadline', () => {
    expect(expireAck({ connections: 0, disconnectedAt: at(29) }, at(30), 0, 30).kind).toBe('left');
  });
});
