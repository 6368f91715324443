/**
 * @dawg/db entry: createDb (Kysely over a pg Pool), the Database types, the migrations runner and query modules.
 * App code always speaks the Postgres wire protocol through `pg`, whether the server is Postgres or PGlite.
 */
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

export * from './schema';
export * from './migrate';
export * from './passwords';
export * from './queries/api-keys';
export * from './queries/arrangement';
export * from './queries/audit';
export * from './queries/chat';
export * from './queries/billing';
export * from './queries/generations';
export * from './queries/ledger';
export * from './queries/library';
export * from './queries/projects';
export * from './queries/sessions';
export * from './queries/studio-io';
export * from './queries/tracks';
export * from './queries/usage';
export * from './queries/users';
export * from './queries/email-tokens';
export * from './queries/demo';
export * from './seed';
export * from './unavailable';

export type Db = Kysely<Database>;
/** What query functions take: the database or a transaction on it. */
export type DbOrTx = Kysely<Database> | Transaction<Database>;

export interface CreateDbOptions {
  connectionString: string;
  /** Pool size (DATABASE_MAX_CONNECTIONS). */
  max?: number;
  /** How long to wait for a connection (DATABASE_CONNECTION_TIMEOUT). */
  connectionTimeoutMillis?: number;
  idleTimeoutMillis?: number;
  /** Server-side statement_timeout for every connection. */
  statementTimeoutMs?: number;
  applicationName?: string;
  /**
   * Errors of idle pooled connections (server restart, network cut). pg drops the broken client itself; without a
   * listener the pool's 'error' event would crash the process.
   */
  onError?: (err: Error) => void;
}

const INT8_OID = 20;

/** int8 (bigint, count(*)) as a JS number: our bigints are micro-dollars, byte sizes and counts, all < 2^53. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} does not fit a JS number`);
  return n;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(opts: CreateDbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 20_000,
    idleTimeoutMillis: opts.idleTimeoutMillis ?? 30_000,
    application_name: opts.applicationName ?? 'dawg',
    ...(opts.statementTimeoutMs === undefined ? {} : { statement_timeout: opts.statementTimeoutMs }),
    types,
  });
  pool.on('error', (err) => opts.onError?.(err));
  return pool;
}

/** A Kysely instance over its own pool; `db.destroy()` ends the pool. */
export function createDb(opts: CreateDbOptions): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPool(opts) }) });
}
