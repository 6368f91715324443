/**
 * The seed's status endpoints: `GET /` (service and version), `GET /health` (deployment 4.1; 503 when degraded),
 * `GET /api/ai-brain/health` and `GET /api/voice/health` (deployment 4.2).
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps';
import { defineRestRoute } from '../rest/define';
import { checkHealth } from '../services/health';
import { toolRegistrySize } from '../services/tools';
import { SERVICE_NAME, VERSION } from '../version';

export function registerStatusRoutes(app: FastifyInstance, deps: AppDeps): void {
  const meta = { method: 'GET', auth: 'public', tags: ['status'] } as const;
  defineRestRoute(app, { ...meta, url: '/', summary: 'Service name and version' }, () => ({
    service: SERVICE_NAME,
    version: VERSION,
  }));

  defineRestRoute(
    app,
    { ...meta, url: '/health', summary: 'Health of the api and its connections', errors: { 503: 'Degraded' } },
    async ({ reply }) => {
      const report = await checkHealth(deps);
      void reply.code(report.status === 'healthy' ? 200 : 503).header('cache-control', 'no-store');
      return report;
    },
  );

  defineRestRoute(app, { ...meta, url: '/api/ai-brain/health', summary: 'Health of the AI brain' }, () => ({
    status: 'healthy',
    service: 'ai-brain',
    anthropic_configured: Boolean(deps.env.ANTHROPIC_API_KEY),
  }));

  defineRestRoute(app, { ...meta, url: '/api/voice/health', summary: 'Health of the realtime voice service' }, () => ({
    status: 'healthy',
    service: 'realtime-voice',
    openai_configured: Boolean(deps.env.OPENAI_API_KEY),
    functions_cached: toolRegistrySize(),
  }));
}
