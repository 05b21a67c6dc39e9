import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act } from 'react';
import { App } from './App';
import { getToken, setToken } from './api/auth';
import type { Execution, ExecutionEvent, Session, Template, TemplateDetail } from './api/types';
import { click, jsonResponse, render, waitFor, withProviders, type Rendered } from './test/render';
import { installFakeDaemon, type FakeDaemon } from './test/fakeDaemon';
import { navigate } from './lib/router';

const TEMPLATE: Template = {
  id: 't1',
  name: 'scripts',
  engine: 'v8',
  is_active: true,
  settings: {
    limits: { wall_ms: 5000, cpu_ms: 2000, mem_mb: 128, max_events: 50000, max_output_kb: 256 },
    runtime: { strict: false, console: true },
    resolver: { roots: ['.'], extensions: ['.js'] },
  },
  exposed_modules: ['fs'],
  libraries: ['lodash@4.17.21'],
  created_at: '2026-11-22T10:00:00.000Z',
  updated_at: '2026-11-22T10:00:00.000Z',
};

const DETAIL: TemplateDetail = { template: TEMPLATE, settings: TEMPLATE.settings, capabilities: [], startup_files: [] };

const session = (over: Partial<Session>): Session => ({
  id: 's1',
  template_id: 't1',
  workspace_id: null,
  base_commit_oid: null,
  worktree_path: '/tmp/wt',
  status: 'ready',
  created_at: '2026-11-22T10:00:00.000Z',
  last_activity_at: '2026-11-22T10:00:00.000Z',
  closed_at: null,
  last_error: null,
  template_snapshot: null,
  ...over,
});

async function setValue(el: HTMLElement, value: string) {
  const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  await act(async () => {
    Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, value);
    el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
  });
}

async function submit(form: HTMLElement) {
  await act(async () => {
    (form as HTMLFormElement).requestSubmit();
  });
}

let daemon: FakeDaemon;
let r: Rendered | null = null;

beforeEach(() => {
  localStorage.clear();
  sessionStorage.clear();
  daemon = installFakeDaemon();
  daemon.on('GET', '/api/v1/health', { status: 'ok' });
  daemon.on('GET', '/api/v1/templates', [TEMPLATE]);
  daemon.on('GET', '/api/v1/templates/t1', DETAIL);
  daemon.on('GET', /^\/api\/v1\/sessions/, []);
  daemon.on('GET', '/api/v1/metadata/modules', [
    { name: 'fs', description: 'Files inside the worktree', functions: ['readFileSync'], capabilities: ['fs:write'] },
    { name: 'exec', description: 'Run allowed commands', functions: ['run'], capabilities: ['exec:run'] },
  ]);
  daemon.on('GET', '/api/v1/metadata/libraries', [
    { name: 'lodash', version: '4.17.21', file: 'lodash.min.js', global: '_', description: 'Utilities', cached: true },
    { name: 'dayjs', version: '1.11.10', file: 'dayjs.min.js', global: 'dayjs', description: 'Dates', cached: false },
  ]);
  daemon.on('GET', '/api/v1/metadata/capabilities', [{ kind: 'exec', name: 'run', description: 'Commands exec.run may start', config_schema: null }]);
});

afterEach(() => {
  r?.unmount();
  r = null;
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

function mountAt(path: string) {
  window.history.replaceState(null, '', path);
  r = render(withProviders(<App />));
  return r;
}

describe('App', () => {
  it('redirects / to templates and lists them', async () => {
    const view = mountAt('/');
    await waitFor(() => expect(window.location.pathname).toBe('/templates'));
    await waitFor(() => view.byTestId('template-row'));
    expect(view.byTestId('template-row').dataset.templateName).toBe('scripts');
    expect(view.byTestId('nav-templates').getAttribute('aria-current')).toBe('page');
    await waitFor(() => expect(view.byTestId('daemon-status').dataset.state).toBe('up'));
  });

  it('asks for a token after a 401 and retries with it', async () => {
    daemon.on('GET', '/api/v1/templates', ({ headers }) =>
      headers.Authorization === 'Bearer letmein'
        ? jsonResponse([TEMPLATE])
        : jsonResponse({ error: { code: 'UNAUTHORIZED', message: 'Missing or invalid bearer token' } }, 401),
    );
    const view = mountAt('/templates');
    await waitFor(() => view.byTestId('token-prompt'));
    expect(view.byTestId('api-error-code').textContent).toBe('UNAUTHORIZED');
    await setValue(view.byTestId('token-input'), 'letmein');
    await click(view.byTestId('token-submit'));
    expect(getToken()).toBe('letmein');
    expect(sessionStorage.getItem('vm-system.auth-token')).toBe('letmein');
    await waitFor(() => view.byTestId('template-row'));
    expect(view.queryByTestId('token-prompt')).toBeNull();
    await act(async () => setToken(null));
  });

  it('creates a template and opens it', async () => {
    daemon.on('POST', '/api/v1/templates', ({ body }) => jsonResponse({ ...TEMPLATE, name: (body as { name: string }).name }, 201));
    const view = mountAt('/templates');
    await setValue(view.byTestId('template-name-input'), 'scripts');
    await submit(view.byTestId('template-create-form'));
    await waitFor(() => expect(window.location.pathname).toBe('/templates/t1'));
    await waitFor(() => view.byTestId('template-detail-name'));
    expect(daemon.calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'scripts' });
  });

  it('shows a duplicate name conflict with its code', async () => {
    daemon.on('POST', '/api/v1/templates', () =>
      jsonResponse({ error: { code: 'CONFLICT', message: 'template name already exists' } }, 409),
    );
    const view = mountAt('/templates');
    await setValue(view.byTestId('template-name-input'), 'scripts');
    await submit(view.byTestId('template-create-form'));
    await waitFor(() => view.byTestId('template-create-error'));
    expect(view.byTestId('template-create-error').dataset.code).toBe('CONFLICT');
  });

  it('saves the unhandled-rejections mode at once', async () => {
    daemon.on('PATCH', '/api/v1/templates/t1', () => jsonResponse(TEMPLATE));
    const view = mountAt('/templates/t1');
    await waitFor(() => view.byTestId('runtime-unhandled-rejections'));
    expect((view.byTestId('runtime-unhandled-rejections') as HTMLSelectElement).value).toBe('throw');
    await setValue(view.byTestId('runtime-unhandled-rejections'), 'warn');
    await waitFor(() => expect(daemon.calls.some((c) => c.method === 'PATCH')).toBe(true));
    expect(daemon.calls.find((c) => c.method === 'PATCH')?.body).toEqual({
      settings: { runtime: { unhandled_rejections: 'warn' } },
    });
  });

  it('saves changed limits with a PATCH of only those keys, and a runtime checkbox at once', async () => {
    daemon.on('PATCH', '/api/v1/templates/t1', () => jsonResponse(TEMPLATE));
    const view = mountAt('/templates/t1');
    await waitFor(() => view.byTestId('limit-input-wall_ms'));
    await click(view.byTestId('runtime-strict'));
    await waitFor(() => expect(daemon.calls.some((c) => c.method === 'PATCH')).toBe(true));
    expect(daemon.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ settings: { runtime: { strict: true } } });
    await setValue(view.byTestId('limit-input-wall_ms'), '200');
    await submit(view.byTestId('limits-form'));
    await waitFor(() => expect(daemon.calls.filter((c) => c.method === 'PATCH').length).toBe(2));
    expect(daemon.calls.filter((c) => c.method === 'PATCH')[1].body).toEqual({ settings: { limits: { wall_ms: 200 } } });
  });

  it('marks every bad limit field at once', async () => {
    const view = mountAt('/templates/t1');
    await waitFor(() => view.byTestId('limit-input-wall_ms'));
    await setValue(view.byTestId('limit-input-wall_ms'), '0');
    await setValue(view.byTestId('limit-input-cpu_ms'), 'x');
    await submit(view.byTestId('limits-form'));
    await waitFor(() => view.byTestId('limits-invalid'));
    expect(view.byTestId('limits-invalid').textContent).toContain('Wall time, CPU time must be whole numbers');
    expect(view.byTestId('limit-input-wall_ms').getAttribute('aria-invalid')).toBe('true');
    expect(view.byTestId('limit-input-cpu_ms').getAttribute('aria-invalid')).toBe('true');
    expect(view.byTestId('limit-input-mem_mb').getAttribute('aria-invalid')).toBeNull();
    expect(daemon.calls.some((c) => c.method === 'PATCH')).toBe(false);
  });

  it('shows modules and the library catalog with cached status, and toggles them', async () => {
    daemon.on('POST', '/api/v1/templates/t1/modules', () => jsonResponse({ template_id: 't1', name: 'exec' }, 201));
    daemon.on('DELETE', '/api/v1/templates/t1/libraries/lodash%404.17.21', () => jsonResponse({ status: 'ok', template_id: 't1', name: 'lodash@4.17.21' }));
    const view = mountAt('/templates/t1');
    await waitFor(() => view.byTestId('module-toggle-exec'));
    expect((view.byTestId('module-toggle-fs') as HTMLInputElement).checked).toBe(true);
    await click(view.byTestId('module-toggle-exec'));
    await waitFor(() => expect(daemon.calls.some((c) => c.method === 'POST' && c.path.endsWith('/modules'))).toBe(true));
    expect(daemon.calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'exec' });

    await waitFor(() => view.byTestId('library-toggle-lodash'));
    expect((view.byTestId('library-toggle-lodash') as HTMLInputElement).checked).toBe(true);
    expect(view.byTestId('library-not-cached')).toBeTruthy();
    await click(view.byTestId('library-toggle-lodash'));
    await waitFor(() => expect(daemon.calls.some((c) => c.method === 'DELETE')).toBe(true));
  });

  it('adds a startup file and a capability', async () => {
    daemon.on('POST', '/api/v1/templates/t1/startup-files', ({ body }) =>
      jsonResponse({ id: 'f1', template_id: 't1', mode: 'eval', ...(body as object) }, 201),
    );
    daemon.on('POST', '/api/v1/templates/t1/capabilities', ({ body }) => jsonResponse({ id: 'c1', template_id: 't1', ...(body as object) }, 201));
    const view = mountAt('/templates/t1');
    await waitFor(() => view.byTestId('startup-path-input'));
    await setValue(view.byTestId('startup-path-input'), 'init.js');
    await setValue(view.byTestId('startup-order-input'), '5');
    await click(view.byTestId('startup-add'));
    await waitFor(() => expect(daemon.calls.some((c) => c.path.endsWith('/startup-files') && c.method === 'POST')).toBe(true));
    expect(daemon.calls.find((c) => c.path.endsWith('/startup-files') && c.method === 'POST')?.body).toEqual({ path: 'init.js', order_index: 5 });

    await waitFor(() => view.byTestId('capability-select'));
    await setValue(view.byTestId('capability-select'), 'exec\u0000run');
    await setValue(view.byTestId('capability-config-input'), '{"allow": ["git"]}');
    await click(view.byTestId('capability-add'));
    await waitFor(() => expect(daemon.calls.some((c) => c.path.endsWith('/capabilities') && c.method === 'POST')).toBe(true));
    expect(daemon.calls.find((c) => c.path.endsWith('/capabilities') && c.method === 'POST')?.body).toEqual({
      kind: 'exec',
      name: 'run',
      enabled: true,
      config: { allow: ['git'] },
    });
  });

  it('explains TEMPLATE_IN_USE when deleting', async () => {
    daemon.on('DELETE', '/api/v1/templates/t1', () =>
      jsonResponse({ error: { code: 'TEMPLATE_IN_USE', message: 'template has 1 live session', details: { template_id: 't1' } } }, 409),
    );
    const view = mountAt('/templates/t1');
    await waitFor(() => view.byTestId('template-delete'));
    await click(view.byTestId('template-delete'));
    await click(view.byTestId('template-delete-confirm'));
    await waitFor(() => view.byTestId('template-delete-error'));
    expect(view.byTestId('template-delete-error').dataset.code).toBe('TEMPLATE_IN_USE');
    expect(view.byTestId('template-delete-error').textContent).toMatch(/close its sessions first/i);
    expect(view.byTestId('template-delete-sessions-link')).toBeTruthy();
  });

  it('lists sessions with status badges, filters by status and shows last_error of crashed ones', async () => {
    const crashed = session({ id: 's2', status: 'crashed', last_error: 'library lodash is not cached' });
    daemon.on('GET', '/api/v1/sessions', [session({}), crashed]);
    daemon.on('GET', '/api/v1/sessions?status=crashed', [crashed]);
    const view = mountAt('/sessions');
    await waitFor(() => expect(view.allByTestId('session-row')).toHaveLength(2));
    expect(view.allByTestId('session-status').map((b) => b.textContent)).toEqual(['ready', 'crashed']);
    expect(view.byTestId('session-last-error').textContent).toBe('library lodash is not cached');
    await click(view.byTestId('session-filter-crashed'));
    expect(window.location.search).toBe('?status=crashed');
    await waitFor(() => expect(view.allByTestId('session-row')).toHaveLength(1));
  });

  it('creates a session from a template with an absolute worktree', async () => {
    daemon.on('POST', '/api/v1/sessions', ({ body }) => jsonResponse(session({ ...(body as object), status: 'ready' }), 201));
    const view = mountAt('/sessions?template=t1');
    await waitFor(() => expect((view.byTestId('session-template-select') as HTMLSelectElement).value).toBe('t1'));
    await setValue(view.byTestId('session-worktree-input'), 'relative/path');
    await submit(view.byTestId('session-create-form'));
    expect(view.byTestId('session-create-invalid').textContent).toContain('absolute path');
    await setValue(view.byTestId('session-worktree-input'), '/srv/project');
    await setValue(view.byTestId('session-workspace-input'), 'ws-1');
    await submit(view.byTestId('session-create-form'));
    await waitFor(() => view.byTestId('session-created'));
    expect(daemon.calls.find((c) => c.method === 'POST')?.body).toEqual({ template_id: 't1', worktree_path: '/srv/project', workspace_id: 'ws-1' });
  });

  it('pages an execution event log with after_seq and limit', async () => {
    const ex: Execution = {
      id: 'e1', session_id: 's1', kind: 'repl', input: 'for (...) console.log(i)', path: null, args: {}, env: {},
      status: 'ok', started_at: '2026-11-22T10:00:00.000Z', ended_at: '2026-11-22T10:00:00.100Z',
      result: { type: 'undefined', preview: 'undefined' }, error: null, metrics: { duration_ms: 3, event_count: 150 },
    };
    const events = (from: number, n: number): ExecutionEvent[] =>
      Array.from({ length: n }, (_, i) => ({ execution_id: 'e1', seq: from + i, ts: '2026-11-22T10:00:00.000Z', type: 'console', payload: { level: 'log', text: `line ${from + i}` } }) as ExecutionEvent);
    daemon.on('GET', '/api/v1/sessions', [session({})]);
    daemon.on('GET', '/api/v1/executions?session_id=s1&limit=50', [ex]);
    daemon.on('GET', '/api/v1/executions/e1/events?after_seq=0&limit=100', events(1, 100));
    daemon.on('GET', '/api/v1/executions/e1/events?after_seq=100&limit=100', events(101, 50));
    const view = mountAt('/history/s1');
    await waitFor(() => view.byTestId('history-row'));
    expect(view.byTestId('history-status').textContent).toBe('ok');
    await click(view.byTestId('history-toggle'));
    await waitFor(() => expect(view.allByTestId('event-row')).toHaveLength(100));
    await click(view.byTestId('events-load-more'));
    await waitFor(() => expect(view.allByTestId('event-row')).toHaveLength(150));
    expect(view.queryByTestId('events-load-more')).toBeNull();
    expect(view.allByTestId('event-row')[149].dataset.seq).toBe('150');
  });

  it('shows health and the runtime summary on the system page', async () => {
    daemon.on('GET', '/api/v1/runtime/summary', {
      active_sessions: 2, active_session_ids: ['s1', 's2'], running_executions: 1, engine: { name: 'v8', version: '14.4' }, version: '0.1.0', uptime_s: 3725,
      db: { url: 'sqlite:///tmp/vm.db', schema_version: '0001' },
    });
    const view = mountAt('/system');
    await waitFor(() => view.byTestId('system-summary'));
    expect(view.byTestId('system-health').textContent).toBe('ok');
    expect(view.byTestId('system-version').textContent).toBe('0.1.0');
    expect(view.byTestId('system-engine').textContent).toBe('v8 14.4');
    expect(view.byTestId('system-active-sessions').textContent).toBe('2');
    expect(view.byTestId('system-running-executions').textContent).toBe('1');
    expect(view.byTestId('system-uptime').textContent).toBe('1 h 2 min');
    expect(view.byTestId('system-link-metrics').getAttribute('href')).toBe('/metrics');
    expect(view.byTestId('system-link-docs').getAttribute('href')).toBe('/docs');
  });

  it('navigates with the nav links and shows a not-found page', async () => {
    const view = mountAt('/nowhere');
    await waitFor(() => view.byTestId('not-found-page'));
    await click(view.byTestId('nav-system'));
    expect(window.location.pathname).toBe('/system');
    await act(async () => navigate('/sessions'));
    await waitFor(() => view.byTestId('sessions-page'));
  });
});
