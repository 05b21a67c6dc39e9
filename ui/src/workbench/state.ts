// State of one run in the workbench: what was submitted, the events received so far (in seq
// order, each once), the terminal event, and the final execution record.
import type { ApiError } from '../api/errors';
import { isTerminalEvent, statusFromTerminal } from '../api/follow';
import type { Execution, ExecutionEvent, ExecutionStatus, MimeBundle } from '../api/types';

export type RunPhase =
  | 'idle' // nothing run yet
  | 'submitting' // POST in flight
  | 'running' // execution started, following its stream
  | 'finishing' // terminal event seen or stream closed, fetching the final record
  | 'done' // final record known
  | 'failed'; // the request failed before/while running (API error shown)

export interface RunState {
  phase: RunPhase;
  executionId: string | null;
  events: ExecutionEvent[];
  lastSeq: number;
  terminal: ExecutionEvent | null;
  execution: Execution | null;
  status: ExecutionStatus | null;
  error: ApiError | null;
  cancelRequested: boolean;
}

export const initialRunState: RunState = {
  phase: 'idle',
  executionId: null,
  events: [],
  lastSeq: 0,
  terminal: null,
  execution: null,
  status: null,
  error: null,
  cancelRequested: false,
};

export type RunAction =
  | { type: 'submit' }
  | { type: 'started'; execution: Execution }
  | { type: 'events'; events: ExecutionEvent[] }
  | { type: 'streamEnded' }
  | { type: 'finalized'; execution: Execution }
  | { type: 'cancelRequested' }
  | { type: 'failed'; error: ApiError }
  | { type: 'reset' };

export function isActive(state: RunState): boolean {
  return state.phase === 'submitting' || state.phase === 'running' || state.phase === 'finishing';
}

/** Merge new events into a seq-sorted, duplicate-free list. */
export function mergeEvents(current: ExecutionEvent[], incoming: ExecutionEvent[]): ExecutionEvent[] {
  if (incoming.length === 0) return current;
  const sorted = [...incoming].sort((a, b) => a.seq - b.seq);
  const last = current.length ? current[current.length - 1].seq : 0;
  // Fast path: everything is new and after the end (the normal streaming case).
  if (sorted[0].seq > last) {
    const out = current.slice();
    let prev = last;
    for (const ev of sorted) {
      if (ev.seq > prev) {
        out.push(ev);
        prev = ev.seq;
      }
    }
    return out;
  }
  const bySeq = new Map<number, ExecutionEvent>();
  for (const ev of current) bySeq.set(ev.seq, ev);
  for (const ev of sorted) if (!bySeq.has(ev.seq)) bySeq.set(ev.seq, ev);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

export function runReducer(state: RunState, action: RunAction): RunState {
  switch (action.type) {
    case 'submit':
      return { ...initialRunState, phase: 'submitting' };
    case 'started': {
      const ex = action.execution;
      const finished = ex.status !== 'running';
      return {
        ...state,
        phase: finished ? 'finishing' : 'running',
        executionId: ex.id,
        execution: ex,
        status: ex.status,
      };
    }
    case 'events': {
      const own = state.executionId
        ? action.events.filter((e) => !e.execution_id || e.execution_id === state.executionId)
        : action.events;
      if (own.length === 0) return state;
      const events = mergeEvents(state.events, own);
      let terminal = state.terminal;
      let status = state.status;
      let phase = state.phase;
      for (const ev of own) {
        if (!terminal && isTerminalEvent(ev)) {
          terminal = ev;
          const derived = statusFromTerminal(ev);
          // The stored record wins once it is known; until then show what the event implies.
          if (derived && (status === null || status === 'running')) status = derived;
          if (phase === 'running') phase = 'finishing';
        }
      }
      return {
        ...state,
        events,
        lastSeq: events.length ? events[events.length - 1].seq : 0,
        terminal,
        status,
        phase,
      };
    }
    case 'streamEnded':
      return state.phase === 'running' ? { ...state, phase: 'finishing' } : state;
    case 'finalized': {
      const ex = action.execution;
      if (state.executionId && ex.id !== state.executionId) return state;
      return {
        ...state,
        phase: 'done',
        executionId: ex.id,
        execution: ex,
        status: ex.status === 'running' ? (state.status ?? 'running') : ex.status,
      };
    }
    case 'cancelRequested':
      return { ...state, cancelRequested: true };
    case 'failed':
      return { ...state, phase: 'failed', error: action.error };
    case 'reset':
      return initialRunState;
    default:
      return state;
  }
}

export type ConsoleLineKind = 'echo' | 'console' | 'system' | 'display';

export interface ConsoleLine {
  seq: number;
  ts: string;
  kind: ConsoleLineKind;
  level: string;
  text: string;
  code?: string;
  /** The MIME bundle of a `display` line. */
  bundle?: MimeBundle;
}

/** The lines the console panel shows: input echo, console output, display() outputs and system
 * notices, in seq order. */
export function consoleLines(events: ExecutionEvent[]): ConsoleLine[] {
  const out: ConsoleLine[] = [];
  for (const ev of events) {
    switch (ev.type) {
      case 'input_echo':
        out.push({ seq: ev.seq, ts: ev.ts, kind: 'echo', level: 'echo', text: ev.payload.text });
        break;
      case 'console':
        out.push({ seq: ev.seq, ts: ev.ts, kind: 'console', level: ev.payload.level, text: ev.payload.text });
        break;
      case 'display':
        out.push({
          seq: ev.seq,
          ts: ev.ts,
          kind: 'display',
          level: 'display',
          text: String(ev.payload.data['text/plain'] ?? ''),
          bundle: ev.payload.data,
        });
        break;
      case 'system':
        out.push({
          seq: ev.seq,
          ts: ev.ts,
          kind: 'system',
          level: ev.payload.level,
          text: ev.payload.message,
          code: ev.payload.code,
        });
        break;
      default:
        break;
    }
  }
  return out;
}
