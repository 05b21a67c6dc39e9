import { Fragment, useState } from 'react';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type ExportFormat } from '../api/client';
import { useLiveSession } from '../api/live';
import { keys, templateNameMap, useSessions, useTemplates } from '../api/queries';
import type { Execution, ExecutionEvent, Provenance, Session } from '../api/types';
import { ErrorAlert } from '../components/ErrorAlert';
import { Empty, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { useToast } from '../components/Toasts';
import { absoluteTime, clockTime, formatDuration, plural, relativeTime, shortId, truncate } from '../lib/format';
import { Link, navigate, useLocation } from '../lib/router';
import { DRAFT_KEY, saveString } from '../lib/storage';
import { ErrorView, ValueView } from '../workbench/ResultPanel';
import { HistorySearch } from './HistorySearch';

export const EVENTS_PAGE = 100;
const EXECUTIONS_PAGE = 50;

function payloadText(ev: ExecutionEvent): string {
  switch (ev.type) {
    case 'console':
      return ev.payload.text;
    case 'input_echo':
      return ev.payload.text;
    case 'value':
      return ev.payload.inspect ?? (ev.payload.json !== undefined ? JSON.stringify(ev.payload.json) : ev.payload.preview);
    case 'exception':
      return `${ev.payload.name}: ${ev.payload.message}`;
    case 'system':
      return `${ev.payload.code}: ${ev.payload.message}`;
    default:
      return JSON.stringify((ev as ExecutionEvent).payload);
  }
}

function payloadTag(ev: ExecutionEvent): string | null {
  if (ev.type === 'console') return ev.payload.level;
  if (ev.type === 'value') return ev.payload.type;
  if (ev.type === 'system') return ev.payload.level;
  return null;
}

/** One execution's event log, paged with after_seq/limit. */
export function EventLog({ executionId, running }: { executionId: string; running: boolean }) {
  const q = useInfiniteQuery({
    queryKey: keys.events(executionId),
    initialPageParam: 0,
    queryFn: ({ pageParam }) => api.listEvents(executionId, { after_seq: pageParam, limit: EVENTS_PAGE }),
    getNextPageParam: (last) => (last.length < EVENTS_PAGE ? undefined : last[last.length - 1].seq),
  });
  if (q.isPending) return <Loading label="Loading events…" />;
  if (q.isError) return <ErrorAlert error={q.error} onRetry={() => void q.refetch()} />;
  const events = q.data.pages.flat();
  return (
    <div className="event-log">
      {events.length === 0 ? (
        <Empty testId="events-empty">No events recorded.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table compact" data-testid="events-table">
            <thead>
              <tr>
                <th scope="col">Seq</th>
                <th scope="col" className="hide-narrow">Time (UTC)</th>
                <th scope="col">Type</th>
                <th scope="col">Payload</th>
              </tr>
            </thead>
            <tbody>
              {events.map((ev) => {
                const tag = payloadTag(ev);
                return (
                  <tr key={ev.seq} data-testid="event-row" data-seq={ev.seq} data-type={ev.type} className={`event-${ev.type}`}>
                    <td className="num" title={absoluteTime(ev.ts)}>
                      {ev.seq}
                    </td>
                    <td className="hide-narrow" title={absoluteTime(ev.ts)}>
                      {clockTime(ev.ts)}
                    </td>
                    <td>
                      <span className="tag">{ev.type}</span>
                    </td>
                    <td>
                      {tag && <span className="muted small">{tag} </span>}
                      <code className="wrap pre">{payloadText(ev)}</code>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <div className="row gap">
        {q.hasNextPage && (
          <button type="button" className="btn btn-small" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage} data-testid="events-load-more">
            {q.isFetchingNextPage ? 'Loading…' : `Load more events`}
          </button>
        )}
        {(running || !q.hasNextPage) && (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => void q.refetch()} disabled={q.isFetching} data-testid="events-refresh">
            Refresh
          </button>
        )}
        <span className="muted small" data-testid="events-count">
          {plural(events.length, 'event')} shown
        </span>
      </div>
    </div>
  );
}

/** Where and with what the execution ran (recorded by the daemon with the execution). */
function ProvenanceView({ provenance: p }: { provenance: Provenance }) {
  return (
    <details className="provenance" data-testid="execution-provenance">
      <summary>Provenance</summary>
      <dl className="facts">
        <div>
          <dt>Template</dt>
          <dd>
            <code>{shortId(p.template_id)}</code> revision <span data-testid="provenance-revision">{p.template_revision ?? '—'}</span>
          </dd>
        </div>
        <div>
          <dt>Engine</dt>
          <dd data-testid="provenance-engine">
            {p.engine.name} {p.engine.version ?? ''}
          </dd>
        </div>
        <div>
          <dt>vm-system</dt>
          <dd>{p.vm_system_version}</dd>
        </div>
        <div>
          <dt>Host</dt>
          <dd>
            <code data-testid="provenance-host">{p.host_id}</code>
          </dd>
        </div>
        <div>
          <dt>Libraries</dt>
          <dd data-testid="provenance-libraries">
            {p.libraries.length === 0
              ? 'none'
              : p.libraries.map((lib) => (
                  <div key={lib.name}>
                    {lib.name}@{lib.version}{' '}
                    <code className="muted small" title={`sha256 ${lib.sha256}`}>
                      sha256 {lib.sha256.slice(0, 12)}…
                    </code>
                  </div>
                ))}
          </dd>
        </div>
      </dl>
    </details>
  );
}

/** Fork the session up to this execution: a new session replays the history up to here. */
function ForkButton({ ex }: { ex: Execution }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const fork = useMutation({
    mutationFn: () => api.forkSession(ex.session_id, ex.id),
    onSuccess: (f) => {
      const diverged = f.diverged.length === 0 ? 'none diverged' : `${f.diverged.length} diverged`;
      toast.success(`Forked into session ${shortId(f.session.id)}: ${plural(f.replayed, 'execution')} replayed, ${diverged}.`);
      void queryClient.invalidateQueries({ queryKey: ['sessions'] });
      navigate(`/history/${f.session.id}`);
    },
    onError: (err) => toast.error(err, 'Fork failed'),
  });
  return (
    <button
      type="button"
      className="btn btn-small"
      onClick={() => fork.mutate()}
      disabled={fork.isPending}
      title="Start a new session from this session's template snapshot and replay its successful executions up to and including this one"
      data-testid="history-fork"
    >
      {fork.isPending ? 'Forking…' : 'Fork from here'}
    </button>
  );
}

function ExecutionDetail({ ex, session }: { ex: Execution; session: Session | undefined }) {
  const loadIntoWorkbench = () => {
    if (!ex.input) return;
    saveString(DRAFT_KEY, ex.input);
    navigate(`/workbench/${ex.session_id}`);
  };
  return (
    <div className="execution-detail" data-testid="execution-detail">
      <dl className="facts">
        <div>
          <dt>Execution</dt>
          <dd>
            <code>{ex.id}</code>
          </dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{absoluteTime(ex.started_at)}</dd>
        </div>
        <div>
          <dt>Ended</dt>
          <dd>{absoluteTime(ex.ended_at)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(ex.metrics?.duration_ms)}</dd>
        </div>
      </dl>
      {ex.kind === 'run_file' ? (
        <p>
          File <code>{ex.path}</code> with args <code className="wrap">{JSON.stringify(ex.args ?? {})}</code>
        </p>
      ) : ex.kind === 'startup' ? (
        <p>
          Startup file <code data-testid="history-startup-path">{ex.path}</code>
        </p>
      ) : (
        ex.input && <pre className="code-block">{ex.input}</pre>
      )}
      <div className="detail-actions" data-testid="history-detail-actions">
        {ex.input && ex.kind === 'repl' && session?.status === 'ready' && (
          <button type="button" className="btn btn-small" onClick={loadIntoWorkbench} data-testid="history-load-input">
            Open this input in the workbench
          </button>
        )}
        {(ex.kind === 'repl' || ex.kind === 'run_file') && ex.status === 'ok' && <ForkButton ex={ex} />}
      </div>
      {ex.replay_of && (
        <p className="muted small" data-testid="history-replay-of">
          Replay of execution <code title={ex.replay_of}>{shortId(ex.replay_of)}</code>
        </p>
      )}
      {ex.result && <ValueView value={ex.result} />}
      {ex.error && <ErrorView error={ex.error} limits={session?.template_snapshot?.settings?.limits} />}
      {ex.provenance && <ProvenanceView provenance={ex.provenance} />}
      <h3>Events</h3>
      <EventLog executionId={ex.id} running={ex.status === 'running'} />
    </div>
  );
}

function SessionHistory({ session, sessionId }: { session: Session | undefined; sessionId: string }) {
  const [limit, setLimit] = useState(EXECUTIONS_PAGE);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const live = useLiveSession(sessionId, session?.status === 'ready' || session?.status === 'starting');
  const q = useQuery({
    queryKey: keys.executions(sessionId, limit),
    queryFn: () => api.listExecutions({ session_id: sessionId, limit }),
    placeholderData: (prev) => prev,
    // The session stream drives refetches while it is connected; polling is the fallback.
    refetchInterval: (query) => (live !== 'live' && query.state.data?.some((e) => e.status === 'running') ? 2000 : false),
  });
  const toggle = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const liveBadge = (
    <p className="history-live muted small" data-testid="history-live" data-state={live} aria-live="polite">
      {live === 'live'
        ? '● Live: new executions appear as they run.'
        : live === 'connecting'
          ? 'Connecting to the session stream…'
          : live === 'offline'
            ? 'Live updates interrupted; retrying…'
            : 'Not live: the session is not running.'}
    </p>
  );
  if (q.isPending) return <Loading label="Loading executions…" />;
  if (q.isError) return <ErrorAlert error={q.error} onRetry={() => void q.refetch()} />;
  if (q.data.length === 0)
    return (
      <>
        {liveBadge}
        <Empty testId="history-empty">No executions in this session yet.</Empty>
      </>
    );
  return (
    <>
      {liveBadge}
      <div className="table-wrap">
        <table className="table history-table" data-testid="history-table">
          <thead>
            <tr>
              <th scope="col">
                <span className="sr-only">Expand</span>
              </th>
              <th scope="col">Started</th>
              <th scope="col" className="hide-narrow">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">Input</th>
              <th scope="col" className="hide-narrow">Duration</th>
              <th scope="col" className="hide-narrow">Events</th>
            </tr>
          </thead>
          <tbody>
            {q.data.map((ex) => {
              const isOpen = open.has(ex.id);
              return (
                <Fragment key={ex.id}>
                  <tr data-testid="history-row" data-execution-id={ex.id} data-status={ex.status} className={isOpen ? 'is-open' : undefined}>
                    <td>
                      <button
                        type="button"
                        className="btn btn-small btn-ghost"
                        aria-expanded={isOpen}
                        aria-controls={`ex-${ex.id}`}
                        aria-label={`${isOpen ? 'Hide' : 'Show'} events of execution ${shortId(ex.id)}`}
                        onClick={() => toggle(ex.id)}
                        data-testid="history-toggle"
                      >
                        {isOpen ? '▾' : '▸'}
                      </button>
                    </td>
                    <td title={absoluteTime(ex.started_at)}>{relativeTime(ex.started_at)}</td>
                    <td className="hide-narrow">{ex.kind}</td>
                    <td>
                      <StatusBadge status={ex.status} testId="history-status" />
                    </td>
                    <td className="history-input">
                      <code className="history-input-code">{ex.kind === 'repl' ? truncate(ex.input, 80) : ex.path}</code>
                    </td>
                    <td className="num hide-narrow">{formatDuration(ex.metrics?.duration_ms)}</td>
                    <td className="num hide-narrow">{ex.metrics?.event_count ?? '—'}</td>
                  </tr>
                  {isOpen && (
                    <tr className="detail-row" id={`ex-${ex.id}`}>
                      <td colSpan={7}>
                        <ExecutionDetail ex={ex} session={session} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      {q.data.length >= limit && limit < 1000 && (
        <button
          type="button"
          className="btn"
          onClick={() => setLimit((l) => Math.min(1000, l + EXECUTIONS_PAGE))}
          disabled={q.isFetching}
          data-testid="history-load-more"
        >
          {q.isFetching ? 'Loading…' : 'Show older executions'}
        </button>
      )}
    </>
  );
}

const EXPORT_FORMATS: { format: ExportFormat; label: string; title: string }[] = [
  { format: 'ipynb', label: 'ipynb', title: 'Jupyter notebook (nbformat v4, JavaScript)' },
  { format: 'md', label: 'md', title: 'Markdown transcript' },
  { format: 'jsonl', label: 'jsonl', title: 'JSON Lines: one execution with its events a line' },
];

/** Export buttons: the download goes through fetch (with the auth token), then a Blob URL. */
export function ExportMenu({ sessionId }: { sessionId: string }) {
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const [error, setError] = useState<unknown>(null);
  const download = async (format: ExportFormat) => {
    setBusy(format);
    setError(null);
    try {
      const { blob, filename } = await api.exportSession(sessionId, format);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="history-export" data-testid="history-export" role="group" aria-label="Export the session">
      <span className="muted small">Export:</span>{' '}
      {EXPORT_FORMATS.map(({ format, label, title }) => (
        <button
          key={format}
          type="button"
          className="btn btn-small"
          title={title}
          disabled={busy !== null}
          onClick={() => void download(format)}
          data-testid={`history-export-${format}`}
        >
          {busy === format ? 'Exporting…' : label}
        </button>
      ))}
      {error !== null && <ErrorAlert error={error} onDismiss={() => setError(null)} testId="history-export-error" />}
    </div>
  );
}

/** The execution a search hit links to (``?execution=ID``), shown above the session's table. */
function SelectedExecution({ executionId, session }: { executionId: string; session: Session | undefined }) {
  const q = useQuery({ queryKey: ['execution', executionId], queryFn: () => api.getExecution(executionId) });
  return (
    <section className="card" aria-label="Selected execution" data-testid="history-selected">
      <h2>
        Execution <code>{shortId(executionId)}</code>
      </h2>
      {q.isPending ? (
        <Loading label="Loading execution…" />
      ) : q.isError ? (
        <ErrorAlert error={q.error} onRetry={() => void q.refetch()} />
      ) : (
        <ExecutionDetail ex={q.data} session={session} />
      )}
    </section>
  );
}

export function HistoryPage({ sessionId }: { sessionId?: string }) {
  const selected = useLocation().search.get('execution');
  const sessions = useSessions({}, 10000);
  const templates = useTemplates();
  const names = templateNameMap(templates.data);
  const session = sessions.data?.find((s) => s.id === sessionId);
  return (
    <div className="page" data-testid="history-page">
      <header className="page-head">
        <h1>History</h1>
        <p className="lead">Every execution of a session and every event it produced, as stored by the daemon.</p>
        <HistorySearch sessionId={sessionId} />
        <label className="field session-picker">
          <span>Session</span>
          <select
            value={sessionId ?? ''}
            onChange={(e) => navigate(e.target.value ? `/history/${e.target.value}` : '/history')}
            data-testid="history-session-select"
          >
            <option value="">{sessions.isPending ? 'Loading sessions…' : 'Choose a session…'}</option>
            {sessionId && !session && <option value={sessionId}>{shortId(sessionId)}</option>}
            {sessions.data?.map((s) => (
              <option key={s.id} value={s.id}>
                {shortId(s.id)} · {s.status} · {names.get(s.template_id) ?? s.template_snapshot?.name ?? 'template'} · {relativeTime(s.created_at)}
              </option>
            ))}
          </select>
        </label>
        {session && (
          <p className="session-meta">
            <StatusBadge status={session.status} /> <code className="wrap">{session.worktree_path}</code>
            {session.status === 'ready' && (
              <>
                {' '}
                · <Link to={`/workbench/${session.id}`}>open in workbench</Link>
              </>
            )}
            {session.last_error && <span className="last-error"> · {session.last_error}</span>}
          </p>
        )}
        {sessionId && <ExportMenu sessionId={sessionId} />}
      </header>
      {sessions.isError && <ErrorAlert error={sessions.error} onRetry={() => void sessions.refetch()} />}
      {sessionId && selected && <SelectedExecution key={selected} executionId={selected} session={session} />}
      {!sessionId ? (
        <Empty testId="history-no-session">
          {sessions.data && sessions.data.length === 0 ? (
            <>
              There are no sessions yet. <Link to="/sessions">Start one</Link>.
            </>
          ) : (
            'Choose a session to see its executions.'
          )}
        </Empty>
      ) : (
        <section className="card" aria-label="Executions">
          <SessionHistory key={sessionId} session={session} sessionId={sessionId} />
        </section>
      )}
    </div>
  );
}
