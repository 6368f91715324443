/**
 * Health of this api instance in the seed's exact shape (deployment 4.1, monitoring 3.2): real round trips to
 * Postgres (`select 1`), Redis (PING) and S3 (HeadBucket), in parallel, each bounded so a hung backend cannot hang
 * the probe. Any failed connection makes the instance `degraded` (HTTP 503).
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import type { AppDeps } from '../deps';
import { VERSION } from '../version';

export const HEALTH_CHECK_TIMEOUT_MS = 1_500;

export interface HealthReport {
  status: 'healthy' | 'degraded';
  service: 'unified-backend';
  /** `expert-music-ai` is present only when EXPERT_MUSIC_AI_URL is set; being optional, it never degrades the api. */
  services: { main: boolean; 'ai-brain': boolean; voice: boolean; 'expert-music-ai'?: boolean };
  connections: { database: boolean; redis: boolean; s3: boolean };
  timestamp: string;
  version: string;
  uptime: number;
}

async function probe(name: string, fn: (signal: AbortSignal) => Promise<unknown>, timeoutMs: number) {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new Error(`${name} health check timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([fn(ac.signal), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Seed 3.1: `GET <EXPERT_MUSIC_AI_URL>/health` answers 200 with `{"status": "healthy"}`. */
export async function checkExpertMusicAi(baseUrl: string, signal: AbortSignal): Promise<void> {
  const res = await fetch(new URL('health', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`), { signal });
  const body = (await res.json().catch(() => null)) as { status?: unknown } | null;
  if (!res.ok || body?.status !== 'healthy') throw new Error(`expert music AI answered ${res.status}`);
}

export async function checkHealth(
  deps: Pick<AppDeps, 'db' | 'redis' | 's3' | 'env'>,
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS,
): Promise<HealthReport> {
  const [database, redis, s3] = await Promise.all([
    probe('database', () => sql`select 1`.execute(deps.db), timeoutMs),
    probe('redis', () => deps.redis.ping(), timeoutMs),
    probe(
      's3',
      (signal) => deps.s3.send(new HeadBucketCommand({ Bucket: deps.env.AWS_S3_BUCKET }), { abortSignal: signal }),
      timeoutMs,
    ),
  ]);
  const expert = deps.env.EXPERT_MUSIC_AI_URL
    ? await probe('expert-music-ai', (signal) => checkExpertMusicAi(deps.env.EXPERT_MUSIC_AI_URL!, signal), timeoutMs)
    : undefined;
  const healthy = database && redis && s3;
  return {
    status: healthy ? 'healthy' : 'degraded',
    service: 'unified-backend',
    // These sub-services live in this process and work without keys (offline providers), so they are up with it.
    services: {
      main: true,
      'ai-brain': true,
      voice: true,
      ...(expert === undefined ? {} : { 'expert-music-ai': expert }),
    },
    connections: { database, redis, s3 },
    timestamp: new Date().toISOString(),
    version: VERSION,
    uptime: process.uptime(),
  };
}
