/**
 * CSRF defence for cookie sessions. Browsers attach the session cookie to cross-site requests, so a request that
 * authenticates by cookie and changes state (tRPC POST, REST non-GET) must prove it comes from our web app: an
 * allowed `Origin` (or, when a browser omits Origin, the origin of `Referer`), and a content type a cross-site form
 * cannot send without a CORS preflight (form, multipart and text/plain are refused). Bearer and API-key requests
 * are not cookie-authenticated and are exempt: a browser never adds those headers by itself.
 */
import type { IncomingHttpHeaders } from 'node:http';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The content types of HTML forms and `fetch` without preflight ("CORS-safelisted request headers"). */
const SIMPLE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

function mime(contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase();
}

export function isSimpleContentType(contentType: string | undefined): boolean {
  const type = mime(contentType);
  return type !== undefined && SIMPLE_CONTENT_TYPES.has(type);
}

function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.origin === 'null' ? null : parsed.origin;
  } catch {
    return null;
  }
}

/** The origin a request claims: `Origin`, else the origin of `Referer`; null when neither names one. */
export function requestOrigin(headers: IncomingHttpHeaders): string | null {
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== '' && origin !== 'null') return origin;
  const referer = headers.referer;
  return typeof referer === 'string' ? originOf(referer) : null;
}

export type CsrfVerdict = { ok: true } | { ok: false; reason: string };

/** The verdict for a cookie-authenticated request (callers skip bearer/API-key and anonymous requests). */
export function checkCsrf(
  method: string,
  headers: IncomingHttpHeaders,
  allowedOrigins: ReadonlySet<string>,
): CsrfVerdict {
  if (isSafeMethod(method)) return { ok: true };
  if (isSimpleContentType(headers['content-type'])) {
    return { ok: false, reason: 'Cookie-authenticated requests must send application/json' };
  }
  const origin = requestOrigin(headers);
  if (origin === null) return { ok: false, reason: 'Cookie-authenticated requests must send an Origin header' };
  if (!allowedOrigins.has(origin)) return { ok: false, reason: 'Cross-site request refused' };
  return { ok: true };
}

/** CORS_ORIGINS plus the origin of PUBLIC_URL (the api may serve the web app itself). */
export function csrfAllowedOrigins(corsOrigins: readonly string[], publicUrl: string | undefined): Set<string> {
  const set = new Set(corsOrigins);
  const own = publicUrl ? originOf(publicUrl) : null;
  if (own) set.add(own);
  return set;
}
