/**
 * /admin/costs: the AI cost ledger for operators (seed troubleshooting 5), filtered by dates, user, provider, model
 * and kind: totals, spend per day and per kind, the top users, and the rows grouped by day, user, provider, model and
 * kind. Admins only (the api refuses everyone else too).
 */
import { PROVIDERS, USAGE_KINDS, formatUsd, type UsageBreakdownInput } from '@dawg/shared';
import { useState, type FormEvent } from 'react';
import { SpendByDayChart, SpendByKindChart } from '../../components/cost-charts';
import { ErrorPanel } from '../../components/error-boundary';
import { useSignedInUser } from '../../lib/auth';
import { fillDays } from '../../lib/charts';
import { trpc } from '../../lib/trpc';
import { usePageTitle } from '../../lib/use-page-title';

type Filters = Omit<UsageBreakdownInput, 'limit'>;

const EMPTY = { from: '', to: '', userId: '', provider: '', model: '', kind: '' };

function toFilters(form: typeof EMPTY): Filters {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) if (v.trim() !== '') out[k] = v.trim();
  return out as Filters;
}

export function AdminCostsPage() {
  usePageTitle('AI costs');
  const user = useSignedInUser();
  if (user.role !== 'admin') {
    return (
      <div className="page">
        <h1>AI costs</h1>
        <p className="notice notice-error" role="alert">
          This page is for administrators.
        </p>
      </div>
    );
  }
  return <CostsView />;
}

function CostsView() {
  const [form, setForm] = useState(EMPTY);
  const [filters, setFilters] = useState<Filters>({});
  const breakdown = trpc.usage.breakdown.useQuery({ ...filters, limit: 500 });

  function submit(e: FormEvent) {
    e.preventDefault();
    setFilters(toFilters(form));
  }
  const field = (name: keyof typeof EMPTY) => ({
    id: `costs-${name}`,
    name,
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value }),
  });

  const data = breakdown.data;
  return (
    <div className="page costs-page">
      <h1>AI costs</h1>
      <form className="card costs-filters" onSubmit={submit} aria-label="Filters">
        <div className="field-grid">
          <label className="field" htmlFor="costs-from">
            From <input className="input" type="date" {...field('from')} />
          </label>
          <label className="field" htmlFor="costs-to">
            To <input className="input" type="date" {...field('to')} />
          </label>
          <label className="field" htmlFor="costs-userId">
            User id <input className="input input-mono" {...field('userId')} placeholder="any" />
          </label>
          <label className="field" htmlFor="costs-provider">
            Provider
            <select className="input" {...field('provider')}>
              <option value="">any</option>
              {PROVIDERS.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
          <label className="field" htmlFor="costs-model">
            Model <input className="input" {...field('model')} placeholder="any" />
          </label>
          <label className="field" htmlFor="costs-kind">
            Kind
            <select className="input" {...field('kind')}>
              <option value="">any</option>
              {USAGE_KINDS.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </label>
        </div>
        <button type="submit" className="button">
          Apply
        </button>{' '}
        <button
          type="button"
          className="button button-secondary"
          onClick={() => {
            setForm(EMPTY);
            setFilters({});
          }}
        >
          Clear
        </button>
      </form>

      {breakdown.error && <ErrorPanel message={breakdown.error.message} onRetry={() => void breakdown.refetch()} />}
      {!data && !breakdown.error && (
        <p className="muted" aria-busy="true">
          Loading…
        </p>
      )}
      {data && (
        <>
          <section className="card" aria-labelledby="costs-total">
            <h2 id="costs-total">
              {formatUsd(data.totalMicro)}{' '}
              <span className="muted small">
                in {data.calls} call{data.calls === 1 ? '' : 's'}
              </span>
            </h2>
            <SpendByDayChart
              days={fillDays(new Date(data.from), new Date(data.to), data.byDay)}
              label={`${data.from.slice(0, 10)} to ${new Date(new Date(data.to).getTime() - 1).toISOString().slice(0, 10)}`}
            />
            <SpendByKindChart kinds={data.byKind} />
          </section>

          <section className="card" aria-labelledby="costs-users">
            <h2 id="costs-users">By user</h2>
            <div className="table-wrap">
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Calls</th>
                    <th scope="col">Cost</th>
                  </tr>
                </thead>
                <tbody>
                  {data.byUser.map((u) => (
                    <tr key={u.userId}>
                      <td>
                        <button
                          type="button"
                          className="link-button"
                          onClick={() => {
                            setForm({ ...form, userId: u.userId });
                            setFilters({ ...filters, userId: u.userId });
                          }}
                        >
                          {u.email ?? u.userId}
                        </button>
                      </td>
                      <td>{u.calls}</td>
                      <td>{formatUsd(u.costMicro)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>

          <section className="card" aria-labelledby="costs-rows">
            <h2 id="costs-rows">By day, user, provider, model and kind</h2>
            {data.truncated && <p className="muted small">Showing the first 500 groups; totals cover everything.</p>}
            <div className="table-wrap">
              <table className="data-table" data-testid="costs-rows">
                <thead>
                  <tr>
                    <th scope="col">Day</th>
                    <th scope="col">User</th>
                    <th scope="col">Provider / model</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Calls</th>
                    <th scope="col">Cost</th>
                  </tr>
                </thead>
                <tbody>
                  {data.rows.map((r) => (
                    <tr key={`${r.day}|${r.userId}|${r.provider}|${r.model}|${r.kind}`}>
                      <td>{r.day}</td>
                      <td>{r.email ?? r.userId}</td>
                      <td>
                        {r.provider}/{r.model}
                      </td>
                      <td className="capitalize">{r.kind}</td>
                      <td>{r.calls}</td>
                      <td>{formatUsd(r.costMicro)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      )}
    </div>
  );
}
