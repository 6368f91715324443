/**
 * Slow request protection (seed hardening 5.3): a request not answered within REQUEST_TIMEOUT_MS gets
 * 408 `{ error: "Request timeout" }`. A route opts out (uploads, the Stripe webhook) or sets its own limit with
 * route config `{ timeout: false | ms }`. WebSocket upgrades never reach Fastify, so they are not timed.
 */
import type { FastifyInstance } from 'fastify';
import { sendError } from '../errors/rest';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false = no request timer; a number overrides REQUEST_TIMEOUT_MS for this route. */
    timeout?: number | false;
  }
}

export function registerRequestTimeout(app: FastifyInstance, defaultMs: number): void {
  app.addHook('onRequest', (request, reply, done) => {
    const configured = request.routeOptions.config.timeout;
    if (configured === false) return done();
    const ms = configured ?? defaultMs;
    const timer = setTimeout(() => {
      if (reply.sent || reply.raw.headersSent) return;
      request.log.warn({ timeoutMs: ms }, 'request timed out');
      void sendError(request, reply, { status: 408, code: 'TIMEOUT', body: { error: 'Request timeout' } });
    }, ms);
    // 'close' fires both when the response finished and when the client went away.
    reply.raw.once('close', () => clearTimeout(timer));
    done();
  });
}
