/**
 * Where sign-in sends the user afterwards. `next` comes from the URL, so anyone can craft it: only paths inside this
 * app are followed, never another origin (an open redirect would make a phishing link look like ours).
 */

export const DEFAULT_AFTER_SIGN_IN = '/';

/** Pages that make no sense to come back to once signed in. */
const AUTH_PAGES = ['/signin', '/signup'];

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** A same-app path to go to after signing in; anything else falls back to the studio home. */
export function safeNext(raw: string | null | undefined): string {
  if (!raw) return DEFAULT_AFTER_SIGN_IN;
  // `//host` and `/\host` are protocol-relative to browsers; control characters can hide either.
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\') || hasControlCharacter(raw)) {
    return DEFAULT_AFTER_SIGN_IN;
  }
  let url: URL;
  try {
    url = new URL(raw, 'http://app.invalid');
  } catch {
    return DEFAULT_AFTER_SIGN_IN;
  }
  if (url.origin !== 'http://app.invalid') return DEFAULT_AFTER_SIGN_IN;
  if (AUTH_PAGES.includes(url.pathname)) return DEFAULT_AFTER_SIGN_IN;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** `/signin?next=<where the user was>`; the home page needs no `next`. */
export function signInPath(location: { pathname: string; search?: string; hash?: string }): string {
  const here = `${location.pathname}${location.search ?? ''}${location.hash ?? ''}`;
  const next = safeNext(here);
  return next === DEFAULT_AFTER_SIGN_IN ? '/signin' : `/signin?next=${encodeURIComponent(next)}`;
}

/** Keeps `next` when moving between the sign-in and sign-up pages. */
export function withNext(pathname: string, next: string): string {
  return next === DEFAULT_AFTER_SIGN_IN ? pathname : `${pathname}?next=${encodeURIComponent(next)}`;
}
