/**
 * /billing: the plans, the current plan and subscription, a checkout button per paid plan (the browser goes to
 * Stripe Checkout's URL), the billing portal link, and a clear "billing is not configured" state on servers without
 * Stripe keys (an admin sets plans there). Returning from checkout shows that the plan follows once Stripe confirms.
 */
import { formatUsd } from '@dawg/shared';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { ErrorPanel } from '../../components/error-boundary';
import { errorsFromFailure } from '../../lib/form-errors';
import { formatDate } from '../../lib/format';
import { trpc } from '../../lib/trpc';
import { usePageTitle } from '../../lib/use-page-title';
import { BudgetWarnings } from '../usage/usage-page';

function price(cents: number): string {
  return cents === 0 ? 'Free' : `$${(cents / 100).toFixed(0)} / month`;
}

export function BillingPage() {
  usePageTitle('Billing');
  const [params] = useSearchParams();
  const returned = params.get('checkout');
  const status = trpc.billing.get.useQuery(undefined, { refetchInterval: returned === 'success' ? 3_000 : false });
  const checkout = trpc.billing.createCheckoutSession.useMutation();
  const portal = trpc.billing.createPortalSession.useMutation();
  const [problem, setProblem] = useState<string | null>(null);

  async function go(redirect: () => Promise<{ url: string }>) {
    setProblem(null);
    try {
      const { url } = await redirect();
      window.location.assign(url);
    } catch (err) {
      setProblem(errorsFromFailure(err, []).form ?? 'Something went wrong.');
    }
  }

  if (status.error) return <ErrorPanel message={status.error.message} onRetry={() => void status.refetch()} />;
  if (!status.data) {
    return (
      <p className="page muted" aria-busy="true">
        Loading billing…
      </p>
    );
  }
  const b = status.data;
  const current = b.plans.find((p) => p.id === b.plan);
  const busy = checkout.isPending || portal.isPending;

  return (
    <div className="page billing-page">
      <h1>Plans and billing</h1>
      <BudgetWarnings />
      {!b.configured && (
        <div className="notice" role="status" data-testid="billing-not-configured">
          <strong>Billing is not configured on this server.</strong> Plans cannot be bought here; an administrator sets
          plans (<code>pnpm --filter @dawg/db set-plan &lt;email&gt; &lt;plan&gt;</code>).
        </div>
      )}
      {returned === 'success' && (
        <div className="notice" role="status">
          Thank you! Your plan changes as soon as Stripe confirms the payment.
        </div>
      )}
      {returned === 'canceled' && (
        <div className="notice" role="status">
          Checkout was canceled; nothing was charged.
        </div>
      )}
      {problem && (
        <div className="notice notice-error" role="alert">
          {problem}
        </div>
      )}

      <section className="card" aria-labelledby="current-title">
        <h2 id="current-title">Your plan</h2>
        <p data-testid="current-plan">
          <strong>{current?.name ?? b.plan}</strong>
          {b.subscription && (
            <>
              {' '}
              · subscription {b.subscription.status.replace('_', ' ')}
              {b.subscription.currentPeriodEnd &&
                ` · ${b.subscription.cancelAtPeriodEnd ? 'ends' : 'renews'} ${formatDate(b.subscription.currentPeriodEnd)}`}
            </>
          )}
        </p>
        {b.configured && b.hasCustomer && (
          <button
            type="button"
            className="button button-secondary"
            onClick={() => void go(() => portal.mutateAsync())}
            aria-disabled={busy || undefined}
          >
            Manage billing
          </button>
        )}
      </section>

      <ul className="plan-grid" aria-label="Plans">
        {b.plans.map((p) => (
          <li key={p.id} className={`card plan-card${p.id === b.plan ? ' plan-current' : ''}`}>
            <h2>{p.name}</h2>
            <p className="plan-price">{price(p.monthlyPriceCents)}</p>
            <ul className="plan-facts">
              <li>{p.generationsPerMonth} generations a month</li>
              <li>{formatUsd(p.aiBudgetMicro)} of AI usage a month</li>
              <li>Songs up to {Math.round(p.maxSongSeconds / 60)} min</li>
            </ul>
            {p.id === b.plan ? (
              <span className="badge badge-ok">Current plan</span>
            ) : p.purchasable && b.configured && !b.subscription?.status.match(/^(active|trialing|past_due)$/) ? (
              <button
                type="button"
                className="button"
                onClick={() => void go(() => checkout.mutateAsync({ plan: p.id as 'pro' | 'studio' }))}
                aria-disabled={busy || undefined}
              >
                Choose {p.name}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
