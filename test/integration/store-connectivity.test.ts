import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import net, { type AddressInfo } from 'node:net';
import { Environment } from '../../src/domain/enums.js';
import { Database } from '../../src/store/database.js';
import { migrate, openOrm } from '../../src/store/orm.js';
import { migrationsList } from '../../migrations/index.js';
import type { ProfileService } from '../../src/services/profile.service.js';
import { graphOn, startTestGraph, type StoreGraph } from '../support/graph.js';
import { storageHelpers } from '../support/storage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('storage on PostgreSQL', () => {
  let g: StoreGraph;
  let db: Database;
  let profiles: ProfileService;
  const { sql } = storageHelpers(() => g);

  beforeAll(async () => {
    g = await startTestGraph();
    ({ db, profiles } = g);
    // Read below through a connection that goes away.
    await profiles.create({ name: 'cascade-bystander', service: 'store', environment: Environment.STAGING });
  });
  afterAll(async () => {
    await g?.stop();
  });

  describe('migrations and connectivity', () => {
    it('migrate() is idempotent: a second call applies nothing', async () => {
      expect(await migrate(g.orm)).toEqual([]);
      const rows = await sql<{ name: string }>('select name from hotswap_migrations');
      expect(rows.map((r) => r.name)).toEqual(migrationsList.map((m) => m.name));
    });

    it('two concurrent migrate() calls on a fresh empty database both succeed and apply once', async () => {
      const { inject } = await import('vitest');
      const { withDatabase } = await import('../support/global-setup.js');
      const pg = (await import('pg')).default;
      const adminUrl = inject('databaseUrl');
      const name = `hotswap_fresh_${Math.random().toString(16).slice(2, 10)}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = withDatabase(adminUrl, name);
      const [o1, o2] = await Promise.all([openOrm(url, { poolMax: 3 }), openOrm(url, { poolMax: 3 })]);
      try {
        const [a1, a2] = await Promise.all([migrate(o1), migrate(o2)]);
        expect([...a1, ...a2].sort()).toEqual(migrationsList.map((m) => m.name).sort());
        const check = new pg.Client({ connectionString: url });
        await check.connect();
        try {
          const applied = await check.query('select name from hotswap_migrations');
          expect(applied.rowCount).toBe(migrationsList.length);
          const tables = await check.query(`select table_name from information_schema.tables where table_schema = 'public' and table_name like 'config_%' order by 1`);
          expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual(['config_profile', 'config_schema', 'config_version']);
        } finally {
          await check.end();
        }
        expect(await migrate(o1)).toEqual([]);
      } finally {
        await Promise.all([o1.close(), o2.close()]);
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    });

    it('Database.ping() answers when the database is up', async () => {
      await expect(db.ping()).resolves.toBeUndefined();
    });

    it('a database on a closed port gives errors with code UNAVAILABLE', async () => {
      const port = await closedPort();
      const url = `postgres://postgres@127.0.0.1:${port}/nothing`;
      // Either opening refuses with UNAVAILABLE, or it opens lazily and each call does.
      let dead: MikroORM;
      try {
        dead = await openOrm(url, { poolMax: 1 });
      } catch (error) {
        expect(error).toMatchObject({ code: 'UNAVAILABLE' });
        return;
      }
      try {
        const deadDb = new Database(dead);
        const onDead = graphOn(deadDb);
        const started = Date.now();
        await expect(deadDb.ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(onDead.profiles.get('any')).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { retryable: true } });
        await expect(onDead.versions.publish('any', { data: { a: 1 } }, 't')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        expect(Date.now() - started).toBeLessThan(10_000);
        await onDead.close();
      } finally {
        await dead.close();
      }
    });

    it('a database that goes away after opening gives UNAVAILABLE, and calls work again when it is back', async () => {
      const target = new URL(g.tdb.url);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      const proxied = new URL(g.tdb.url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      const viaProxy = await openOrm(proxied.toString(), { poolMax: 2 });
      const proxiedDb = new Database(viaProxy);
      const onProxy = graphOn(proxiedDb);
      try {
        const service = onProxy.profiles;
        await expect(proxiedDb.ping()).resolves.toBeUndefined();
        expect((await service.get('cascade-bystander'))?.name).toBe('cascade-bystander');

        await proxy.down();
        await expect(proxiedDb.ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(service.get('cascade-bystander')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(service.create({ name: 'while-down', service: 's', environment: Environment.STAGING })).rejects.toMatchObject({ code: 'UNAVAILABLE' });

        await proxy.up();
        let recovered = false;
        for (let i = 0; i < 20 && !recovered; i++) {
          recovered = await proxiedDb.ping().then(() => true, () => false);
          if (!recovered) await sleep(100);
        }
        expect(recovered).toBe(true);
        expect((await service.get('cascade-bystander'))?.name).toBe('cascade-bystander');
        expect(await profiles.get('while-down')).toBeNull();
      } finally {
        await onProxy.close();
        await viaProxy.close().catch(() => undefined);
        await proxy.down();
      }
    });
  });
});

/** A TCP port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A TCP proxy to PostgreSQL that can be taken down (every connection cut) and brought back on the same port. */
async function startTcpProxy(host: string, targetPort: number): Promise<{ port: number; down(): Promise<void>; up(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(targetPort, host);
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve((s.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  return {
    port,
    async down() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async up() {
      await listen(port);
    },
  };
}
