/** Pure parts of the perimeter: client addresses behind a proxy, rate-limit keys, policies and headers. */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientIpOf } from '../src/perimeter/client-ip';
import { ipLimitKey, limitPolicies, rateLimitHeaders } from '../src/perimeter/rate-limit';

function req(remoteAddress: string, xff?: string): IncomingMessage {
  return { socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } } as IncomingMessage;
}

describe('client address', () => {
  it('believes only the entry our proxy appended, and only with TRUST_PROXY', () => {
    expect(clientIpOf(req('10.0.0.1', '198.51.100.9'), true)).toBe('198.51.100.9');
    // The client sent its own X-Forwarded-For; the proxy appended the real address.
    expect(clientIpOf(req('10.0.0.1', '1.2.3.4, 198.51.100.9'), true)).toBe('198.51.100.9');
    expect(clientIpOf(req('10.0.0.1', '198.51.100.9'), false)).toBe('10.0.0.1');
    expect(clientIpOf(req('::ffff:127.0.0.1'), false)).toBe('127.0.0.1');
  });
});

describe('rate-limit keys', () => {
  it('keys IPv4 by address and IPv6 by /64', () => {
    expect(ipLimitKey('203.0.113.7')).toBe('ip:203.0.113.7');
    expect(ipLimitKey('::ffff:203.0.113.7')).toBe('ip:203.0.113.7');
    expect(ipLimitKey('2001:db8:1:2:aaaa::1')).toBe('ip6:2001:db8:1:2::/64');
    expect(ipLimitKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('ip6:2001:db8:1:2::/64');
    expect(ipLimitKey('2001:db8::1')).toBe('ip6:2001:db8:0:0::/64');
    expect(ipLimitKey('::1')).toBe('ip6:0:0:0:0::/64');
  });

  it('derives the seed policies from the env', () => {
    const p = limitPolicies({ RATE_LIMIT_MAX: 100, RATE_LIMIT_WINDOW_MS: 15 * 60_000 });
    expect(p.general).toMatchObject({ points: 100, retryAfter: '15 minutes' });
    expect(p.generalUser.points).toBe(200);
    expect(p.auth).toMatchObject({ points: 5, durationMs: 15 * 60_000 });
    expect(p.generation).toMatchObject({ points: 20, durationMs: 60 * 60_000, retryAfter: '1 hour' });
  });

  it('sends Retry-After only when refused', () => {
    expect(rateLimitHeaders({ allowed: true, limit: 5, remaining: 4, resetMs: 1_500 })).toEqual({
      'ratelimit-limit': '5',
      'ratelimit-remaining': '4',
      'ratelimit-reset': '2',
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '4',
    });
    expect(rateLimitHeaders({ allowed: false, limit: 5, remaining: 0, resetMs: 60_000 })['retry-after']).toBe('60');
  });
});
