/**
 * Where the browser reaches the api. HTTP may go through the page's own origin (Vite proxy in dev, Vercel rewrites in
 * production), but WebSockets must go straight to the api origin when VITE_API_URL is set, because static hosting
 * rewrites do not carry upgrades.
 */

interface PageLocation {
  protocol: string;
  host: string;
}

/** The api base without a trailing slash; '' means same origin. */
export function apiBase(apiUrl: string | undefined): string {
  const trimmed = (apiUrl ?? '').trim();
  if (trimmed === '') return '';
  const url = new URL(trimmed);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`VITE_API_URL must be an http(s) URL, got ${url.protocol}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** URL of tRPC's HTTP batch endpoint. */
export function trpcHttpUrl(apiUrl: string | undefined): string {
  return `${apiBase(apiUrl)}/trpc`;
}

/** URL of tRPC's WebSocket endpoint: same host and path as HTTP, ws for http and wss for https. */
export function trpcWsUrl(apiUrl: string | undefined, page: PageLocation): string {
  const base = apiBase(apiUrl);
  if (base === '') {
    const scheme = page.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${page.host}/trpc`;
  }
  const url = new URL(`${base}/trpc`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Reconnect delay: quick first retries, then capped so a restarted api is picked up within seconds. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(250 * 2 ** attempt, 5_000);
}
