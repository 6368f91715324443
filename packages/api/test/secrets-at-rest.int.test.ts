/**
 * No credential at rest: after register, login and API-key creation, every text, varchar and jsonb column of every
 * table (found through information_schema, so tables added later are scanned too) is searched for each raw token and
 * key and for their hex, base64 and base64url forms (of the string and of the random bytes it encodes). The scanner
 * is first shown to find a planted token, so a pass means something.
 */
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { type Database, json } from '@dawg/db';
import { createTestDatabase, type TestDatabase } from '@dawg/testing';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, freshEmail, GOOD_PASSWORD, rest, startApi, trpcMutation, type TestApi } from './helpers/api';

let database: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApi({ database, label: 'secrets' });
});

afterAll(async () => {
  await api?.close();
  await database?.drop();
});

/** Every encoding a careless implementation might store a secret in. */
function forms(secret: string): string[] {
  const utf8 = Buffer.from(secret, 'utf8');
  const out = [secret, utf8.toString('hex'), utf8.toString('base64'), utf8.toString('base64url')];
  const body = secret.replace(/^dawg_/, '');
  if (/^[a-z2-7]+$/.test(body)) {
    const raw = Buffer.from(decodeBase32IgnorePadding(body.toUpperCase()));
    out.push(raw.toString('hex'), raw.toString('base64'), raw.toString('base64url'), body);
  }
  // base64 padding would only make a stored copy harder to find.
  return [...new Set(out.map((f) => f.replace(/=+$/, '')))];
}

async function textColumns(db: Kysely<Database>): Promise<{ table: string; column: string }[]> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns
    where table_schema = 'public' and data_type in ('text', 'character varying', 'character', 'jsonb', 'json')
    order by table_name, column_name`.execute(db);
  return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
}

/** `table.column` holding any form of any secret (case-insensitive: hex may be stored upper-case). */
async function findSecrets(db: Kysely<Database>, secrets: string[]): Promise<string[]> {
  const needles = secrets.flatMap(forms).map((f) => f.toLowerCase());
  const hits: string[] = [];
  for (const { table, column } of await textColumns(db)) {
    for (const needle of needles) {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from ${sql.table(table)}
        where position(${needle} in lower(${sql.ref(column)}::text)) > 0`.execute(db);
      if ((rows[0]?.n ?? 0) > 0) hits.push(`${table}.${column}`);
    }
  }
  return [...new Set(hits)];
}

describe('credentials at rest', () => {
  it('the scanner finds a planted token in any text or jsonb column', async () => {
    const planted = 'abcdefghijklmnopqrstuvwxyz234567';
    await database.db
      .insertInto('audit_logs')
      .values({ action: 'test.plant', metadata: json({ note: Buffer.from(planted).toString('base64') }) })
      .execute();
    expect(await findSecrets(database.db, [planted])).toEqual(['audit_logs.metadata']);
    await database.db.deleteFrom('audit_logs').where('action', '=', 'test.plant').execute();
    expect(await findSecrets(database.db, [planted])).toEqual([]);
  });

  it('stores no session token or API key, in any encoding, anywhere', async () => {
    const email = freshEmail('secrets');
    const registered = await rest(api.base, 'POST', '/api/auth/register', {
      body: { email, password: GOOD_PASSWORD, name: 'Secret Keeper' },
    });
    expect(registered.status).toBe(201);
    const login = await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: GOOD_PASSWORD } });
    expect(login.status).toBe(200);
    const viaTrpc = await trpcMutation(api.base, 'auth.login', { email, password: GOOD_PASSWORD });
    const created = await trpcMutation(api.base, 'apiKeys.create', { name: 'scan me' }, bearer(login.body.token));
    expect(created.status).toBe(200);
    const key = created.body.result.data.key as string;
    // Use each credential once, so anything recorded on use (last use, audit, sessions) is written too.
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: { 'x-api-key': key } })).status).toBe(200);
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(registered.body.token) })).status).toBe(200);

    const secrets = [registered.body.token, login.body.token, viaTrpc.body.result.data.token, key, GOOD_PASSWORD];
    expect(secrets.every((s) => typeof s === 'string' && s.length >= 20)).toBe(true);
    expect(await textColumns(database.db)).toEqual(
      expect.arrayContaining([
        { table: 'sessions', column: 'id' },
        { table: 'api_keys', column: 'key_hash' },
        { table: 'audit_logs', column: 'metadata' },
        { table: 'users', column: 'password_hash' },
      ]),
    );
    expect(await findSecrets(database.db, secrets)).toEqual([]);
  });
});
