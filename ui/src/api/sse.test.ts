import { describe, expect, it, vi } from 'vitest';
import { SseParser, streamSse, type SseMessage } from './sse';
import { jsonResponse, streamResponse } from '../test/render';
import { setToken } from './auth';

function parseAll(chunks: string[]): SseMessage[] {
  const p = new SseParser();
  const out: SseMessage[] = [];
  for (const c of chunks) out.push(...p.feed(c));
  return out;
}

const STREAM =
  ': keep-alive\n\n' +
  'event: console\nid: abc:1\ndata: {"seq":1,"type":"console"}\n\n' +
  'event: value\r\nid: abc:2\r\ndata: {"seq":2,\r\ndata: "type":"value"}\r\n\r\n';

describe('SseParser', () => {
  it('parses event, id and data fields', () => {
    const msgs = parseAll(['event: console\nid: e1:1\ndata: {"a":1}\n\n']);
    expect(msgs).toEqual([{ event: 'console', id: 'e1:1', data: '{"a":1}' }]);
  });

  it('defaults the event type to "message"', () => {
    expect(parseAll(['data: x\n\n'])[0].event).toBe('message');
  });

  it('joins multi-line data with newlines', () => {
    const msgs = parseAll(['data: line one\ndata: line two\ndata:\ndata:  indented\n\n']);
    expect(msgs[0].data).toBe('line one\nline two\n\n indented');
  });

  it('ignores comments (keep-alives) and blocks without data', () => {
    const msgs = parseAll([': keep-alive\n\n', ':another\n', 'event: ping\n\n', 'data: real\n\n']);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ event: 'message', data: 'real' });
  });

  it('keeps the last id across messages and resets the event type', () => {
    const msgs = parseAll(['event: a\nid: 7\ndata: 1\n\n', 'data: 2\n\n', 'id\ndata: 3\n\n']);
    expect(msgs.map((m) => [m.event, m.id, m.data])).toEqual([
      ['a', '7', '1'],
      ['message', '7', '2'],
      ['message', '', '3'],
    ]);
  });

  it('handles CRLF, CR and LF line endings', () => {
    const msgs = parseAll(['data: a\r\n\r\ndata: b\r\rdata: c\n\n']);
    expect(msgs.map((m) => m.data)).toEqual(['a', 'b', 'c']);
  });

  it('gives the same result however the stream is split into chunks', () => {
    const whole = parseAll([STREAM]);
    expect(whole.map((m) => m.event)).toEqual(['console', 'value']);
    expect(whole[1].data).toBe('{"seq":2,\n"type":"value"}');
    for (let i = 0; i <= STREAM.length; i++) {
      expect(parseAll([STREAM.slice(0, i), STREAM.slice(i)])).toEqual(whole);
    }
    // One character per chunk.
    expect(parseAll(STREAM.split(''))).toEqual(whole);
  });

  it('treats a CR at the end of a chunk followed by LF as one line break', () => {
    const msgs = parseAll(['data: x\r', '\n\r', '\n']);
    expect(msgs).toEqual([{ event: 'message', id: '', data: 'x' }]);
  });

  it('strips only one leading space from values and accepts fields without a space', () => {
    const msgs = parseAll(['event:console\ndata:  two spaces\n\n']);
    expect(msgs[0]).toMatchObject({ event: 'console', data: ' two spaces' });
  });

  it('reads retry, ignores unknown fields and ids containing NUL', () => {
    const p = new SseParser();
    const msgs = p.feed('retry: 3000\nfoo: bar\nid: ok\ndata: 1\n\nid: bad\0id\ndata: 2\n\n');
    expect(msgs[0]).toMatchObject({ retry: 3000, id: 'ok', data: '1' });
    expect(msgs[1].id).toBe('ok');
    expect(p.lastEventId).toBe('ok');
  });

  it('does not dispatch an unterminated message at the end of the stream', () => {
    const p = new SseParser();
    expect(p.feed('data: partial')).toEqual([]);
    expect(p.end()).toEqual([]);
  });
});

describe('streamSse', () => {
  it('decodes UTF-8 split across chunks and delivers messages in order', async () => {
    const bytes = new TextEncoder().encode('data: héllo ✓\n\ndata: two\n\n');
    // Split inside the multi-byte "é" and "✓".
    const chunks = [bytes.slice(0, 8), bytes.slice(8, 16), bytes.slice(16)];
    const fetchMock = vi.fn().mockResolvedValue(streamResponse(chunks));
    vi.stubGlobal('fetch', fetchMock);
    const got: string[] = [];
    await streamSse('/x', { onMessage: (m) => got.push(m.data) });
    expect(got).toEqual(['héllo ✓', 'two']);
    vi.unstubAllGlobals();
  });

  it('sends the bearer token and Accept header', async () => {
    setToken('s3cret');
    const fetchMock = vi.fn().mockResolvedValue(streamResponse([]));
    vi.stubGlobal('fetch', fetchMock);
    await streamSse('/x', { onMessage: () => {} });
    const headers = fetchMock.mock.calls[0][1].headers as Record<string, string>;
    expect(headers.Authorization).toBe('Bearer s3cret');
    expect(headers.Accept).toBe('text/event-stream');
    setToken(null);
    vi.unstubAllGlobals();
  });

  it('rejects with the API error of a failed response', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValue(jsonResponse({ error: { code: 'EXECUTION_NOT_FOUND', message: 'Execution not found' } }, 404)),
    );
    await expect(streamSse('/x', { onMessage: () => {} })).rejects.toMatchObject({
      status: 404,
      code: 'EXECUTION_NOT_FOUND',
    });
    vi.unstubAllGlobals();
  });
});
