/**
 * Embedded Postgres for `pnpm dev`: PGlite (Postgres compiled to WASM, data in a directory) served over the Postgres
 * wire protocol by pglite-socket, so the api, the worker and the migrate/seed commands speak plain `pg` to it.
 *
 * Limits (PGlite is one single-user backend): the socket server multiplexes client connections onto it one query at
 * a time, and while one connection is inside a transaction the others wait for it to end. Connections past
 * `maxConnections` are refused. Cancel requests are ignored, and every connection shares one backend session: a `SET`,
 * a temporary table or a named prepared statement made on one is seen by all, and LISTEN/NOTIFY is not routed per
 * connection.
 */
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresOptions {
  /** PGlite data directory; created when missing, reused (with its data) when present. */
  dataDir: string;
  /** 0 (default) lets the OS pick a free port, so it never collides with a real Postgres on 5432. */
  port?: number;
  host?: string;
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** postgres://postgres@host:port/postgres */
  url: string;
  port: number;
  stats(): { activeConnections: number; queuedQueries: number; maxConnections: number };
  /** Closes client connections, the listener and the database (flushing it to disk). Idempotent. */
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir: options.dataDir });
  const server = new PGLiteSocketServer({
    db,
    host,
    port: options.port ?? 0,
    maxConnections: options.maxConnections ?? 16,
  });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  // getServerConn() reports the port the OS assigned once listening.
  const port = Number(server.getServerConn().split(':').pop());
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    port,
    stats: () => server.getStats(),
    stop: () =>
      (stopping ??= (async () => {
        await server.stop();
        await db.close();
      })()),
  };
}
