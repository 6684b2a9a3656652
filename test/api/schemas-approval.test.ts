import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import { APPROVE, GET, LIST, REJECT, type SchemaShape, schemaCalls, UNKNOWN_ID } from '../support/schemas.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('schemas API', () => {
  let server: TestServer;
  let a: Api;
  let dev: string;
  let admin: string;
  let operator: string;

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
    dev = await a.token(Role.DEVELOPER, 'dev-alice');
    admin = await a.token(Role.ADMIN, 'admin-bob');
    operator = await a.token(Role.OPERATOR, 'op-carol');
  });
  afterAll(async () => {
    await server?.stop();
  });

  const { register, approve, reject, read, pending } = schemaCalls(() => ({ a, server, dev, admin }));

  describe('approveSchema', () => {
    it('approves as ADMIN with a comment: approvedBy, decidedAt and decisionComment are kept', async () => {
      const s = await pending('appr-ok');
      const before = Date.now();
      const approved = await approve(s.id, 'looks right', admin);
      expect(approved).toMatchObject({
        id: s.id,
        status: 'APPROVED',
        createdBy: 'dev-alice',
        submittedBy: 'dev-alice',
        submittedAt: s.submittedAt,
        approvedBy: 'admin-bob',
        rejectedBy: null,
        decisionComment: 'looks right',
        compatibility: s.compatibility,
      });
      expect(Math.abs(new Date(approved.decidedAt!).getTime() - before)).toBeLessThan(60_000);
      expect(await read(s.id)).toEqual(approved);
    });

    it('approves without a comment (decisionComment null)', async () => {
      const s = await pending('appr-nocomment');
      const approved = await approve(s.id);
      expect(approved).toMatchObject({ status: 'APPROVED', approvedBy: 'admin-bob', decisionComment: null });
      expect(await read(s.id)).toEqual(approved);
    });

    it('refuses a DEVELOPER approving their own schema (FORBIDDEN)', async () => {
      const s = await pending('appr-own');
      expect(s.createdBy).toBe('dev-alice');
      const res = await a.gql(APPROVE, { id: s.id, comment: 'mine, fine' }, dev);
      expectRefused(res, 'FORBIDDEN');
      expect(res.errors?.[0]?.message).toContain('DEVELOPER');
      expect(await read(s.id)).toEqual(s);
    });

    it('refuses approving a DRAFT never submitted (CONFLICT); it stays DRAFT', async () => {
      const s = await register('appr-draft', { type: 'object' });
      const res = await a.gql(APPROVE, { id: s.id }, admin);
      expectRefused(res, 'CONFLICT');
      expect(res.errors?.[0]?.message).toContain('DRAFT');
      expect(await read(s.id)).toEqual(s);
    });

    it('refuses approving an APPROVED or a REJECTED schema (CONFLICT); the decision is kept', async () => {
      const approved = await approve((await pending('appr-again')).id, 'first');
      const again = await a.gql(APPROVE, { id: approved.id, comment: 'second' }, admin);
      expectRefused(again, 'CONFLICT');
      expect(again.errors?.[0]?.message).toMatch(/APPROVED is final/);
      expect(await read(approved.id)).toEqual(approved);

      const rejected = await reject((await pending('appr-rejected')).id, 'no');
      expectRefused(await a.gql(APPROVE, { id: rejected.id }, admin), 'CONFLICT');
      expect(await read(rejected.id)).toEqual(rejected);
    });

    it('refuses an unknown id (NOT_FOUND) and a comment over 2000 characters (BAD_USER_INPUT)', async () => {
      expectRefused(await a.gql(APPROVE, { id: UNKNOWN_ID }, admin), 'NOT_FOUND');
      const s = await pending('appr-long');
      expectRefused(await a.gql(APPROVE, { id: s.id, comment: 'c'.repeat(2001) }, admin), 'BAD_USER_INPUT');
      expect(await read(s.id)).toEqual(s);
    });
  });

  describe('rejectSchema', () => {
    it('rejects as ADMIN with a reason: rejectedBy, decidedAt and the (trimmed) reason are kept', async () => {
      const s = await pending('rej-ok');
      const rejected = await reject(s.id, '  port must stay optional  ');
      expect(rejected).toMatchObject({
        id: s.id,
        status: 'REJECTED',
        submittedBy: 'dev-alice',
        rejectedBy: 'admin-bob',
        approvedBy: null,
        decisionComment: 'port must stay optional',
      });
      expect(rejected.decidedAt).not.toBeNull();
      expect(await read(s.id)).toEqual(rejected);
    });

    it('refuses an empty or blank reason, or none (BAD_USER_INPUT); it stays PENDING_APPROVAL', async () => {
      const s = await pending('rej-noreason');
      const empty = await a.gql(REJECT, { id: s.id, reason: '' }, admin);
      expectRefused(empty, 'BAD_USER_INPUT');
      expect(empty.errors?.[0]?.extensions?.field).toBe('reason');
      expectRefused(await a.gql(REJECT, { id: s.id, reason: '   \n\t ' }, admin), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`mutation($id: ID!) { rejectSchema(id: $id) { id } }`, { id: s.id }, admin), 'BAD_USER_INPUT');
      expect(await read(s.id)).toEqual(s);
    });

    it('refuses rejecting a DRAFT, an APPROVED or a REJECTED schema (CONFLICT)', async () => {
      const draft = await register('rej-draft', { type: 'object' });
      expectRefused(await a.gql(REJECT, { id: draft.id, reason: 'no' }, admin), 'CONFLICT');
      expect(await read(draft.id)).toEqual(draft);
      const approved = await approve((await pending('rej-approved')).id);
      expectRefused(await a.gql(REJECT, { id: approved.id, reason: 'too late' }, admin), 'CONFLICT');
      expect(await read(approved.id)).toEqual(approved);
      const rejected = await reject((await pending('rej-rejected')).id, 'first');
      expectRefused(await a.gql(REJECT, { id: rejected.id, reason: 'second' }, admin), 'CONFLICT');
      expect(await read(rejected.id)).toEqual(rejected);
    });

    it('refuses an unknown id (NOT_FOUND)', async () => {
      expectRefused(await a.gql(REJECT, { id: UNKNOWN_ID, reason: 'no' }, admin), 'NOT_FOUND');
    });
  });

  describe('schemas and schema', () => {
    it('lists every schema newest first, and filters by status', async () => {
      const draft = await register('list-draft', { type: 'object' });
      const pend = await pending('list-pending');
      const appr = await approve((await pending('list-approved')).id);
      const rej = await reject((await pending('list-rejected')).id, 'no');

      const all = ok(await a.gql<{ schemas: SchemaShape[] }>(LIST, {}, operator)).schemas;
      const created = all.map((s) => new Date(s.createdAt).getTime());
      expect(created).toEqual([...created].sort((x, y) => y - x));
      const ids = all.map((s) => s.id);
      for (const s of [draft, pend, appr, rej]) expect(ids).toContain(s.id);
      expect(all.find((s) => s.id === appr.id)).toEqual(appr);

      for (const [status, mine] of [['DRAFT', draft], ['PENDING_APPROVAL', pend], ['APPROVED', appr], ['REJECTED', rej]] as const) {
        const listed = ok(await a.gql<{ schemas: SchemaShape[] }>(LIST, { status }, dev)).schemas;
        expect(listed.length).toBeGreaterThan(0);
        expect(listed.every((s) => s.status === status)).toBe(true);
        expect(listed.map((s) => s.id)).toContain(mine.id);
        expect(listed.length).toBe(all.filter((s) => s.status === status).length);
      }
    });

    it('schema(id) reads one as any reading role; an unknown or malformed id is null', async () => {
      const s = await register('get-ok', { type: 'object', title: 'read me' });
      for (const token of [dev, operator, admin]) {
        expect(ok(await a.gql<{ schema: SchemaShape | null }>(GET, { id: s.id }, token)).schema).toEqual(s);
      }
      expect(ok(await a.gql<{ schema: SchemaShape | null }>(GET, { id: UNKNOWN_ID }, dev)).schema).toBeNull();
      expect(ok(await a.gql<{ schema: SchemaShape | null }>(GET, { id: 'nope' }, dev)).schema).toBeNull();
    });

    it('refuses an unknown status and a missing id (BAD_USER_INPUT)', async () => {
      expectRefused(await a.gql(LIST, { status: 'BOGUS' }, dev), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`{ schemas(status: "APPROVED") { id } }`, {}, dev), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`{ schema { id } }`, {}, dev), 'BAD_USER_INPUT');
    });
  });
});
