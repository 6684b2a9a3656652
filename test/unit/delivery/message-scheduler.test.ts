import { describe, expect, it } from 'vitest';
import { MESSAGES_PER_SLICE, MessageScheduler } from '../../../src/delivery/message-scheduler.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('MessageScheduler', () => {
  it('runs a message at once while no push is being written', () => {
    const s = new MessageScheduler();
    const ran: number[] = [];
    s.run(() => ran.push(1));
    expect(ran).toEqual([1]);
  });

  it('holds messages while a push is written, then runs them in arrival order, and later ones after them', async () => {
    const s = new MessageScheduler();
    const ran: string[] = [];
    s.hold();
    s.run(() => ran.push('a'));
    s.run(() => ran.push('b'));
    await turn();
    expect(ran).toEqual([]);
    s.release();
    s.run(() => ran.push('c')); // arrives before the held ones ran: it waits its turn
    expect(ran).toEqual([]);
    await turn();
    expect(ran).toEqual(['a', 'b', 'c']);
    s.run(() => ran.push('d'));
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
  });

  it(`runs held messages ${MESSAGES_PER_SLICE} per turn of the event loop, and stops for a push that starts meanwhile`, async () => {
    const s = new MessageScheduler();
    let ran = 0;
    s.hold();
    for (let i = 0; i < MESSAGES_PER_SLICE * 3; i++) s.run(() => ran++);
    s.release();
    await turn();
    expect(ran).toBe(MESSAGES_PER_SLICE);
    s.hold(); // a push: the rest waits for it
    await turn();
    await turn();
    expect(ran).toBe(MESSAGES_PER_SLICE);
    s.release();
    await turn();
    await turn();
    expect(ran).toBe(MESSAGES_PER_SLICE * 3);
  });

  it('nested holds (two pushes at once) release only when both are written', async () => {
    const s = new MessageScheduler();
    const ran: number[] = [];
    s.hold();
    s.hold();
    s.run(() => ran.push(1));
    s.release();
    await turn();
    expect(ran).toEqual([]);
    s.release();
    await turn();
    expect(ran).toEqual([1]);
  });
});
