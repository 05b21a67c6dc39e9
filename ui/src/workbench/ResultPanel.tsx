import { JsonTree } from '../components/JsonTree';
import { MimeView } from '../components/MimeView';
import { StatusBadge } from '../components/StatusBadge';
import type { ExceptionPayload, ExecutionError, JsonValue, Limits, SystemErrorPayload, ValuePayload } from '../api/types';
import { outcomeText } from '../lib/outcome';
import { formatBytes, formatDuration } from '../lib/format';
import type { RunState } from './state';

function isException(e: ExecutionError): e is ExceptionPayload {
  return 'name' in e && typeof (e as ExceptionPayload).name === 'string';
}


export function ValueView({ value }: { value: ValuePayload }) {
  const structured = value.json !== undefined && value.json !== null && typeof value.json === 'object';
  return (
    <div className="value-view" data-testid="result-value">
      {value.display && <MimeView bundle={value.display} />}
      <p>
        <span className="tag" data-testid="result-type">
          {value.type}
        </span>{' '}
        {!structured && (
          <code className="result-preview" data-testid="result-preview">
            {value.preview}
          </code>
        )}
      </p>
      {value.inspect !== undefined && value.inspect !== value.preview && (
        <pre className="code-block" data-testid="result-inspect">
          {value.inspect}
        </pre>
      )}
      {structured && (
        <>
          <JsonTree value={value.json as JsonValue} label="Result" />
          <details>
            <summary>String form</summary>
            <pre className="code-block" data-testid="result-preview">
              {value.preview}
            </pre>
          </details>
        </>
      )}
    </div>
  );
}

/** An execution's error: a JS exception with its stack, or one sentence for a limit, cancel or
 * restart (stating the limit when the session's `limits` are given). */
export function ErrorView({ error, limits }: { error: ExecutionError; limits?: Partial<Limits> | null }) {
  if (isException(error)) {
    return (
      <div className="exception-view" data-testid="result-exception">
        {error.result && (
          // An unhandled rejection that surfaced after the input's result: both are shown, as
          // node's REPL prints the result and then `Uncaught ...`.
          <div data-testid="unhandled-result">
            <ValueView value={error.result} />
          </div>
        )}
        <p className="exception-title">
          {error.unhandled && (
            <>
              <span className="tag" data-testid="exception-unhandled">
                unhandled rejection
              </span>{' '}
            </>
          )}
          <strong data-testid="exception-name">{error.name}</strong>: <span data-testid="exception-message">{error.message}</span>
        </p>
        {error.stack && (
          <pre className="code-block stack" data-testid="exception-stack">
            {error.stack}
          </pre>
        )}
      </div>
    );
  }
  const sys = error as SystemErrorPayload;
  return (
    <div className="limit-view" data-testid="result-system-error">
      {/* One sentence, not a heading plus the daemon's message saying the same again; "Cancelled
          CANCELLED" would too, so the code stays machine-readable only there. */}
      <p>
        <strong data-testid="result-error-text">{outcomeText(sys.code, sys.message, limits)}</strong>{' '}
        <code className="error-code" data-testid="result-error-code" hidden={sys.code === 'CANCELLED'}>
          {sys.code}
        </code>
      </p>
    </div>
  );
}

/** Result of the current run: the value, the exception with its stack, or the limit that stopped it. */
export function ResultPanel({ state, limits }: { state: RunState; limits?: Partial<Limits> | null }) {
  const ex = state.execution;
  const terminal = state.terminal;
  let body;
  const result = ex && ex.status !== 'running' ? ex.result : null;
  const error = ex && ex.status !== 'running' ? ex.error : null;
  if (result) body = <ValueView value={result} />;
  else if (error) body = <ErrorView error={error} limits={limits} />;
  else if (terminal?.type === 'value') body = <ValueView value={terminal.payload} />;
  else if (terminal?.type === 'exception') body = <ErrorView error={terminal.payload} />;
  else if (terminal?.type === 'system')
    body = <ErrorView error={{ code: terminal.payload.code, message: terminal.payload.message }} limits={limits} />;
  else if (state.phase === 'submitting' || state.phase === 'running' || state.phase === 'finishing')
    body = <p className="muted">Running…</p>;
  else if (state.phase === 'failed') body = <p className="muted">No result: the request failed (see the error above).</p>;
  else body = <p className="muted">Run code to see its result here.</p>;

  const m = ex?.metrics;
  return (
    <section className="panel result-panel" aria-labelledby="result-title" data-testid="result-panel" data-status={state.status ?? ''}>
      <div className="panel-head">
        <h2 id="result-title">Result</h2>
        {state.status && <StatusBadge status={state.status} testId="execution-status" />}
      </div>
      <div className="panel-body">
        {body}
        {m && ex?.status !== 'running' && (
          <dl className="metrics" data-testid="execution-metrics">
            <div>
              <dt>Duration</dt>
              <dd>{formatDuration(m.duration_ms)}</dd>
            </div>
            {m.cpu_ms !== undefined && m.cpu_ms !== null && (
              <div>
                <dt>CPU</dt>
                <dd>{formatDuration(m.cpu_ms)}</dd>
              </div>
            )}
            <div>
              <dt>Events</dt>
              <dd>{m.event_count ?? '—'}</dd>
            </div>
            <div>
              <dt>Output</dt>
              <dd>{formatBytes(m.output_bytes)}</dd>
            </div>
          </dl>
        )}
      </div>
    </section>
  );
}
