import { useEffect, useRef, useState, type FormEvent } from 'react';
import { getToken, setToken } from '../api/auth';

export interface TokenPromptProps {
  onSaved: () => void;
  onClose: () => void;
}

/** Asks for the daemon's bearer token after a 401; keeps it in sessionStorage. */
export function TokenPrompt({ onSaved, onClose }: TokenPromptProps) {
  const [value, setValue] = useState('');
  const inputRef = useRef<HTMLInputElement>(null);
  const dialogRef = useRef<HTMLDivElement>(null);
  const hadToken = getToken() !== null;

  useEffect(() => {
    inputRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
      // Keep Tab inside the dialog while it is open.
      if (e.key === 'Tab' && dialogRef.current) {
        const items = Array.from(
          dialogRef.current.querySelectorAll<HTMLElement>('input, button:not([disabled]), [href], [tabindex]:not([tabindex="-1"])'),
        );
        if (items.length === 0) return;
        const first = items[0];
        const last = items[items.length - 1];
        if (e.shiftKey && document.activeElement === first) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && document.activeElement === last) {
          e.preventDefault();
          first.focus();
        } else if (!dialogRef.current.contains(document.activeElement)) {
          e.preventDefault();
          first.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const token = value.trim();
    if (!token) return;
    setToken(token);
    onSaved();
  };

  return (
    <div className="modal-backdrop">
      <div ref={dialogRef} className="modal" role="dialog" aria-modal="true" aria-labelledby="token-title" data-testid="token-prompt">
        <h2 id="token-title">Access token required</h2>
        <p>
          {hadToken
            ? 'The daemon rejected the stored token (401 UNAUTHORIZED). Enter a valid one.'
            : 'This daemon was started with --auth-token. Enter the token to continue.'}{' '}
          It is kept in this browser tab only (session storage).
        </p>
        <form onSubmit={submit} className="stack">
          <label className="field">
            <span>Token</span>
            <input
              ref={inputRef}
              type="password"
              autoComplete="off"
              value={value}
              onChange={(e) => setValue(e.target.value)}
              data-testid="token-input"
              required
            />
          </label>
          <div className="row gap">
            <button type="submit" className="btn btn-primary" data-testid="token-submit" disabled={!value.trim()}>
              Save token
            </button>
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
