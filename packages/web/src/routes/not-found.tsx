/**
 * Unknown paths: say so and offer a way back.
 */
import { Link, useLocation } from 'react-router';
import { usePageTitle } from '../lib/use-page-title';

export function NotFoundPage() {
  usePageTitle('Page not found');
  const { pathname } = useLocation();
  return (
    <section className="page" aria-labelledby="not-found-title">
      <h1 id="not-found-title">Page not found</h1>
      <p>
        Nothing lives at <code>{pathname}</code>. <Link to="/">Back to the studio</Link>.
      </p>
    </section>
  );
}
