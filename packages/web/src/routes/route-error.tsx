/**
 * The router's last resort (a failed lazy import, an error outside the layout's boundary). Retrying reloads the page,
 * since a stale chunk after a deploy is the usual cause.
 */
import { isRouteErrorResponse, useRouteError } from 'react-router';
import { ErrorPanel } from '../components/error-boundary';

export function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : String(error);
  return (
    <main id="main" className="page">
      <ErrorPanel message={message} onRetry={() => window.location.reload()} />
    </main>
  );
}
