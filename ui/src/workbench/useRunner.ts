import { useCallback, useEffect, useReducer, useRef } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { ApiError, toApiError } from '../api/errors';
import { followExecution, sleep } from '../api/follow';
import type { Execution, ExecutionEvent, JsonObject, Language } from '../api/types';
import { initialRunState, isActive, runReducer } from './state';

export type RunRequest =
  | { kind: 'repl'; sessionId: string; input: string; language?: Language }
  | { kind: 'run_file'; sessionId: string; path: string; args: JsonObject; env: Record<string, string> };

/** Fetch the stored execution until it leaves `running` (the stream does not wait for the write). */
async function fetchFinal(id: string, signal: AbortSignal): Promise<Execution> {
  let ex = await api.getExecution(id);
  for (let i = 0; ex.status === 'running' && i < 12; i++) {
    await sleep(Math.min(100 * 2 ** i, 1000), signal);
    ex = await api.getExecution(id);
  }
  return ex;
}

export function useRunner() {
  const [state, dispatch] = useReducer(runReducer, initialRunState);
  const abortRef = useRef<AbortController | null>(null);
  const queryClient = useQueryClient();
  const stateRef = useRef(state);
  stateRef.current = state;
  // Set synchronously so that two quick Run presses never start two executions.
  const busyRef = useRef(false);

  useEffect(() => () => abortRef.current?.abort(), []);

  const follow = useCallback(
    async (ex: Execution, signal: AbortSignal) => {
      // Deliver events in small batches so that 10,000 console lines do not mean 10,000 renders.
      let queue: ExecutionEvent[] = [];
      let timer: ReturnType<typeof setTimeout> | null = null;
      const flush = () => {
        timer = null;
        if (queue.length) {
          const batch = queue;
          queue = [];
          dispatch({ type: 'events', events: batch });
        }
      };
      let lastSeq = 0;
      try {
        if (ex.status === 'running') {
          const res = await followExecution(ex.id, {
            signal,
            onEvent: (ev) => {
              queue.push(ev);
              if (!timer) timer = setTimeout(flush, 30);
            },
          });
          lastSeq = res.lastSeq;
        }
        if (timer) clearTimeout(timer);
        flush();
        dispatch({ type: 'streamEnded' });
        // Fill any gap (events the stream did not deliver, or a finished 201 answer).
        for (let page = 0; page < 20; page++) {
          const events = await api.listEvents(ex.id, { after_seq: lastSeq, limit: 10000 });
          if (events.length === 0) break;
          dispatch({ type: 'events', events });
          lastSeq = events[events.length - 1].seq;
          if (events.length < 10000) break;
        }
        const final = await fetchFinal(ex.id, signal);
        dispatch({ type: 'finalized', execution: final });
      } catch (err) {
        if (timer) clearTimeout(timer);
        flush();
        const e = toApiError(err);
        if (e.code !== 'ABORTED' && !signal.aborted) dispatch({ type: 'failed', error: e });
      } finally {
        void queryClient.invalidateQueries({ queryKey: ['executions'] });
        void queryClient.invalidateQueries({ queryKey: ['sessions'] });
      }
    },
    [queryClient],
  );

  const runInner = useCallback(
    async (req: RunRequest) => {
      abortRef.current?.abort();
      const ac = new AbortController();
      abortRef.current = ac;
      dispatch({ type: 'submit' });
      let ex: Execution;
      try {
        ex =
          req.kind === 'repl'
            ? await api.repl({ session_id: req.sessionId, input: req.input, stream: true, language: req.language })
            : await api.runFile({
                session_id: req.sessionId,
                path: req.path,
                args: req.args,
                env: req.env,
                stream: true,
              });
      } catch (err) {
        const e = toApiError(err);
        // The output limit answers 422 with the id of the stored execution: show that execution.
        const execId = e.details?.execution_id;
        if (e instanceof ApiError && e.code === 'OUTPUT_LIMIT_EXCEEDED' && typeof execId === 'string') {
          try {
            const stored = await api.getExecution(execId);
            dispatch({ type: 'started', execution: stored });
            await follow(stored, ac.signal);
            return;
          } catch {
            /* fall through to showing the original error */
          }
        }
        dispatch({ type: 'failed', error: e });
        void queryClient.invalidateQueries({ queryKey: ['sessions'] });
        return;
      }
      dispatch({ type: 'started', execution: ex });
      void queryClient.invalidateQueries({ queryKey: ['executions'] });
      await follow(ex, ac.signal);
    },
    [follow, queryClient],
  );

  const run = useCallback(
    async (req: RunRequest) => {
      if (busyRef.current || isActive(stateRef.current)) return;
      busyRef.current = true;
      try {
        await runInner(req);
      } finally {
        busyRef.current = false;
      }
    },
    [runInner],
  );

  const cancel = useCallback(async (): Promise<ApiError | null> => {
    const id = stateRef.current.executionId;
    if (!id) return null;
    dispatch({ type: 'cancelRequested' });
    try {
      await api.cancelExecution(id);
      return null;
    } catch (err) {
      return toApiError(err);
    }
  }, []);

  const reset = useCallback(() => {
    abortRef.current?.abort();
    dispatch({ type: 'reset' });
  }, []);

  return { state, run, cancel, reset, active: isActive(state) };
}
