import { describe, expect, it } from 'vitest';
import { apiBase, reconnectDelayMs, trpcHttpUrl, trpcWsUrl } from './api-url';

const httpPage = { protocol: 'http:', host: '127.0.0.1:5173' };
const httpsPage = { protocol: 'https:', host: 'dawg-ai.com' };

describe('api urls', () => {
  it('uses the page origin when VITE_API_URL is empty', () => {
    expect(apiBase(undefined)).toBe('');
    expect(apiBase('  ')).toBe('');
    expect(trpcHttpUrl('')).toBe('/trpc');
    expect(trpcWsUrl('', httpPage)).toBe('ws://127.0.0.1:5173/trpc');
    expect(trpcWsUrl(undefined, httpsPage)).toBe('wss://dawg-ai.com/trpc');
  });

  it('points both transports at the api origin when set', () => {
    expect(trpcHttpUrl('https://api.dawg-ai.com/')).toBe('https://api.dawg-ai.com/trpc');
    expect(trpcWsUrl('https://api.dawg-ai.com', httpPage)).toBe('wss://api.dawg-ai.com/trpc');
    expect(trpcWsUrl('http://localhost:3000', httpsPage)).toBe('ws://localhost:3000/trpc');
  });

  it('keeps a path prefix and drops trailing slashes', () => {
    expect(trpcHttpUrl('https://example.com/backend//')).toBe('https://example.com/backend/trpc');
    expect(trpcWsUrl('https://example.com/backend/', httpPage)).toBe('wss://example.com/backend/trpc');
  });

  it('rejects non-http api urls', () => {
    expect(() => apiBase('ftp://example.com')).toThrow(/http\(s\)/);
  });

  it('backs off reconnects up to a cap', () => {
    expect(reconnectDelayMs(0)).toBe(250);
    expect(reconnectDelayMs(2)).toBe(1_000);
    expect(reconnectDelayMs(20)).toBe(5_000);
  });
});
