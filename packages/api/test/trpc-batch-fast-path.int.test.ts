/**
 * Batched query GETs (what httpBatchLink sends) are answered by the fast path; the same request with a
 * `trpc-accept: application/json` header is not matched and goes through tRPC's own handler. Both must give the same
 * status, content type, vary header and bytes, for successes, per-call errors (207), malformed and non-object input.
 */
import { createTestDatabase, createUser, startS3Server, type S3ServerHandle, type TestDatabase } from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';

let s3: S3ServerHandle;
let database: TestDatabase;
let api: TestApi;
let token: string;

beforeAll(async () => {
  [s3, database] = await Promise.all([startS3Server(), createTestDatabase()]);
  api = await startApi({ database, s3, label: 'batch-fast', overrides: { WHITELISTED_IPS: '127.0.0.1' } });
  ({ token } = await createUser(database.db, {}));
});

afterAll(async () => {
  await api?.close();
  await Promise.all([database?.drop(), s3?.stop()]);
});

async function both(path: string, query: string, auth?: string) {
  const url = `${api.base}/trpc/${path}?batch=1${query}`;
  const headers: Record<string, string> = auth ? { authorization: `Bearer ${auth}` } : {};
  const answer = async (extra: Record<string, string>) => {
    const res = await fetch(url, { headers: { ...headers, ...extra } });
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      vary: res.headers.get('vary'),
      body: await res.text(),
    };
  };
  const fast = await answer({});
  const standard = await answer({ 'trpc-accept': 'application/json' });
  return { fast, standard };
}

const input = (value: unknown) => `&input=${encodeURIComponent(JSON.stringify(value))}`;

describe('batched query GETs', () => {
  it('answer exactly as tRPC does', async () => {
    const projectId = '00000000-0000-4000-8000-000000000000';
    const cases: [string, string, string | undefined, number][] = [
      ['system.version,system.version', '', undefined, 200],
      ['system.version,project.list', input({ 1: {} }), undefined, 207],
      ['project.list,project.get', input({ 0: {}, 1: { id: 'not-a-uuid' } }), token, 207],
      ['project.get,project.get', input({ 0: { id: projectId }, 1: { id: projectId } }), token, 404],
      ['project.get,project.get', '&input={bad', token, 400],
      ['project.get,project.get', input([1, 2]), token, 400],
    ];
    for (const [path, query, auth, status] of cases) {
      const { fast, standard } = await both(path, query, auth);
      expect({ path, query, ...fast }).toEqual({ path, query, ...standard });
      expect(fast.status).toBe(status);
      expect(Array.isArray(JSON.parse(fast.body))).toBe(true);
    }
  });
});
