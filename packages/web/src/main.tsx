/**
 * Browser entry: mounts the app under a last-resort error boundary.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { ErrorBoundary } from './components/error-boundary';
import { initErrorReporting } from './lib/error-reporting';
import './styles.css';

void initErrorReporting().catch((err: unknown) => console.error('error reporting could not start', err));

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <ErrorBoundary>
      <App />
    </ErrorBoundary>
  </StrictMode>,
);
