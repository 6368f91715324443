/**
 * API keys (seed hardening 4.2): create (the key is shown once), list, revoke. A revoked key fails on its next
 * request (keys are validated against the database on every call) and its open WebSockets close on every instance.
 */
import { type ApiKey, createApiKey, listApiKeys, revokeApiKey } from '@dawg/db';
import { AppError, type ApiKeyCreated, type ApiKeyInfo } from '@dawg/shared';
import type { Context } from '../trpc';
import { audit, type CallMeta } from './audit';

export type ApiKeyDeps = Pick<Context, 'db' | 'log' | 'revocations'>;

export function toApiKeyInfo(key: ApiKey): ApiKeyInfo {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    createdAt: key.created_at.toISOString(),
    lastUsedAt: key.last_used_at?.toISOString() ?? null,
    revokedAt: key.revoked_at?.toISOString() ?? null,
  };
}

export async function createKey(
  deps: ApiKeyDeps,
  userId: string,
  name: string,
  meta: CallMeta,
): Promise<ApiKeyCreated> {
  const { key, apiKey } = await createApiKey(deps.db, userId, { name });
  await audit(deps, meta, {
    userId,
    action: 'api_keys.create',
    targetType: 'api_key',
    targetId: apiKey.id,
    statusCode: 200,
    metadata: { prefix: apiKey.prefix },
  });
  return { id: apiKey.id, name: apiKey.name, prefix: apiKey.prefix, key };
}

export async function listKeys(deps: ApiKeyDeps, userId: string): Promise<ApiKeyInfo[]> {
  return (await listApiKeys(deps.db, userId)).map(toApiKeyInfo);
}

/** NOT_FOUND for a key that is not the user's, or is already revoked. */
export async function revokeKey(deps: ApiKeyDeps, userId: string, keyId: string, meta: CallMeta): Promise<void> {
  if (!(await revokeApiKey(deps.db, userId, keyId))) throw new AppError('NOT_FOUND', 'API key not found');
  await deps.revocations.revoke({ kind: 'api-key', apiKeyId: keyId });
  await audit(deps, meta, {
    userId,
    action: 'api_keys.revoke',
    targetType: 'api_key',
    targetId: keyId,
    statusCode: 200,
  });
}
