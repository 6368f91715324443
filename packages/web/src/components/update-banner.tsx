/** "New version — reload": shown when a newer build of the app is installed and waiting (lib/service-worker.ts). */
import { useEffect, useState } from 'react';
import { registerServiceWorker } from '../lib/service-worker';

export function UpdateBanner() {
  const [apply, setApply] = useState<(() => void) | null>(null);
  useEffect(() => registerServiceWorker((next) => setApply(() => next)), []);
  if (!apply) return null;
  return (
    <div className="update-banner" role="status" data-testid="update-banner">
      <span>New version available.</span>
      <button type="button" className="button" onClick={apply}>
        Reload
      </button>
    </div>
  );
}
