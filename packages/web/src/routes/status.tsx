/**
 * Live system status: the api's health pushed every second over the `health.live` subscription, with `health.get`
 * polling as the fallback whenever the live stream is not delivering (socket down, proxy without upgrades).
 */
import { useState } from 'react';
import type { RouterOutputs } from '@dawg/api';
import { trpc } from '../lib/trpc';
import { useNow } from '../lib/use-now';
import { useWsState, WS_STATE_LABELS } from '../lib/connection';
import { usePageTitle } from '../lib/use-page-title';

type Health = RouterOutputs['health']['get'];
type ConnectionName = keyof Health['connections'];

const CONNECTIONS: { name: ConnectionName; label: string }[] = [
  { name: 'database', label: 'Database (PostgreSQL)' },
  { name: 'redis', label: 'Redis' },
  { name: 's3', label: 'Object storage (S3)' },
];

/** The api pushes every ~1 s; three missed beats means the stream is not delivering. */
const LIVE_STALE_MS = 3_000;
const POLL_MS = 5_000;
/** With no answer from either path for this long, the last known state is no longer the state. */
const UNREACHABLE_MS = 15_000;

interface Sample {
  health: Health;
  at: number;
  source: 'live' | 'poll';
}

export function StatusPage() {
  usePageTitle('System status');
  const wsState = useWsState();
  const now = useNow(1_000);
  const [live, setLive] = useState<Sample | null>(null);

  const subscription = trpc.health.live.useSubscription(undefined, {
    onData: (health) => setLive({ health, at: Date.now(), source: 'live' }),
  });
  const liveFresh = live !== null && subscription.status === 'pending' && now - live.at < LIVE_STALE_MS;

  const polled = trpc.health.get.useQuery(undefined, {
    refetchInterval: liveFresh ? false : POLL_MS,
    refetchIntervalInBackground: false,
  });
  const polledSample: Sample | null = polled.data
    ? { health: polled.data, at: polled.dataUpdatedAt, source: 'poll' }
    : null;

  const current = newest(live, polledSample);
  const lastError = subscription.error ?? polled.error;
  const unreachable = lastError !== null && (current === null || now - current.at > UNREACHABLE_MS);

  return (
    <section className="page" aria-labelledby="status-title">
      <h1 id="status-title">System status</h1>

      <dl className="status-summary">
        <div>
          <dt>Overall</dt>
          <dd>
            {unreachable ? (
              <span className="badge badge-down" data-testid="health-status">
                unreachable
              </span>
            ) : current ? (
              <span className={`badge badge-${current.health.status}`} data-testid="health-status">
                {current.health.status}
              </span>
            ) : (
              <span className="badge badge-pending">checking…</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Live updates</dt>
          <dd data-testid="ws-state" data-state={wsState}>
            {WS_STATE_LABELS[wsState]}
          </dd>
        </div>
        <div>
          <dt>Last update</dt>
          <dd>
            {current ? (
              <>
                <time
                  dateTime={new Date(current.at).toISOString()}
                  data-testid="health-updated"
                  data-source={current.source}
                >
                  {new Date(current.at).toLocaleTimeString()}
                </time>{' '}
                <span className="muted">
                  ({formatAge(now - current.at)}, {current.source === 'live' ? 'live' : 'polled'})
                </span>
              </>
            ) : (
              <span className="muted">waiting for the first answer</span>
            )}
          </dd>
        </div>
      </dl>

      {unreachable && lastError && (
        <div className="notice notice-error" role="alert">
          <p>
            The api is not answering: <span className="error-message">{lastError.message}</span>
          </p>
          <button type="button" className="button" onClick={() => void polled.refetch()}>
            Check again
          </button>
        </div>
      )}

      <h2 id="connections-title">Connections</h2>
      <ul className="status-list" aria-labelledby="connections-title">
        {CONNECTIONS.map(({ name, label }) => {
          const up = current?.health.connections[name];
          const text = up === undefined ? 'unknown' : up ? 'ok' : 'down';
          return (
            <li key={name} className="status-row">
              <span id={`conn-label-${name}`}>{label}</span>
              <span
                className={`badge badge-${text}`}
                data-testid={`conn-${name}`}
                data-state={text}
                aria-describedby={`conn-label-${name}`}
              >
                {text}
              </span>
            </li>
          );
        })}
      </ul>

      {current && (
        <>
          <h2 id="services-title">Services</h2>
          <ul className="status-list" aria-labelledby="services-title">
            {Object.entries(current.health.services).map(([name, up]) => (
              <li key={name} className="status-row">
                <span>{name}</span>
                <span className={`badge badge-${up ? 'ok' : 'down'}`} data-testid={`service-${name}`}>
                  {up ? 'ok' : 'down'}
                </span>
              </li>
            ))}
          </ul>
          <p className="muted">
            Reported by <code>{current.health.service}</code> at{' '}
            <time dateTime={current.health.timestamp}>{current.health.timestamp}</time>.
          </p>
        </>
      )}
    </section>
  );
}

function newest(a: Sample | null, b: Sample | null): Sample | null {
  if (!a) return b;
  if (!b) return a;
  return a.at >= b.at ? a : b;
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1_000));
  if (seconds < 2) return 'just now';
  if (seconds < 120) return `${seconds} s ago`;
  return `${Math.round(seconds / 60)} min ago`;
}
