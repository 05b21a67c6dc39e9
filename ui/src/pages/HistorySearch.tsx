import { useState, type FormEvent, type ReactNode } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import type { ExecutionSearchHit } from '../api/types';
import { ErrorAlert } from '../components/ErrorAlert';
import { Empty, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { absoluteTime, relativeTime, shortId } from '../lib/format';
import { Link } from '../lib/router';

const SEARCH_PAGE = 20;

/** The snippet with its matched words in <mark> (text nodes only: never HTML from the daemon). */
function Snippet({ hit }: { hit: ExecutionSearchHit }) {
  const parts: ReactNode[] = [];
  let at = 0;
  for (const [start, end] of hit.highlights) {
    if (start < at) continue;
    parts.push(hit.snippet.slice(at, start));
    parts.push(<mark key={start}>{hit.snippet.slice(start, end)}</mark>);
    at = end;
  }
  parts.push(hit.snippet.slice(at));
  return <code className="wrap search-snippet">{parts}</code>;
}

function SearchResults({ q, sessionId }: { q: string; sessionId?: string }) {
  const query = useInfiniteQuery({
    queryKey: ['execution-search', q, sessionId ?? ''],
    initialPageParam: 0,
    queryFn: ({ pageParam }) => api.searchExecutions({ q, session_id: sessionId, limit: SEARCH_PAGE, offset: pageParam }),
    getNextPageParam: (last) => last.next_offset ?? undefined,
  });
  if (query.isPending) return <Loading label="Searching…" />;
  if (query.isError) return <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />;
  const hits = query.data.pages.flatMap((p) => p.results);
  if (hits.length === 0) return <Empty testId="search-empty">No finished execution matches “{q}”.</Empty>;
  return (
    <>
      <ol className="search-results" data-testid="search-results">
        {hits.map((hit) => (
          <li key={hit.execution.id} data-testid="search-hit" data-execution-id={hit.execution.id}>
            <Link to={`/history/${hit.session_id}?execution=${hit.execution.id}`} data-testid="search-hit-link">
              <Snippet hit={hit} />
            </Link>
            <div className="muted small">
              <StatusBadge status={hit.execution.status} /> {hit.execution.kind} · session <code>{shortId(hit.session_id)}</code> ·{' '}
              <span title={absoluteTime(hit.execution.started_at)}>{relativeTime(hit.execution.started_at)}</span>
            </div>
          </li>
        ))}
      </ol>
      {query.hasNextPage && (
        <button type="button" className="btn btn-small" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage} data-testid="search-load-more">
          {query.isFetchingNextPage ? 'Loading…' : 'More results'}
        </button>
      )}
    </>
  );
}

/** Full-text search of every finished execution (inputs, console text, error messages). */
export function HistorySearch({ sessionId }: { sessionId?: string }) {
  const [text, setText] = useState('');
  const [onlySession, setOnlySession] = useState(false);
  const [submitted, setSubmitted] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(text.trim() || null);
  };
  const scope = onlySession && sessionId ? sessionId : undefined;
  return (
    <section className="history-search" aria-label="Search executions">
      <form className="row gap" role="search" onSubmit={submit}>
        <input
          type="search"
          className="grow"
          aria-label="Search executions"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="Search inputs, console output, errors"
          data-testid="history-search-input"
        />
        {sessionId && (
          <label className="check">
            <input type="checkbox" checked={onlySession} onChange={(e) => setOnlySession(e.target.checked)} data-testid="history-search-session-only" />{' '}
            This session only
          </label>
        )}
        <button type="submit" className="btn btn-small" data-testid="history-search-submit">
          Search
        </button>
        {submitted && (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setSubmitted(null)} data-testid="history-search-clear">
            Clear
          </button>
        )}
      </form>
      {submitted && <SearchResults q={submitted} sessionId={scope} />}
    </section>
  );
}
