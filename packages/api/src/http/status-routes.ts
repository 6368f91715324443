/**
 * The seed's status endpoints: `GET /` (service and version), `GET /health` (deployment 4.1; 503 when degraded),
 * `GET /api/ai-brain/health` and `GET /api/voice/health` (deployment 4.2).
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps';
import { checkHealth } from '../services/health';
import { toolRegistrySize } from '../services/tools';
import { SERVICE_NAME, VERSION } from '../version';

export function registerStatusRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/', () => ({ service: SERVICE_NAME, version: VERSION }));

  app.get('/health', async (_request, reply) => {
    const report = await checkHealth(deps);
    return reply
      .code(report.status === 'healthy' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(report);
  });

  app.get('/api/ai-brain/health', () => ({
    status: 'healthy',
    service: 'ai-brain',
    anthropic_configured: Boolean(deps.env.ANTHROPIC_API_KEY),
  }));

  app.get('/api/voice/health', () => ({
    status: 'healthy',
    service: 'realtime-voice',
    openai_configured: Boolean(deps.env.OPENAI_API_KEY),
    functions_cached: toolRegistrySize(),
  }));
}
