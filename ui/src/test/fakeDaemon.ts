// A scripted stand-in for the daemon's HTTP API, installed as global fetch in component tests.
import { vi } from 'vitest';
import { jsonResponse } from './render';

export type Handler = (req: { method: string; url: URL; body: unknown; headers: Record<string, string> }) => Response | Promise<Response>;

export interface FakeDaemon {
  calls: { method: string; path: string; body: unknown; headers: Record<string, string> }[];
  on: (method: string, pathAndQuery: string | RegExp, handler: Handler | object) => void;
}

export function installFakeDaemon(): FakeDaemon {
  const routes: { method: string; match: string | RegExp; handler: Handler }[] = [];
  const calls: FakeDaemon['calls'] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://ui.test');
    const method = (init.method ?? 'GET').toUpperCase();
    // JSON bodies are parsed; a raw body (a file the files API writes) stays a string.
    let body: unknown = undefined;
    if (typeof init.body === 'string') {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = init.body;
      }
    }
    const headers = (init.headers ?? {}) as Record<string, string>;
    const pathAndQuery = url.pathname + url.search;
    calls.push({ method, path: pathAndQuery, body, headers });
    // Later registrations win, so a test can override a default.
    for (let i = routes.length - 1; i >= 0; i--) {
      const r = routes[i];
      if (r.method !== method) continue;
      const hit = typeof r.match === 'string' ? r.match === pathAndQuery || r.match === url.pathname : r.match.test(pathAndQuery);
      if (hit) return r.handler({ method, url, body, headers });
    }
    return jsonResponse({ error: { code: 'ROUTE_NOT_FOUND', message: `no fake route for ${method} ${pathAndQuery}` } }, 404);
  });
  vi.stubGlobal('fetch', fetchMock);
  return {
    calls,
    on: (method, match, handler) =>
      routes.push({
        method,
        match,
        handler: typeof handler === 'function' ? (handler as Handler) : () => jsonResponse(handler),
      }),
  };
}
