/**
 * The embedded Postgres of `pnpm dev`, through a real `pg` client: @dawg/db's Kysely migrations apply (and are
 * idempotent), the seed runs, concurrent pool queries and transactions from several connections stay correct, the
 * data survives a restart, and connections past the limit are refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, migrateToLatest, migrationStatus, seed } from '@dawg/db';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './pglite';

const dataDir = mkdtempSync(join(tmpdir(), 'dawg-pglite-'));
let server: EmbeddedPostgres | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('embedded PGlite over the wire protocol', () => {
  it('listens on a free port (not 5432) and runs the Kysely migrations and the seed', async () => {
    server = await startEmbeddedPostgres({ dataDir, maxConnections: 16 });
    expect(server.port).not.toBe(5432);
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);

    const db = createDb({ connectionString: server.url, max: 4 });
    try {
      const applied = await migrateToLatest(db);
      expect(applied.length).toBeGreaterThan(0);
      expect(await migrateToLatest(db)).toEqual([]);
      expect((await migrationStatus(db)).every((m) => m.executedAt !== null)).toBe(true);

      const opts = {
        adminEmail: 'admin@dawg.test',
        adminPassword: 'admin-password',
        demoEmail: 'demo@dawg.test',
        demoPassword: 'demo-password',
      };
      const first = await seed(db, opts);
      const second = await seed(db, opts);
      expect(first.created).toEqual({ admin: true, demoUser: true, demoProject: true });
      expect(second.created).toEqual({ admin: false, demoUser: false, demoProject: false });
      expect(second.demoProjectId).toBe(first.demoProjectId);
    } finally {
      await db.destroy();
    }
  });

  it('keeps concurrent parameterised queries and interleaved transactions from several connections apart', async () => {
    if (!server) throw new Error('server not started');
    const pool = new pg.Pool({ connectionString: server.url, max: 10 });
    try {
      await pool.query('create table bench_t (id serial primary key, owner int not null, v text not null)');
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          pool.query<{ i: number; s: string }>('select $1::int as i, $2::text as s', [i, `v${i}`]),
        ),
      );
      answers.forEach((r, i) => expect(r.rows[0]).toEqual({ i, s: `v${i}` }));

      // Each transaction inserts two rows with a pause between them (others queue meanwhile); every third rolls back.
      const tx = async (k: number) => {
        const client = await pool.connect();
        try {
          await client.query('begin');
          await client.query('insert into bench_t (owner, v) values ($1, $2)', [k, 'a']);
          await new Promise((r) => setTimeout(r, 5));
          await client.query('insert into bench_t (owner, v) values ($1, $2)', [k, 'b']);
          await client.query(k % 3 === 0 ? 'rollback' : 'commit');
        } finally {
          client.release();
        }
      };
      await Promise.all(Array.from({ length: 30 }, (_, k) => tx(k)));
      const { rows } = await pool.query<{ owner: number; n: number }>(
        'select owner, count(*)::int as n from bench_t group by owner order by owner',
      );
      const expected = Array.from({ length: 30 }, (_, k) => k)
        .filter((k) => k % 3 !== 0)
        .map((owner) => ({ owner, n: 2 }));
      expect(rows).toEqual(expected);
    } finally {
      await pool.end();
    }
  });

  it('refuses connections past maxConnections and keeps data across a restart', async () => {
    await server?.stop();
    server = await startEmbeddedPostgres({ dataDir, maxConnections: 2 });
    const clients = [new pg.Client(server.url), new pg.Client(server.url)];
    try {
      for (const c of clients) await c.connect();
      const third = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 3_000 });
      third.on('error', () => undefined);
      await expect(third.connect().then(() => third.query('select 1'))).rejects.toThrow();
      await third.end().catch(() => undefined);

      const db = createDb({ connectionString: server.url, max: 1 });
      // Reuses one of the two slots only after a client leaves.
      await clients[1]?.end();
      try {
        const users = await db.selectFrom('users').select('email').orderBy('email').execute();
        expect(users.map((u) => u.email)).toEqual(['admin@dawg.test', 'demo@dawg.test']);
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from bench_t`.execute(db);
        expect(rows[0]?.n).toBe(40);
      } finally {
        await db.destroy();
      }
    } finally {
      await clients[0]?.end();
    }
  });
});
