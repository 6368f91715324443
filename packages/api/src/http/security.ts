/**
 * CORS (seed hardening 2) and security headers (seed hardening 3). Origins come from CORS_ORIGINS; a request from
 * any other origin is answered without CORS headers (the browser then blocks it) rather than with an error.
 */
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

export const CORS_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
export const CORS_ALLOWED_HEADERS = ['Content-Type', 'Authorization', 'x-api-key', 'x-request-id'];
export const CORS_EXPOSED_HEADERS = [
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Retry-After',
  'x-request-id',
];

/**
 * The seed's Content-Security-Policy exactly (no defaults merged in: upgrade-insecure-requests would break plain-HTTP
 * dev); frame-ancestors repeats X-Frame-Options' DENY for browsers that only read CSP.
 */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'unsafe-inline'", 'https://js.stripe.com'],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'https:', 'blob:'],
  'connect-src': ["'self'", 'https://api.dawg-ai.com', 'wss://api.dawg-ai.com', 'https://*.stripe.com'],
  'font-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'media-src': ["'self'", 'https:', 'blob:'],
  'frame-src': ['https://js.stripe.com'],
  'frame-ancestors': ["'none'"],
};

/**
 * Every response's security headers (seed hardening 3): the set helmet 8 sends with our options (HSTS one year with
 * subdomains and preload, frame DENY, nosniff, strict-origin-when-cross-origin) plus its other defaults.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': Object.entries(CSP_DIRECTIVES)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join(';'),
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains; preload',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

const SECURITY_HEADER_ENTRIES = Object.entries(SECURITY_HEADERS);

export async function registerSecurity(app: FastifyInstance, allowedOrigins: readonly string[]): Promise<void> {
  const allowed = new Set(allowedOrigins);
  await app.register(cors, {
    origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin) ? origin : false),
    credentials: true,
    methods: CORS_METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 86_400,
  });
  // Computed once: @fastify/helmet rebuilt the whole helmet middleware (and re-parsed the CSP) on every request.
  app.addHook('onRequest', (_request, reply, done) => {
    // On the raw response, as helmet did, so replies written outside Fastify's send (hijacked, streamed) carry them.
    const res = reply.raw;
    for (const [name, value] of SECURITY_HEADER_ENTRIES) res.setHeader(name, value);
    done();
  });
}

/** Whether a WebSocket upgrade's Origin may connect: browsers always send one; non-browser clients may not. */
export function isAllowedWsOrigin(origin: string | undefined, allowedOrigins: readonly string[]): boolean {
  return origin === undefined || allowedOrigins.includes(origin);
}
