/**
 * /usage: what the signed-in user's AI work cost this month. Spend per day and per kind (SVG charts), the
 * generation quota and the AI budget as meters, budget warnings (unread notices), the plan, and the most recent
 * paid calls with their actual cost.
 */
import { formatUsd } from '@dawg/shared';
import { Link } from 'react-router';
import { ErrorPanel } from '../../components/error-boundary';
import { Meter, SpendByDayChart, SpendByKindChart } from '../../components/cost-charts';
import { fillDays } from '../../lib/charts';
import { formatDateTime, isoString } from '../../lib/format';
import { trpc } from '../../lib/trpc';
import { usePageTitle } from '../../lib/use-page-title';

export function UsagePage() {
  usePageTitle('Usage');
  const usage = trpc.usage.get.useQuery(undefined, { refetchInterval: 30_000 });
  if (usage.error) return <ErrorPanel message={usage.error.message} onRetry={() => void usage.refetch()} />;
  if (!usage.data) {
    return (
      <p className="page muted" aria-busy="true">
        Loading usage…
      </p>
    );
  }
  const u = usage.data;
  const periodEnd = new Date(u.periodEnd);
  const today = new Date();
  // Days up to and including today (UTC), within the period.
  const tomorrow = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 1));
  const lastDay = tomorrow < periodEnd ? tomorrow : periodEnd;
  const days = fillDays(new Date(u.periodStart), lastDay, u.byDay);
  const committed = u.budget.spentMicro + u.budget.heldMicro;

  return (
    <div className="page usage-page">
      <h1>Usage</h1>
      <p className="lede">
        Your AI usage since {formatDateTime(u.periodStart)} on the <strong>{u.plan.name}</strong> plan.{' '}
        <Link to="/billing">Plans and billing</Link>
      </p>

      <BudgetWarnings />

      <section className="card" aria-labelledby="limits-title">
        <h2 id="limits-title">This month</h2>
        <Meter label="Generations" used={u.generations.used} limit={u.generations.quota} testId="quota-meter" />
        <Meter
          label={u.budget.source === 'custom' ? 'AI budget (set for you)' : 'AI budget'}
          used={committed}
          limit={u.budget.limitMicro}
          format={(n) => formatUsd(n)}
          testId="budget-meter"
        />
        <p className="muted small">
          Spent {formatUsd(u.budget.spentMicro)}
          {u.budget.heldMicro > 0 ? `, ${formatUsd(u.budget.heldMicro)} reserved by work in progress` : ''}.{' '}
          {u.budget.hardLimit ? 'New AI work is refused once the budget is used up.' : 'The budget only warns.'}
        </p>
      </section>

      <section className="card" aria-labelledby="spend-title">
        <h2 id="spend-title">Spend per day</h2>
        <SpendByDayChart days={days} label={`Total this month: ${formatUsd(u.totalMicro)}`} />
      </section>

      <section className="card" aria-labelledby="kinds-title">
        <h2 id="kinds-title">Spend per kind</h2>
        <SpendByKindChart kinds={u.byKind} />
      </section>

      <section className="card" aria-labelledby="recent-title">
        <h2 id="recent-title">Recent AI calls</h2>
        {u.recent.length === 0 ? (
          <p className="muted">Nothing yet. Generations and chat turns appear here with what they cost.</p>
        ) : (
          <div className="table-wrap">
            <table className="data-table" data-testid="recent-usage">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Model</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                {u.recent.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <time dateTime={isoString(r.occurredAt)}>{formatDateTime(r.occurredAt)}</time>
                    </td>
                    <td className="capitalize">{r.kind}</td>
                    <td>
                      {r.provider}/{r.model}
                    </td>
                    <td>{formatUsd(r.costMicro)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

/** Unread budget alerts, dismissible. */
export function BudgetWarnings() {
  const notices = trpc.notification.list.useQuery({ unreadOnly: true, limit: 10 });
  const markRead = trpc.notification.markRead.useMutation();
  const utils = trpc.useUtils();
  const alerts = (notices.data ?? []).filter((n) => n.kind === 'budget_alert' || n.kind === 'billing');
  if (alerts.length === 0) return null;
  return (
    <div className="budget-warnings" role="status" data-testid="budget-warnings">
      {alerts.map((n) => (
        <div key={n.id} className="notice notice-warn">
          <strong>{n.title}</strong> {n.body}{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => {
              void markRead.mutateAsync({ ids: [n.id] }).then(() => utils.notification.list.invalidate());
            }}
          >
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
