/**
 * Chat provider failover: a chain (Anthropic → Google Gemini → offline) tried in order, each provider behind a
 * circuit breaker. A provider that is down, overloaded, refusing (rate limit, spent credit) or silent is skipped for
 * the next one — but only before it has said anything: once text was streamed, or the failed call used tokens, the
 * failure ends the turn as it would without failover (no answer is shown twice, the used tokens are billed to the
 * provider that used them). The answer names the provider that gave it, so the ledger and the message bill and show
 * that one. The last provider of the chain (offline) is always tried.
 *
 * Breaker: `failures` consecutive failures open a provider's circuit for `cooldownMs` (calls skip it at once); after
 * the cooldown one call is let through (half-open): success closes the circuit, failure opens it again.
 */
import type { ApiEnv } from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import { createAnthropicProvider } from './anthropic';
import { createGeminiProvider } from './gemini';
import { createOfflineProvider } from './offline';
import { type ChatProvider, ProviderError } from './provider';

export type BreakerState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private trial = false;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.openedAt === null) return 'closed';
    return this.now() - this.openedAt >= this.cooldownMs ? 'half-open' : 'open';
  }

  /** Whether a call may go through now (half-open lets one trial call through at a time). */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trial) return false;
    this.trial = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openedAt = null;
    this.trial = false;
  }

  failure(): void {
    this.trial = false;
    this.failures++;
    if (this.openedAt !== null || this.failures >= this.threshold) this.openedAt = this.now();
  }
}

/** Failures another provider may answer for: unavailability, refusals and timeouts, not bad requests. */
const FAILOVER_CODES = new Set(['SERVICE_UNAVAILABLE', 'TOO_MANY_REQUESTS', 'TIMEOUT', 'PAYMENT_REQUIRED']);

export interface FailoverOptions {
  failures: number;
  cooldownMs: number;
  log: Pick<FastifyBaseLogger, 'warn' | 'info'>;
  now?: () => number;
}

export interface FailoverProvider extends ChatProvider {
  readonly chain: readonly ChatProvider[];
  breakerState(index: number): BreakerState;
}

export function createFailoverProvider(chain: readonly ChatProvider[], opts: FailoverOptions): FailoverProvider {
  const breakers = chain.map(() => new CircuitBreaker(opts.failures, opts.cooldownMs, opts.now));
  return failoverOver(chain, breakers, opts);
}

/** A chain over `chain` with its breakers (a tail of a chain shares the breakers of the whole). */
function failoverOver(
  chain: readonly ChatProvider[],
  breakers: readonly CircuitBreaker[],
  opts: FailoverOptions,
): FailoverProvider {
  const [primary] = chain;
  if (!primary) throw new Error('a failover chain needs at least one provider');

  return {
    chain,
    // Admission estimates with the first provider (the dearest of the chain: fallbacks cost the same or less).
    provider: primary.provider,
    model: primary.model,
    breakerState: (index) => breakers[index]?.state ?? 'closed',
    continueWith(answeredBy) {
      const from = chain.findIndex((p) => p.provider === answeredBy.provider && p.model === answeredBy.model);
      return from <= 0 ? this : failoverOver(chain.slice(from), breakers.slice(from), opts);
    },
    async stream(request, { signal, onText }) {
      let lastError: unknown = null;
      for (const [index, candidate] of chain.entries()) {
        const breaker = breakers[index]!;
        const last = index === chain.length - 1;
        if (!last && !breaker.allow()) continue;
        let spoke = false;
        try {
          const answer = await candidate.stream(request, {
            signal,
            onText: (delta) => {
              if (delta) spoke = true;
              onText(delta);
            },
          });
          breaker.success();
          if (index > 0) {
            opts.log.info({ provider: candidate.provider, model: candidate.model }, 'chat answered by a fallback');
          }
          return { ...answer, answeredBy: { provider: candidate.provider, model: candidate.model } };
        } catch (err) {
          if (signal.aborted) throw err;
          if (err instanceof ProviderError) {
            err.failedBy = { provider: candidate.provider, model: candidate.model };
            breaker.failure();
            const retryable = FAILOVER_CODES.has(err.code) && !spoke && !err.usage;
            if (!retryable || last) throw err;
            opts.log.warn(
              { provider: candidate.provider, code: err.code, breaker: breaker.state },
              'chat provider failed; trying the next',
            );
            lastError = err;
            continue;
          }
          breaker.failure();
          throw err;
        }
      }
      // Unreachable: the last provider is always tried and either answers or throws.
      throw lastError instanceof Error ? lastError : new Error('no chat provider answered');
    },
  };
}

/**
 * The chat provider of this api: Anthropic when ANTHROPIC_API_KEY is set, Gemini when GOOGLE_AI_API_KEY is set, and
 * the offline producer; with CHAT_FAILOVER (default) they form a failover chain in that order, without it the first
 * configured one answers alone.
 */
export function createChatProvider(
  env: Parameters<typeof createAnthropicProvider>[0] &
    Parameters<typeof createGeminiProvider>[0] &
    Pick<ApiEnv, 'CHAT_FAILOVER' | 'CHAT_BREAKER_FAILURES' | 'CHAT_BREAKER_COOLDOWN_MS'>,
  log: FailoverOptions['log'],
): ChatProvider {
  const chain: ChatProvider[] = [];
  if (env.ANTHROPIC_API_KEY) chain.push(createAnthropicProvider(env));
  if (env.GOOGLE_AI_API_KEY) chain.push(createGeminiProvider(env));
  chain.push(createOfflineProvider());
  if (!env.CHAT_FAILOVER || chain.length === 1) return chain[0]!;
  return createFailoverProvider(chain, {
    failures: env.CHAT_BREAKER_FAILURES,
    cooldownMs: env.CHAT_BREAKER_COOLDOWN_MS,
    log,
  });
}
