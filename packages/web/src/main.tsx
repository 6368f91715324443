/**
 * Browser entry: mounts the app under a last-resort error boundary.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { ErrorBoundary } from './components/error-boundary';
import { UpdateBanner } from './components/update-banner';
import { initErrorReporting } from './lib/error-reporting';
import './styles.css';

void initErrorReporting().catch((err: unknown) => console.error('error reporting could not start', err));

// Which build is running (VITE_APP_BUILD, set by the deploy): shown to tests and support as <html data-build>.
document.documentElement.dataset.build = import.meta.env.VITE_APP_BUILD ?? '';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <ErrorBoundary>
      <App />
      <UpdateBanner />
    </ErrorBoundary>
  </StrictMode>,
);
