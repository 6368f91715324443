/**
 * The installable app's update flow (seed cache clearing 3): in a production build the service worker (`/sw.js`,
 * see build/service-worker.ts) is registered, and `registration.update()` asks for a newer one when the page becomes
 * visible again and every UPDATE_CHECK_MS. A newer version that installed while this one runs waits; `onUpdate` is
 * told, and `apply()` lets it take over and reloads the page into it.
 */
export const UPDATE_CHECK_MS = 30 * 60 * 1000;

export function registerServiceWorker(onUpdate: (apply: () => void) => void): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  const container = navigator.serviceWorker;
  // Only an accepted update reloads: the first worker taking control (clients.claim) must not.
  let applying = false;
  let reloading = false;
  container.addEventListener('controllerchange', () => {
    if (!applying || reloading) return;
    reloading = true;
    window.location.reload();
  });
  const offer = (worker: ServiceWorker) =>
    onUpdate(() => {
      applying = true;
      worker.postMessage({ type: 'SKIP_WAITING' });
    });
  void container
    .register('/sw.js')
    .then((registration) => {
      // Only an update replaces a running version: the very first install just starts caching.
      const watch = (worker: ServiceWorker | null) => {
        if (!worker) return;
        worker.addEventListener('statechange', () => {
          if (worker.state === 'installed' && container.controller) offer(worker);
        });
      };
      if (registration.waiting && container.controller) offer(registration.waiting);
      watch(registration.installing);
      registration.addEventListener('updatefound', () => watch(registration.installing));
      const check = () => void registration.update().catch(() => undefined);
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') check();
      });
      window.setInterval(check, UPDATE_CHECK_MS);
    })
    .catch((err: unknown) => console.warn('service worker not registered', err));
}
