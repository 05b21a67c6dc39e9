import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors';
import type { Execution, ExecutionEvent } from '../api/types';
import { consoleLines, initialRunState, isActive, mergeEvents, runReducer, type RunAction, type RunState } from './state';

const ev = (seq: number, type: ExecutionEvent['type'], payload: object, execution_id = 'e1'): ExecutionEvent =>
  ({ execution_id, seq, ts: `2026-11-22T10:00:00.${String(seq).padStart(3, '0')}Z`, type, payload }) as ExecutionEvent;

const execution = (over: Partial<Execution> = {}): Execution => ({
  id: 'e1',
  session_id: 's1',
  kind: 'repl',
  input: '1+1',
  path: null,
  args: {},
  env: {},
  status: 'running',
  started_at: '2026-11-22T10:00:00.000Z',
  ended_at: null,
  result: null,
  error: null,
  metrics: {},
  ...over,
});

const reduce = (actions: RunAction[], from: RunState = initialRunState) => actions.reduce(runReducer, from);

describe('runReducer', () => {
  it('goes submit -> running -> finishing -> done with the stored status', () => {
    let s = reduce([{ type: 'submit' }]);
    expect(s.phase).toBe('submitting');
    expect(isActive(s)).toBe(true);
    s = runReducer(s, { type: 'started', execution: execution() });
    expect(s).toMatchObject({ phase: 'running', executionId: 'e1', status: 'running' });
    s = runReducer(s, { type: 'events', events: [ev(1, 'input_echo', { text: '1+1' })] });
    expect(s.phase).toBe('running');
    s = runReducer(s, { type: 'events', events: [ev(2, 'value', { type: 'number', preview: '2', json: 2 })] });
    expect(s).toMatchObject({ phase: 'finishing', status: 'ok' });
    expect(s.terminal?.seq).toBe(2);
    s = runReducer(s, {
      type: 'finalized',
      execution: execution({ status: 'ok', result: { type: 'number', preview: '2', json: 2 } }),
    });
    expect(s).toMatchObject({ phase: 'done', status: 'ok' });
    expect(isActive(s)).toBe(false);
  });

  it('appends console lines in seq order and drops duplicates', () => {
    let s = reduce([{ type: 'submit' }, { type: 'started', execution: execution() }]);
    s = runReducer(s, { type: 'events', events: [ev(1, 'input_echo', { text: 'x' }), ev(2, 'console', { level: 'log', text: 'a' })] });
    // A replay after reconnecting, plus later events out of order within the batch.
    s = runReducer(s, {
      type: 'events',
      events: [ev(4, 'console', { level: 'warn', text: 'c' }), ev(2, 'console', { level: 'log', text: 'a' }), ev(3, 'console', { level: 'log', text: 'b' })],
    });
    expect(s.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(s.lastSeq).toBe(4);
    expect(consoleLines(s.events).map((l) => [l.kind, l.text])).toEqual([
      ['echo', 'x'],
      ['console', 'a'],
      ['console', 'b'],
      ['console', 'c'],
    ]);
  });

  it('fills a gap with an earlier event (backfill after the stream)', () => {
    const merged = mergeEvents([ev(1, 'console', { level: 'log', text: 'a' }), ev(3, 'console', { level: 'log', text: 'c' })], [
      ev(2, 'console', { level: 'log', text: 'b' }),
      ev(3, 'console', { level: 'log', text: 'c' }),
    ]);
    expect(merged.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('ignores events of another execution', () => {
    let s = reduce([{ type: 'submit' }, { type: 'started', execution: execution() }]);
    s = runReducer(s, { type: 'events', events: [ev(1, 'console', { level: 'log', text: 'other' }, 'e2')] });
    expect(s.events).toEqual([]);
  });

  it('shows a timeout from its system event, then the stored record', () => {
    let s = reduce([{ type: 'submit' }, { type: 'started', execution: execution() }]);
    s = runReducer(s, {
      type: 'events',
      events: [ev(1, 'input_echo', { text: 'while(1){}' }), ev(2, 'system', { level: 'error', code: 'WALL_TIME_EXCEEDED', message: 'wall time limit 200 ms exceeded' })],
    });
    expect(s).toMatchObject({ phase: 'finishing', status: 'timeout' });
    expect(consoleLines(s.events)[1]).toMatchObject({ kind: 'system', code: 'WALL_TIME_EXCEEDED' });
    s = runReducer(s, {
      type: 'finalized',
      execution: execution({ status: 'timeout', error: { code: 'WALL_TIME_EXCEEDED', message: 'wall time limit 200 ms exceeded' } }),
    });
    expect(s).toMatchObject({ phase: 'done', status: 'timeout' });
  });

  it('shows a display() bundle as a display line with its text/plain', () => {
    const data = { 'image/svg+xml': '<svg/>', 'text/plain': 'chart' };
    const lines = consoleLines([ev(1, 'display', { data, metadata: {} })]);
    expect(lines).toEqual([{ seq: 1, ts: '2026-11-22T10:00:00.001Z', kind: 'display', level: 'display', text: 'chart', bundle: data }]);
  });

  it('keeps the first terminal event and lets the stored status win', () => {
    let s = reduce([{ type: 'submit' }, { type: 'started', execution: execution() }]);
    s = runReducer(s, { type: 'events', events: [ev(1, 'exception', { name: 'Error', message: 'boom' })] });
    s = runReducer(s, { type: 'events', events: [ev(2, 'system', { level: 'warn', code: 'CANCELLED', message: 'late' })] });
    expect(s.terminal?.type).toBe('exception');
    expect(s.status).toBe('error');
    s = runReducer(s, { type: 'finalized', execution: execution({ status: 'cancelled' }) });
    expect(s.status).toBe('cancelled');
  });

  it('keeps the derived status if the stored row still says running', () => {
    let s = reduce([{ type: 'submit' }, { type: 'started', execution: execution() }]);
    s = runReducer(s, { type: 'events', events: [ev(1, 'value', { type: 'undefined', preview: 'undefined' })] });
    s = runReducer(s, { type: 'finalized', execution: execution({ status: 'running' }) });
    expect(s.status).toBe('ok');
  });

  it('records a failed request and a cancel request', () => {
    let s = reduce([{ type: 'submit' }]);
    s = runReducer(s, { type: 'failed', error: new ApiError(409, 'SESSION_BUSY', 'busy') });
    expect(s.phase).toBe('failed');
    expect(s.error?.code).toBe('SESSION_BUSY');
    expect(isActive(s)).toBe(false);
    s = reduce([{ type: 'submit' }, { type: 'started', execution: execution() }, { type: 'cancelRequested' }]);
    expect(s.cancelRequested).toBe(true);
  });

  it('treats a finished execution returned by the start request as finishing', () => {
    const s = reduce([{ type: 'submit' }, { type: 'started', execution: execution({ status: 'ok' }) }]);
    expect(s).toMatchObject({ phase: 'finishing', status: 'ok' });
  });

  it('moves running to finishing when the stream ends without a terminal event', () => {
    const s = reduce([{ type: 'submit' }, { type: 'started', execution: execution() }, { type: 'streamEnded' }]);
    expect(s.phase).toBe('finishing');
  });

  it('starts over on submit and reset', () => {
    let s = reduce([{ type: 'submit' }, { type: 'started', execution: execution() }]);
    s = runReducer(s, { type: 'events', events: [ev(1, 'console', { level: 'log', text: 'a' })] });
    expect(runReducer(s, { type: 'submit' }).events).toEqual([]);
    expect(runReducer(s, { type: 'reset' })).toEqual(initialRunState);
  });
});
