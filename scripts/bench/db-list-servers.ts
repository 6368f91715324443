/**
 * Child process of the database-backed HTTP benchmarks (started through servers.ts): our api (`buildServer` from
 * @dawg/api, every plugin, hook, the perimeter's session lookup and the tRPC layer) and a hand-written Fastify + pg
 * route doing the same work as `project.list`: read the Bearer token (or session cookie), look the session up by
 * the token's SHA-256 joined to its user (expired → 401, disabled user → 401, `last_seen_at` refreshed at most once a
 * minute, as the product does), then the same projects query, and answer the same JSON as tRPC
 * (`{ result: { data: [...] } }`). Both use the database in DATABASE_URL with a pool of DATABASE_MAX_CONNECTIONS.
 * Prints `{ bareUrl, apiUrl }` as one JSON line and exits on SIGTERM.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createPool } from '@dawg/db';
import { buildServer } from '@dawg/api/server';
import { apiEnvSchema, parseEnv } from '@dawg/shared/env';
import Fastify from 'fastify';

const SESSION_SQL = `select s.id, s.user_id, s.expires_at, s.last_seen_at, u.disabled_at
  from sessions s inner join users u on u.id = s.user_id where s.id = $1`;
const TOUCH_SQL = 'update sessions set last_seen_at = $2 where id = $1';
const PROJECTS_SQL = `select p.*, m.role as member_role from projects p
  left join project_members m on m.project_id = p.id and m.user_id = $1
  where p.owner_id = $1 or m.user_id is not null
  order by p.updated_at desc, p.id limit 200`;

interface ProjectRow {
  id: string;
  owner_id: string;
  name: string;
  bpm: number;
  key: string | null;
  time_signature: string;
  version: number;
  updated_at: Date;
  member_role: string | null;
}

function bearer(header: string | undefined, cookie: string | undefined): string | null {
  const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (m?.[1]) return m[1];
  const c = cookie ? /(?:^|;\s*)dawg_session=([^;]+)/.exec(cookie) : null;
  return c?.[1] ?? null;
}

async function main(): Promise<void> {
  const env = parseEnv(apiEnvSchema, {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    // Load from one address must not be throttled: the benchmark measures the stack, not the limiter's verdict.
    RATE_LIMIT_MAX: '1000000000',
    WHITELISTED_IPS: '127.0.0.1',
  });

  const pool = createPool({ connectionString: env.DATABASE_URL, max: env.DATABASE_MAX_CONNECTIONS });
  const bare = Fastify({ logger: false });
  bare.get('/projects', async (request, reply) => {
    const token = bearer(request.headers.authorization, request.headers.cookie);
    if (!token || !/^[a-z2-7]{32}$/.test(token)) return reply.code(401).send({ error: 'unauthorized' });
    const id = createHash('sha256').update(token).digest('hex');
    const { rows } = await pool.query<{
      id: string;
      user_id: string;
      expires_at: Date;
      last_seen_at: Date;
      disabled_at: Date | null;
    }>(SESSION_SQL, [id]);
    const session = rows[0];
    const now = Date.now();
    if (!session || session.expires_at.getTime() <= now || session.disabled_at !== null) {
      return reply.code(401).send({ error: 'unauthorized' });
    }
    if (now - session.last_seen_at.getTime() >= 60_000) await pool.query(TOUCH_SQL, [id, new Date(now)]);
    const projects = await pool.query<ProjectRow>(PROJECTS_SQL, [session.user_id]);
    return {
      result: {
        data: projects.rows.map((p) => ({
          id: p.id,
          name: p.name,
          bpm: p.bpm,
          key: p.key,
          timeSignature: p.time_signature,
          version: p.version,
          updatedAt: p.updated_at.toISOString(),
          role: p.owner_id === session.user_id ? 'owner' : (p.member_role ?? 'viewer'),
        })),
      },
    };
  });
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}`;

  const api = await buildServer({ env, logger: false });
  const apiUrl = await api.listen();

  process.stdout.write(`${JSON.stringify({ bareUrl, apiUrl })}\n`);

  const stop = () => {
    void Promise.allSettled([bare.close(), api.close()])
      .then(() => pool.end())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench servers failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
