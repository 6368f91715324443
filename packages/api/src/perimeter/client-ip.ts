/**
 * The client address of a raw Node request (WebSocket upgrades never reach Fastify, so they do not get
 * `request.ip`). Mirrors Fastify's `trustProxy` (see trustOneProxyHop): with TRUST_PROXY the right-most
 * `X-Forwarded-For` entry, the one our platform's proxy appended (entries left of it come from the client and are
 * not believed), else the socket's peer address.
 */
import type { IncomingMessage } from 'node:http';
import { normaliseIp } from './rate-limit';

/**
 * Fastify's `trustProxy` for TRUST_PROXY=true: exactly one hop is trusted, the platform's edge proxy (Railway,
 * Vercel) that connects to us; it appends the address it saw to X-Forwarded-For, so that last entry is the client.
 * Trusting every hop would let any client pick its own address (and its own rate-limit bucket) by sending an
 * X-Forwarded-For of its own.
 */
export function trustOneProxyHop(_address: string, hop: number): boolean {
  return hop === 0;
}

export function clientIpOf(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const last = (Array.isArray(header) ? header.join(',') : header)?.split(',').at(-1)?.trim();
    if (last) return normaliseIp(last);
  }
  return normaliseIp(req.socket.remoteAddress ?? '');
}
