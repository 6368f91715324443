/**
 * Toasts: short, non-blocking notices announced to screen readers through a polite live region.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';

export type ToastTone = 'info' | 'success' | 'error';

interface Toast {
  id: number;
  message: string;
  tone: ToastTone;
}

interface ToastApi {
  notify(message: string, options?: { tone?: ToastTone; timeoutMs?: number }): void;
}

const ToastContext = createContext<ToastApi | null>(null);

/** More would cover the page; the oldest are the least relevant. */
const MAX_VISIBLE = 4;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: number) => {
    const timer = timers.current.get(id);
    if (timer) clearTimeout(timer);
    timers.current.delete(id);
    setToasts((list) => list.filter((t) => t.id !== id));
  }, []);

  const notify = useCallback<ToastApi['notify']>(
    (message, options) => {
      const id = nextId.current++;
      const tone = options?.tone ?? 'info';
      setToasts((list) => [...list, { id, message, tone }].slice(-MAX_VISIBLE));
      // Errors stay longer: they are the ones a user may need to read twice.
      const timeoutMs = options?.timeoutMs ?? (tone === 'error' ? 8_000 : 4_000);
      timers.current.set(
        id,
        setTimeout(() => dismiss(id), timeoutMs),
      );
    },
    [dismiss],
  );

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    };
  }, []);

  const api = useMemo<ToastApi>(() => ({ notify }), [notify]);

  return (
    <ToastContext.Provider value={api}>
      {children}
      <section className="toasts" aria-label="Notifications">
        <ol role="status" aria-live="polite" aria-atomic="false">
          {toasts.map((t) => (
            <li key={t.id} className={`toast toast-${t.tone}`} data-testid="toast">
              <span>{t.message}</span>
              <button type="button" className="toast-close" onClick={() => dismiss(t.id)} aria-label="Dismiss">
                ×
              </button>
            </li>
          ))}
        </ol>
      </section>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  const api = useContext(ToastContext);
  if (!api) throw new Error('useToast must be used inside <ToastProvider>');
  return api;
}
