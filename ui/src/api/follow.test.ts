import { afterEach, describe, expect, it, vi } from 'vitest';
import { followExecution, isTerminalEvent, parseEventData, statusFromTerminal } from './follow';
import type { ExecutionEvent } from './types';
import { jsonResponse, streamResponse } from '../test/render';

afterEach(() => vi.unstubAllGlobals());

const ev = (seq: number, type: ExecutionEvent['type'], payload: object): ExecutionEvent =>
  ({ execution_id: 'e1', seq, ts: '2026-11-22T10:00:00.000Z', type, payload }) as ExecutionEvent;

const sse = (e: ExecutionEvent) => `event: ${e.type}\nid: e1:${e.seq}\ndata: ${JSON.stringify(e)}\n\n`;

describe('terminal events', () => {
  it('knows which events end an execution and what status they imply', () => {
    expect(isTerminalEvent(ev(1, 'input_echo', { text: 'x' }))).toBe(false);
    expect(isTerminalEvent(ev(2, 'console', { level: 'log', text: 'x' }))).toBe(false);
    expect(statusFromTerminal(ev(3, 'value', { type: 'number', preview: '42', json: 42 }))).toBe('ok');
    expect(statusFromTerminal(ev(3, 'exception', { name: 'Error', message: 'boom' }))).toBe('error');
    const wall = ev(3, 'system', { level: 'error', code: 'WALL_TIME_EXCEEDED', message: 'wall' });
    expect(isTerminalEvent(wall)).toBe(true);
    expect(statusFromTerminal(wall)).toBe('timeout');
    expect(statusFromTerminal(ev(3, 'system', { level: 'warn', code: 'CANCELLED', message: 'c' }))).toBe('cancelled');
    expect(statusFromTerminal(ev(3, 'system', { level: 'error', code: 'MEMORY_LIMIT_EXCEEDED', message: 'm' }))).toBe('error');
    const warning = ev(3, 'system', { level: 'warn', code: 'SOME_WARNING', message: 'w' });
    expect(isTerminalEvent(warning)).toBe(false);
    expect(statusFromTerminal(warning)).toBeNull();
  });

  it('parses event JSON defensively', () => {
    expect(parseEventData('')).toBeNull();
    expect(parseEventData('not json')).toBeNull();
    expect(parseEventData('{"seq":"x"}')).toBeNull();
    expect(parseEventData(JSON.stringify(ev(1, 'console', { level: 'log', text: 'a' })))?.seq).toBe(1);
  });
});

describe('followExecution', () => {
  it('delivers events once, in order, and resumes a dropped stream with after_seq', async () => {
    const e1 = ev(1, 'input_echo', { text: 'x' });
    const e2 = ev(2, 'console', { level: 'log', text: 'a' });
    const e3 = ev(3, 'value', { type: 'number', preview: '1', json: 1 });
    const fetchMock = vi
      .fn()
      // First connection: two events, then the connection breaks.
      .mockResolvedValueOnce(
        new Response(
          new ReadableStream({
            pulls: 0,
            pull(c) {
              if (this.pulls++ === 0) c.enqueue(new TextEncoder().encode(sse(e1) + sse(e2)));
              else c.error(new TypeError('network error'));
            },
          } as UnderlyingDefaultSource<Uint8Array> & { pulls: number }),
          { status: 200 },
        ),
      )
      // Second connection replays e2 (a duplicate) and ends with the terminal event.
      .mockResolvedValueOnce(streamResponse([': keep-alive\n\n', sse(e2), sse(e3)]));
    vi.stubGlobal('fetch', fetchMock);
    const got: number[] = [];
    const res = await followExecution('e1', { onEvent: (e) => got.push(e.seq), sleep: async () => {} });
    expect(got).toEqual([1, 2, 3]);
    expect(res).toEqual({ lastSeq: 3, sawTerminal: true });
    expect(fetchMock.mock.calls[0][0]).toBe('/api/v1/executions/e1/events/stream?after_seq=0');
    expect(fetchMock.mock.calls[1][0]).toBe('/api/v1/executions/e1/events/stream?after_seq=2');
  });

  it('does not retry client errors', async () => {
    const fetchMock = vi.fn().mockResolvedValue(jsonResponse({ error: { code: 'EXECUTION_NOT_FOUND', message: 'nope' } }, 404));
    vi.stubGlobal('fetch', fetchMock);
    await expect(followExecution('e1', { onEvent: () => {}, sleep: async () => {} })).rejects.toMatchObject({
      code: 'EXECUTION_NOT_FOUND',
    });
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('gives up after the retry budget', async () => {
    const fetchMock = vi.fn().mockRejectedValue(new TypeError('Failed to fetch'));
    vi.stubGlobal('fetch', fetchMock);
    await expect(followExecution('e1', { onEvent: () => {}, sleep: async () => {}, maxRetries: 2 })).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
    });
    expect(fetchMock).toHaveBeenCalledTimes(3);
  });
});
