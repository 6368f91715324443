/**
 * The cost of a generation before it is asked for: `usage.estimateGeneration` with the form's length and takes
 * (the prompt does not change the price), and whether the AI budget still admits it. The actual cost shows on the
 * generation once it has run.
 */
import { createGenerationInputSchema, formatUsd } from '@dawg/shared';
import { trpc } from '../lib/trpc';

export function CostEstimateLine({ duration, variants }: { duration: string; variants: string }) {
  const input = createGenerationInputSchema.safeParse({
    prompt: 'cost estimate',
    duration: Number(duration),
    variants: Number(variants),
  });
  const estimate = trpc.usage.estimateGeneration.useQuery(input.success ? input.data : { prompt: 'x', duration: 30 }, {
    enabled: input.success,
    staleTime: 15_000,
  });
  if (!input.success || !estimate.data) return null;
  const e = estimate.data;
  return (
    <p className={`small ${e.withinBudget ? 'muted' : 'field-error'}`} data-testid="cost-estimate">
      Estimated cost {e.estimatedCostMicro === 0 ? 'free' : `up to ${formatUsd(e.estimatedCostMicro)}`}
      {e.remainingMicro !== null && ` · ${formatUsd(e.remainingMicro)} left in your monthly AI budget`}
      {!e.withinBudget && ' · over your budget'}
    </p>
  );
}
