// Following one execution's live event stream, resumably.
import { api, buildUrl } from './client';
import { ApiError, toApiError } from './errors';
import { streamSse } from './sse';
import type { ExecutionEvent, ExecutionStatus, SystemCode } from './types';

const TIMEOUT_CODES: ReadonlySet<string> = new Set<SystemCode>(['WALL_TIME_EXCEEDED', 'CPU_TIME_EXCEEDED']);
const TERMINAL_SYSTEM_CODES: ReadonlySet<string> = new Set<SystemCode>([
  'WALL_TIME_EXCEEDED',
  'CPU_TIME_EXCEEDED',
  'MEMORY_LIMIT_EXCEEDED',
  'OUTPUT_LIMIT_EXCEEDED',
  'CANCELLED',
  'DAEMON_RESTARTED',
  'SESSION_CRASHED',
]);

export function isExecutionEvent(v: unknown): v is ExecutionEvent {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.seq === 'number' && typeof e.type === 'string' && typeof e.payload === 'object' && e.payload !== null;
}

/** Whether an event ends its execution (value, exception, or a limit/cancel/restart system event). */
export function isTerminalEvent(ev: ExecutionEvent): boolean {
  if (ev.type === 'value' || ev.type === 'exception') return true;
  if (ev.type === 'system') return TERMINAL_SYSTEM_CODES.has(ev.payload.code);
  return false;
}

/** The execution status a terminal event implies (the stored row is authoritative). */
export function statusFromTerminal(ev: ExecutionEvent): ExecutionStatus | null {
  switch (ev.type) {
    case 'value':
      return 'ok';
    case 'exception':
      return 'error';
    case 'system':
      if (TIMEOUT_CODES.has(ev.payload.code)) return 'timeout';
      if (ev.payload.code === 'CANCELLED') return 'cancelled';
      return TERMINAL_SYSTEM_CODES.has(ev.payload.code) ? 'error' : null;
    default:
      return null;
  }
}

/** Parse the JSON `data:` of one SSE message into an event, or null when it is not one. */
export function parseEventData(data: string): ExecutionEvent | null {
  if (!data) return null;
  try {
    const v: unknown = JSON.parse(data);
    return isExecutionEvent(v) ? v : null;
  } catch {
    return null;
  }
}

export interface FollowOptions {
  afterSeq?: number;
  signal?: AbortSignal;
  onEvent: (ev: ExecutionEvent) => void;
  /** Reconnect attempts after a dropped connection (default 5). */
  maxRetries?: number;
  /** Test hook: how to wait between reconnects. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface FollowResult {
  lastSeq: number;
  /** True when a terminal event was received before the server closed the stream. */
  sawTerminal: boolean;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException('Aborted', 'AbortError'));
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new DOMException('Aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Follow /executions/{id}/events/stream until the server closes it. Events are delivered once
 * each, in seq order; a dropped connection is resumed with ?after_seq=<last seq>.
 */
export async function followExecution(executionId: string, opts: FollowOptions): Promise<FollowResult> {
  const wait = opts.sleep ?? sleep;
  const maxRetries = opts.maxRetries ?? 5;
  let lastSeq = opts.afterSeq ?? 0;
  let sawTerminal = false;
  let failures = 0;
  for (;;) {
    try {
      await streamSse(buildUrl(api.executionStreamPath(executionId), { after_seq: lastSeq }), {
        signal: opts.signal,
        onOpen: () => {
          failures = 0;
        },
        onMessage: (msg) => {
          const ev = parseEventData(msg.data);
          if (!ev || ev.seq <= lastSeq) return;
          lastSeq = ev.seq;
          if (isTerminalEvent(ev)) sawTerminal = true;
          opts.onEvent(ev);
        },
      });
      return { lastSeq, sawTerminal };
    } catch (err) {
      const e = toApiError(err);
      if (opts.signal?.aborted || e.code === 'ABORTED') throw e;
      // Client errors (404, 401, ...) will not get better by retrying.
      if (e.status >= 400 && e.status < 500) throw e;
      failures++;
      if (failures > maxRetries) throw e;
      await wait(Math.min(200 * 2 ** (failures - 1), 3000), opts.signal);
    }
  }
}

export { ApiError };
