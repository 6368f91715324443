/**
 * The cost pages' charts, as plain SVG: spend per day (a bar per day of the period), spend per kind (horizontal
 * bars), and a meter for a quota or a budget. Each chart has a text alternative (a table or a label), so the figures
 * are readable without the picture.
 */
import { formatUsd } from '@dawg/shared';
import { barLayout, type DayValue, meterPercent, niceMax } from '../lib/charts';

const WIDTH = 640;
const HEIGHT = 160;
const AXIS = 48;

export function SpendByDayChart({ days, label }: { days: DayValue[]; label: string }) {
  // At least a cent on the axis, so a month of free work does not read "$0.00" at the top.
  const max = niceMax(Math.max(10_000, ...days.map((d) => d.costMicro)));
  const bars = barLayout(
    days.map((d) => ({ value: d.costMicro, calls: d.calls })),
    WIDTH - AXIS,
    HEIGHT,
    max,
  );
  const total = days.reduce((n, d) => n + d.costMicro, 0);
  return (
    <figure className="chart" data-testid="spend-by-day-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT + 24}`}
        role="img"
        aria-label={`${label}: ${formatUsd(total)} over ${days.length} days`}
        className="chart-svg"
      >
        <text x={AXIS - 6} y={10} className="chart-axis" textAnchor="end">
          {formatUsd(max, { maxDecimals: 4 })}
        </text>
        <text x={AXIS - 6} y={HEIGHT} className="chart-axis" textAnchor="end">
          $0
        </text>
        <line x1={AXIS} y1={HEIGHT} x2={WIDTH} y2={HEIGHT} className="chart-baseline" />
        <g transform={`translate(${AXIS} 0)`}>
          {bars.map((bar, i) => {
            const d = days[i]!;
            return (
              <rect
                key={d.day}
                x={bar.x}
                y={bar.y}
                width={bar.width}
                height={bar.height}
                className={d.calls > 0 ? 'chart-bar' : 'chart-bar chart-bar-empty'}
                data-day={d.day}
                data-cost-micro={d.costMicro}
                data-calls={d.calls}
              >
                <title>{`${d.day}: ${formatUsd(d.costMicro)} (${d.calls} call${d.calls === 1 ? '' : 's'})`}</title>
              </rect>
            );
          })}
          {days.length > 0 && (
            <>
              <text x={0} y={HEIGHT + 18} className="chart-axis">
                {days[0]!.day.slice(5)}
              </text>
              <text x={WIDTH - AXIS} y={HEIGHT + 18} className="chart-axis" textAnchor="end">
                {days.at(-1)!.day.slice(5)}
              </text>
            </>
          )}
        </g>
      </svg>
      <figcaption className="muted small">{label}</figcaption>
    </figure>
  );
}

export function SpendByKindChart({ kinds }: { kinds: { kind: string; costMicro: number; calls: number }[] }) {
  if (kinds.length === 0) return <p className="muted">No AI usage yet this month.</p>;
  const max = niceMax(Math.max(0, ...kinds.map((k) => k.costMicro)));
  return (
    <ul className="kind-bars" data-testid="spend-by-kind-chart" aria-label="Spend per kind">
      {kinds.map((k) => (
        <li key={k.kind} className="kind-bar-row">
          <span className="kind-bar-label capitalize">{k.kind}</span>
          <svg viewBox="0 0 100 10" preserveAspectRatio="none" className="kind-bar-svg" aria-hidden="true">
            <rect x={0} y={0} width={Math.max(k.costMicro > 0 ? 1 : 0, (k.costMicro / max) * 100)} height={10} />
          </svg>
          <span className="kind-bar-value">
            {formatUsd(k.costMicro)}{' '}
            <span className="muted small">
              · {k.calls} call{k.calls === 1 ? '' : 's'}
            </span>
          </span>
        </li>
      ))}
    </ul>
  );
}

export function Meter({
  label,
  used,
  limit,
  format = (n) => String(n),
  testId,
}: {
  label: string;
  used: number;
  limit: number;
  format?: (n: number) => string;
  testId?: string;
}) {
  const pct = meterPercent(used, limit);
  const tone = pct >= 100 ? 'meter-over' : pct >= 80 ? 'meter-warn' : '';
  return (
    <div className="meter-block" data-testid={testId}>
      <div className="meter-label">
        <span>{label}</span>
        <span>
          {format(used)} of {format(limit)}
        </span>
      </div>
      <meter
        className={`meter ${tone}`}
        min={0}
        max={100}
        low={80}
        high={99.99}
        optimum={0}
        value={pct}
        aria-label={`${label}: ${format(used)} of ${format(limit)}`}
      />
    </div>
  );
}
