import { errorHint, toApiError } from '../api/errors';

export interface ErrorAlertProps {
  error: unknown;
  title?: string;
  onDismiss?: () => void;
  onRetry?: () => void;
  testId?: string;
}

/** An inline alert showing an API error's code, message, hint and details. */
export function ErrorAlert({ error, title, onDismiss, onRetry, testId = 'api-error' }: ErrorAlertProps) {
  if (!error) return null;
  const e = toApiError(error);
  const hint = errorHint(e.code);
  const hasDetails = e.details && Object.keys(e.details).length > 0;
  return (
    <div className="alert alert-error" role="alert" data-testid={testId} data-code={e.code}>
      <div className="alert-body">
        {title && <p className="alert-title">{title}</p>}
        <p>
          <code className="error-code" data-testid="api-error-code">
            {e.code}
          </code>{' '}
          <span data-testid="api-error-message">{e.message}</span>
          {e.status > 0 && <span className="muted"> (HTTP {e.status})</span>}
        </p>
        {hint && <p className="alert-hint">{hint}</p>}
        {hasDetails && (
          <details>
            <summary>Details</summary>
            <pre className="code-block">{JSON.stringify(e.details, null, 2)}</pre>
          </details>
        )}
      </div>
      {(onRetry || onDismiss) && (
        <div className="alert-actions">
          {onRetry && (
            <button type="button" className="btn btn-small" onClick={onRetry}>
              Retry
            </button>
          )}
          {onDismiss && (
            <button type="button" className="btn btn-small btn-ghost" onClick={onDismiss} aria-label="Dismiss error">
              Dismiss
            </button>
          )}
        </div>
      )}
    </div>
  );
}
