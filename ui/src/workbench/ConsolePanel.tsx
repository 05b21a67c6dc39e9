import { useLayoutEffect, useMemo, useRef } from 'react';
import type { ExecutionEvent, Limits } from '../api/types';
import { outcomeText } from '../lib/outcome';
import { clockTime, plural } from '../lib/format';
import { MimeView } from '../components/MimeView';
import { consoleLines } from './state';

const MAX_LINES = 5000;

export interface ConsolePanelProps {
  events: ExecutionEvent[];
  running: boolean;
  executionId: string | null;
  /** The session's limits, so that a limit line states the limit. */
  limits?: Partial<Limits> | null;
}

/** Live console of the current run: input echo, console calls and system notices in seq order. */
export function ConsolePanel({ events, running, executionId, limits }: ConsolePanelProps) {
  const lines = useMemo(() => consoleLines(events), [events]);
  const hidden = Math.max(0, lines.length - MAX_LINES);
  const shown = hidden ? lines.slice(hidden) : lines;
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  // Where we last scrolled to: the scroll event of our own jump arrives a frame later, when a
  // burst may already have added lines below, and must not read as the user leaving the tail.
  const jumpedTo = useRef(0);
  const lastSeq = shown.length ? shown[shown.length - 1].seq : 0;

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stick.current) {
      el.scrollTop = el.scrollHeight;
      jumpedTo.current = el.scrollTop;
    }
  }, [lastSeq, shown.length, running]);

  return (
    <section className="panel console-panel" aria-labelledby="console-title">
      <div className="panel-head">
        <h2 id="console-title">Console</h2>
        <span className="muted small" data-testid="console-count">
          {plural(lines.filter((l) => l.kind === 'console').length, 'line')}
          {running ? ' · live' : ''}
        </span>
      </div>
      <div
        ref={scroller}
        className="console"
        data-testid="console"
        role="log"
        aria-live="polite"
        aria-label="Console output"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          // Following stops only when the user scrolls up from where we put it.
          stick.current = atBottom || (stick.current && el.scrollTop >= jumpedTo.current - 1);
        }}
      >
        {hidden > 0 && (
          <p className="console-note">
            {plural(hidden, 'earlier line')} not shown here; the full log is in History.
          </p>
        )}
        {shown.length === 0 ? (
          <p className="console-note">{running ? 'Waiting for output…' : executionId ? 'No console output.' : 'Console output appears here.'}</p>
        ) : (
          shown.map((l) =>
            l.kind === 'echo' ? (
              <div key={l.seq} className="console-line console-echo" data-testid="console-echo" data-seq={l.seq}>
                <span className="console-prompt" aria-hidden="true">
                  ›
                </span>
                <span className="console-text">{l.text}</span>
              </div>
            ) : l.kind === 'display' && l.bundle ? (
              <div key={l.seq} className="console-line console-display" data-testid="display-line" data-seq={l.seq}>
                <span className="console-ts">{clockTime(l.ts)}</span>
                <MimeView bundle={l.bundle} />
              </div>
            ) : l.kind === 'system' ? (
              <div key={l.seq} className={`console-line console-system level-${l.level}`} data-testid="system-line" data-code={l.code} data-seq={l.seq}>
                <span className="console-ts">{clockTime(l.ts)}</span>
                <code className="error-code">{l.code}</code>
                <span className="console-text">{l.code ? outcomeText(l.code, l.text, limits) : l.text}</span>
              </div>
            ) : (
              <div key={l.seq} className={`console-line level-${l.level}`} data-testid="console-line" data-level={l.level} data-seq={l.seq}>
                <span className="console-ts">{clockTime(l.ts)}</span>
                {l.level !== 'log' && <span className={`console-level level-${l.level}`}>{l.level}</span>}
                <span className="console-text">{l.text}</span>
              </div>
            ),
          )
        )}
      </div>
    </section>
  );
}
