import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { toApiError } from '../api/errors';

export type ToastTone = 'ok' | 'error' | 'info';

export interface Toast {
  id: number;
  tone: ToastTone;
  message: string;
  code?: string;
}

interface ToastApi {
  notify: (tone: ToastTone, message: string, code?: string) => void;
  success: (message: string) => void;
  error: (err: unknown, prefix?: string) => void;
  /** Take down the toasts whose message contains ``text`` (they no longer hold). */
  dismissMatching: (text: string) => void;
}

const ToastContext = createContext<ToastApi | null>(null);

export function useToast(): ToastApi {
  const ctx = useContext(ToastContext);
  if (!ctx) throw new Error('useToast outside ToastProvider');
  return ctx;
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => setToasts((ts) => ts.filter((t) => t.id !== id)), []);

  const notify = useCallback(
    (tone: ToastTone, message: string, code?: string) => {
      const id = nextId.current++;
      setToasts((ts) => [...ts.slice(-2), { id, tone, message, code }]);
      setTimeout(() => dismiss(id), tone === 'error' ? 10000 : 4000);
    },
    [dismiss],
  );

  const api = useMemo<ToastApi>(
    () => ({
      notify,
      success: (message) => notify('ok', message),
      error: (err, prefix) => {
        const e = toApiError(err);
        notify('error', prefix ? `${prefix}: ${e.message}` : e.message, e.code);
      },
      dismissMatching: (text) => setToasts((ts) => ts.filter((t) => !t.message.includes(text))),
    }),
    [notify],
  );

  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" aria-live="polite" aria-relevant="additions">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone}`} role={t.tone === 'error' ? 'alert' : 'status'} data-testid="toast" data-tone={t.tone}>
            <p>
              {t.code && <code className="error-code">{t.code}</code>} {t.message}
            </p>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => dismiss(t.id)} aria-label="Dismiss notification">
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
