// Live history: the session event stream turned into query invalidations.
import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, buildUrl } from './client';
import { toApiError } from './errors';
import { parseEventData, sleep } from './follow';
import { keys } from './queries';
import { streamSse } from './sse';

/** Coalesce bursts: at most one refetch per this many milliseconds. */
const REFRESH_MS = 150;

export type LiveState = 'off' | 'connecting' | 'live' | 'offline';

/**
 * While `enabled`, follow `GET /sessions/{id}/events/stream` and refetch the session's
 * executions (and the event log of each execution that produced events) as events arrive, so
 * executions run from the CLI or another client appear without a reload. A dropped stream is
 * reopened with backoff; the stream ends for good when the session closes or crashes.
 */
export function useLiveSession(sessionId: string, enabled: boolean): LiveState {
  const qc = useQueryClient();
  const [state, setState] = useState<LiveState>('off');
  useEffect(() => {
    if (!enabled) {
      setState('off');
      return;
    }
    const abort = new AbortController();
    const touched = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      void qc.invalidateQueries({ queryKey: ['executions', sessionId] });
      for (const id of touched) void qc.invalidateQueries({ queryKey: keys.events(id) });
      touched.clear();
    };
    const schedule = (executionId?: string) => {
      if (executionId) touched.add(executionId);
      if (timer === null) timer = setTimeout(flush, REFRESH_MS);
    };
    void (async () => {
      let failures = 0;
      while (!abort.signal.aborted) {
        setState('connecting');
        try {
          await streamSse(buildUrl(api.sessionStreamPath(sessionId)), {
            signal: abort.signal,
            onOpen: () => {
              failures = 0;
              setState('live');
              // Anything that happened while (re)connecting.
              schedule();
            },
            onMessage: (msg) => {
              const ev = parseEventData(msg.data);
              if (ev) schedule(ev.execution_id);
            },
          });
          // The server ended the stream: the session closed or crashed.
          schedule();
          void qc.invalidateQueries({ queryKey: ['sessions'] });
          setState('off');
          return;
        } catch (err) {
          if (abort.signal.aborted) return;
          const e = toApiError(err);
          setState('offline');
          if (e.status >= 400 && e.status < 500) return;
          failures++;
          try {
            await sleep(Math.min(250 * 2 ** (failures - 1), 5000), abort.signal);
          } catch {
            return;
          }
        }
      }
    })();
    return () => {
      abort.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [qc, sessionId, enabled]);
  return state;
}
