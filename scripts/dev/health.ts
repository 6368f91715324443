/**
 * Readiness of the dev stack's HTTP processes: the api's /health (seed shape: 200 only when every connection is up),
 * the worker's /health and the web dev server's index page.
 */

export interface HealthBody {
  status?: string;
  connections?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface HealthCheck {
  ok: boolean;
  status: number;
  body?: HealthBody;
  /** Why not ok, for the timeout message. */
  reason?: string;
}

/** GET the api's /health: ok when it answers 200 and every `connections` entry is true. */
export async function checkApiHealth(baseUrl: string): Promise<HealthCheck> {
  const res = await fetch(new URL('/health', baseUrl), { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let body: HealthBody | undefined;
  try {
    body = JSON.parse(text) as HealthBody;
  } catch {
    return { ok: false, status: res.status, reason: `non-JSON answer: ${text.slice(0, 120)}` };
  }
  const down = Object.entries(body.connections ?? {})
    .filter(([, up]) => up !== true)
    .map(([name]) => name);
  if (res.status !== 200 || down.length > 0) {
    return {
      ok: false,
      status: res.status,
      body,
      reason: down.length ? `down: ${down.join(', ')}` : `HTTP ${res.status}`,
    };
  }
  if (body.connections === undefined) return { ok: false, status: res.status, body, reason: 'no connections field' };
  return { ok: true, status: res.status, body };
}

/** GET a URL: ok on a 2xx. */
export async function checkHttp(url: string): Promise<HealthCheck> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  await res.arrayBuffer();
  return { ok: res.ok, status: res.status, reason: res.ok ? undefined : `HTTP ${res.status}` };
}

/**
 * Polls `check` until ok. Rejects when `signal` aborts (with its reason) or after `timeoutMs` with the last reason.
 */
export async function waitUntilHealthy(
  description: string,
  check: () => Promise<HealthCheck>,
  { timeoutMs, signal, intervalMs = 250 }: { timeoutMs: number; signal: AbortSignal; intervalMs?: number },
): Promise<HealthCheck> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    signal.throwIfAborted();
    try {
      const result = await check();
      if (result.ok) return result;
      last = result.reason ?? `HTTP ${result.status}`;
    } catch (err) {
      last = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    }
    if (Date.now() > deadline) throw new Error(`${description} was not healthy after ${timeoutMs / 1000} s (${last})`);
    await new Promise<void>((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, intervalMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
