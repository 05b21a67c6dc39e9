import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, errorHint, parseApiError, toApiError } from './errors';
import { api, buildUrl, request } from './client';
import { onUnauthorized, setToken } from './auth';
import { jsonResponse } from '../test/render';

afterEach(() => {
  vi.unstubAllGlobals();
  setToken(null);
});

describe('parseApiError', () => {
  it('reads the documented envelope with details', () => {
    const e = parseApiError(
      404,
      '{"error":{"code":"SESSION_NOT_FOUND","message":"Session not found","details":{"session_id":"abc"}}}',
      'req-1',
    );
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(404);
    expect(e.code).toBe('SESSION_NOT_FOUND');
    expect(e.message).toBe('Session not found');
    expect(e.details).toEqual({ session_id: 'abc' });
    expect(e.requestId).toBe('req-1');
  });

  it('accepts an envelope without details', () => {
    const e = parseApiError(409, '{"error":{"code":"TEMPLATE_IN_USE","message":"Template has live sessions"}}');
    expect(e.code).toBe('TEMPLATE_IN_USE');
    expect(e.details).toBeUndefined();
  });

  it('falls back to a status-derived code for non-envelope bodies', () => {
    expect(parseApiError(500, 'Internal Server Error')).toMatchObject({ code: 'INTERNAL', message: 'Internal Server Error' });
    expect(parseApiError(502, '')).toMatchObject({ code: 'INTERNAL', message: 'HTTP 502' });
    expect(parseApiError(404, '<html>nope</html>')).toMatchObject({ code: 'ROUTE_NOT_FOUND', message: 'HTTP 404' });
    expect(parseApiError(422, '{"detail":[{"msg":"bad"}]}')).toMatchObject({ code: 'HTTP_422', message: '[{"msg":"bad"}]' });
    expect(parseApiError(400, '{"detail":"bad body"}')).toMatchObject({ code: 'INVALID_REQUEST', message: 'bad body' });
  });

  it('tolerates an envelope with missing fields', () => {
    expect(parseApiError(401, '{"error":{}}')).toMatchObject({ code: 'UNAUTHORIZED', message: 'HTTP 401' });
  });

  it('explains TEMPLATE_IN_USE', () => {
    expect(errorHint('TEMPLATE_IN_USE')).toMatch(/close its sessions first/i);
  });
});

describe('toApiError', () => {
  it('maps network failures and aborts', () => {
    expect(toApiError(new TypeError('Failed to fetch'))).toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
    expect(toApiError(new DOMException('x', 'AbortError'))).toMatchObject({ code: 'ABORTED' });
    const e = new ApiError(409, 'SESSION_BUSY', 'busy');
    expect(toApiError(e)).toBe(e);
  });
});

describe('request', () => {
  it('builds query strings without empty values', () => {
    expect(buildUrl('/api/v1/sessions', { status: 'ready', template_id: undefined, x: '' })).toBe('/api/v1/sessions?status=ready');
    expect(buildUrl('/api/v1/executions/e1/events', { after_seq: 0, limit: 100 })).toBe(
      '/api/v1/executions/e1/events?after_seq=0&limit=100',
    );
  });

  it('sends JSON with the bearer token and parses the answer', async () => {
    setToken('tok');
    const fetchMock = vi.fn().mockResolvedValue(jsonResponse({ id: 't1', name: 'x' }, 201));
    vi.stubGlobal('fetch', fetchMock);
    const t = await api.createTemplate({ name: 'x' });
    expect(t).toEqual({ id: 't1', name: 'x' });
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/api/v1/templates');
    expect(init.method).toBe('POST');
    expect(init.body).toBe('{"name":"x"}');
    expect(init.headers.Authorization).toBe('Bearer tok');
    expect(init.headers['Content-Type']).toBe('application/json');
  });

  it('encodes path segments', async () => {
    const fetchMock = vi.fn().mockResolvedValue(jsonResponse({ status: 'ok' }));
    vi.stubGlobal('fetch', fetchMock);
    await api.removeLibrary('t1', 'lodash@4.17.21');
    expect(fetchMock.mock.calls[0][0]).toBe('/api/v1/templates/t1/libraries/lodash%404.17.21');
  });

  it('throws ApiError with the envelope code and signals 401s', async () => {
    const seen = vi.fn();
    const off = onUnauthorized(seen);
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValue(
        jsonResponse({ error: { code: 'UNAUTHORIZED', message: 'Missing bearer token' } }, 401, { 'X-Request-Id': 'r9' }),
      ),
    );
    await expect(request('GET', '/api/v1/templates')).rejects.toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'Missing bearer token',
      requestId: 'r9',
    });
    expect(seen).toHaveBeenCalledTimes(1);
    off();
  });

  it('reports an unreachable daemon as NETWORK_ERROR', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    await expect(api.health()).rejects.toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
  });
});
