/**
 * The document title per screen: it is the first thing a screen reader announces after navigation and what a
 * browser tab or history entry shows.
 */
import { useEffect } from 'react';

export const APP_NAME = 'DAWG AI';

export function usePageTitle(title: string | null): void {
  useEffect(() => {
    document.title = title ? `${title} · ${APP_NAME}` : APP_NAME;
  }, [title]);
}
