import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, Suspense } from 'react';
import WorkbenchPage from './WorkbenchPage';
import type { Execution, ExecutionEvent, Session } from '../api/types';
import { click, jsonResponse, render, streamResponse, waitFor, withProviders, type Rendered } from '../test/render';
import { installFakeDaemon, type FakeDaemon } from '../test/fakeDaemon';

// CodeMirror needs layout APIs jsdom lacks; a textarea stands in for it here.
vi.mock('../components/CodeEditor', () => ({
  default: (props: { value: string; onChange: (v: string) => void; onRun?: () => void }) => (
    <textarea data-testid="workbench-editor" value={props.value} onChange={(e) => props.onChange(e.target.value)} />
  ),
}));

const SESSION: Session = {
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
};

const exec = (over: Partial<Execution> = {}): Execution => ({
  id: 'e1',
  session_id: 's1',
  kind: 'repl',
  input: 'x',
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

const ev = (seq: number, type: ExecutionEvent['type'], payload: object): ExecutionEvent =>
  ({ execution_id: 'e1', seq, ts: '2026-11-22T10:00:00.000Z', type, payload }) as ExecutionEvent;
const sse = (e: ExecutionEvent) => `event: ${e.type}\nid: e1:${e.seq}\ndata: ${JSON.stringify(e)}\n\n`;

let daemon: FakeDaemon;
let r: Rendered | null = null;

beforeEach(() => {
  localStorage.clear();
  daemon = installFakeDaemon();
  daemon.on('GET', '/api/v1/sessions/s1', SESSION);
  daemon.on('GET', '/api/v1/sessions?status=ready', [SESSION]);
  daemon.on('GET', '/api/v1/templates', []);
  daemon.on('GET', /\/api\/v1\/executions\/e1\/events\?/, []);
  daemon.on('GET', /\/api\/v1\/sessions\/s1\/files\?/, { path: '.', entries: [], truncated: false });
});

afterEach(() => {
  r?.unmount();
  r = null;
  vi.unstubAllGlobals();
});

async function mount() {
  r = render(withProviders(<Suspense fallback={null}><WorkbenchPage sessionId="s1" /></Suspense>));
  await waitFor(() => r!.byTestId('workbench-editor'));
  await waitFor(() => expect((r!.byTestId('run-button') as HTMLButtonElement).disabled).toBe(false));
  const editor = r!.byTestId('workbench-editor') as HTMLTextAreaElement;
  await act(async () => {
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    setter.call(editor, 'console.log("a"); console.log("b"); ({a: 1})');
    editor.dispatchEvent(new Event('input', { bubbles: true }));
  });
  return r!;
}

describe('WorkbenchPage', () => {
  it('sends the chosen language, which defaults to the template setting', async () => {
    const typed = { ...SESSION, template_snapshot: { settings: { runtime: { language: 'typescript' } } } } as unknown as Session;
    daemon.on('GET', '/api/v1/sessions/s1', typed);
    daemon.on('POST', '/api/v1/executions/repl', () => jsonResponse(exec({ status: 'ok' }), 201));
    daemon.on('GET', '/api/v1/executions/e1', exec({ status: 'ok' }));
    const view = await mount();
    const select = view.byTestId('workbench-language-select') as HTMLSelectElement;
    await waitFor(() => expect(select.value).toBe('typescript'));
    await click(view.byTestId('run-button'));
    await waitFor(() => expect(daemon.calls.filter((c) => c.method === 'POST').length).toBe(1));
    expect((daemon.calls.find((c) => c.method === 'POST')?.body as { language?: string }).language).toBe('typescript');
    await act(async () => {
      select.value = 'javascript';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await waitFor(() => expect((view.byTestId('run-button') as HTMLButtonElement).disabled).toBe(false));
    await click(view.byTestId('run-button'));
    await waitFor(() => expect(daemon.calls.filter((c) => c.method === 'POST').length).toBe(2));
    const posts = daemon.calls.filter((c) => c.method === 'POST');
    expect((posts[1].body as { language?: string }).language).toBe('javascript');
  });

  it('runs a snippet with stream:true, shows live console lines in order and the result tree', async () => {
    daemon.on('POST', '/api/v1/executions/repl', () => jsonResponse(exec(), 202));
    daemon.on('GET', /\/api\/v1\/executions\/e1\/events\/stream/, () =>
      streamResponse([
        sse(ev(1, 'input_echo', { text: 'x' })),
        sse(ev(2, 'console', { level: 'log', text: 'a' })),
        ': keep-alive\n\n',
        sse(ev(3, 'console', { level: 'warn', text: 'b' })),
        sse(ev(4, 'value', { type: 'object', preview: '[object Object]', inspect: '{ a: 1 }', json: { a: 1 } })),
      ]),
    );
    daemon.on('GET', '/api/v1/executions/e1', exec({ status: 'ok', result: { type: 'object', preview: '[object Object]', inspect: '{ a: 1 }', json: { a: 1 } }, metrics: { duration_ms: 1.5, event_count: 4, output_bytes: 2 } }));
    const view = await mount();
    await click(view.byTestId('run-button'));
    await waitFor(() => expect(view.byTestId('execution-status').textContent).toBe('ok'));
    const post = daemon.calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({
      session_id: 's1',
      input: 'console.log("a"); console.log("b"); ({a: 1})',
      stream: true,
      language: 'javascript',
    });
    const lines = view.allByTestId('console-line');
    expect(lines.map((l) => l.querySelector('.console-text')?.textContent)).toEqual(['a', 'b']);
    expect(lines[1].dataset.level).toBe('warn');
    expect(view.byTestId('console-echo').textContent).toContain('x');
    expect(view.byTestId('result-panel').querySelector('[data-testid="json-tree"]')?.textContent).toContain('a: 1');
    expect(view.byTestId('result-inspect').textContent).toBe('{ a: 1 }');
    expect(view.byTestId('execution-metrics').textContent).toContain('1.5 ms');
  });

  it('shows a wall-time timeout plainly', async () => {
    daemon.on('POST', '/api/v1/executions/repl', () => jsonResponse(exec(), 202));
    daemon.on('GET', /\/api\/v1\/executions\/e1\/events\/stream/, () =>
      streamResponse([
        sse(ev(1, 'input_echo', { text: 'while(true){}' })),
        sse(ev(2, 'system', { level: 'error', code: 'WALL_TIME_EXCEEDED', message: 'wall time limit of 200 ms exceeded' })),
      ]),
    );
    daemon.on('GET', '/api/v1/executions/e1', exec({ status: 'timeout', error: { code: 'WALL_TIME_EXCEEDED', message: 'wall time limit of 200 ms exceeded' } }));
    const view = await mount();
    await click(view.byTestId('run-button'));
    await waitFor(() => expect(view.byTestId('execution-status').textContent).toBe('timeout'));
    expect(view.byTestId('system-line').dataset.code).toBe('WALL_TIME_EXCEEDED');
    expect(view.byTestId('result-error-code').textContent).toBe('WALL_TIME_EXCEEDED');
    expect(view.byTestId('result-error-text').textContent).toBe('Wall time limit of 200 ms exceeded');
  });

  it('shows an exception with its stack', async () => {
    daemon.on('POST', '/api/v1/executions/repl', () => jsonResponse(exec(), 202));
    const exc = { name: 'TypeError', message: 'x is not a function', stack: 'TypeError: x is not a function\n    at <repl>:1:1' };
    daemon.on('GET', /\/api\/v1\/executions\/e1\/events\/stream/, () => streamResponse([sse(ev(1, 'exception', exc))]));
    daemon.on('GET', '/api/v1/executions/e1', exec({ status: 'error', error: exc }));
    const view = await mount();
    await click(view.byTestId('run-button'));
    await waitFor(() => expect(view.byTestId('execution-status').textContent).toBe('error'));
    expect(view.byTestId('exception-name').textContent).toBe('TypeError');
    expect(view.byTestId('exception-message').textContent).toBe('x is not a function');
    expect(view.byTestId('exception-stack').textContent).toContain('at <repl>:1:1');
  });

  it('shows an unhandled rejection after the input\'s result', async () => {
    daemon.on('POST', '/api/v1/executions/repl', () => jsonResponse(exec(), 202));
    const exc = {
      name: 'Error',
      message: 'lost',
      stack: 'Error: lost\n    at <anonymous>:1:16',
      unhandled: true,
      result: { type: 'number', preview: '5', inspect: '5', json: 5 },
    };
    daemon.on('GET', /\/api\/v1\/executions\/e1\/events\/stream/, () => streamResponse([sse(ev(1, 'exception', exc))]));
    daemon.on('GET', '/api/v1/executions/e1', exec({ status: 'error', error: exc }));
    const view = await mount();
    await click(view.byTestId('run-button'));
    await waitFor(() => expect(view.byTestId('execution-status').textContent).toBe('error'));
    expect(view.byTestId('unhandled-result').textContent).toContain('5');
    expect(view.byTestId('exception-unhandled').textContent).toBe('unhandled rejection');
    expect(view.byTestId('exception-message').textContent).toBe('lost');
  });

  it('shows API errors with code and message', async () => {
    daemon.on('POST', '/api/v1/executions/repl', () =>
      jsonResponse({ error: { code: 'SESSION_BUSY', message: 'Session is busy', details: { session_id: 's1' } } }, 409),
    );
    const view = await mount();
    await click(view.byTestId('run-button'));
    await waitFor(() => view.byTestId('run-error'));
    expect(view.byTestId('api-error-code').textContent).toBe('SESSION_BUSY');
    expect(view.byTestId('api-error-message').textContent).toBe('Session is busy');
  });

  it('cancels a running execution', async () => {
    let release: () => void = () => {};
    const cancelled = new Promise<void>((res) => (release = res));
    daemon.on('POST', '/api/v1/executions/repl', () => jsonResponse(exec(), 202));
    daemon.on('GET', /\/api\/v1\/executions\/e1\/events\/stream/, () => {
      const enc = new TextEncoder();
      let step = 0;
      return new Response(
        new ReadableStream<Uint8Array>({
          async pull(c) {
            if (step++ === 0) {
              c.enqueue(enc.encode(sse(ev(1, 'input_echo', { text: 'for(;;){}' }))));
              return;
            }
            await cancelled;
            c.enqueue(enc.encode(sse(ev(2, 'system', { level: 'warn', code: 'CANCELLED', message: 'cancelled by request' }))));
            c.close();
          },
        }),
        { status: 200 },
      );
    });
    daemon.on('POST', '/api/v1/executions/e1/cancel', () => {
      release();
      return jsonResponse(exec({ status: 'cancelled' }));
    });
    daemon.on('GET', '/api/v1/executions/e1', exec({ status: 'cancelled', error: { code: 'CANCELLED', message: 'cancelled by request' } }));
    const view = await mount();
    await click(view.byTestId('run-button'));
    await waitFor(() => expect(view.byTestId('execution-status').textContent).toBe('running'));
    await waitFor(() => expect((view.byTestId('cancel-button') as HTMLButtonElement).disabled).toBe(false));
    await click(view.byTestId('cancel-button'));
    await waitFor(() => expect(view.byTestId('execution-status').textContent).toBe('cancelled'));
    expect(view.queryByTestId('cancel-button')).toBeNull();
    expect(daemon.calls.some((c) => c.method === 'POST' && c.path === '/api/v1/executions/e1/cancel')).toBe(true);
  });

  it('lists the worktree, opens a file, saves it and runs it from the file panel', async () => {
    const listing = {
      path: '.',
      entries: [
        { path: 'lib', type: 'directory', size: 0, mtime: 1 },
        { path: 'lib/k.mjs', type: 'file', size: 20, mtime: 1 },
      ],
      truncated: false,
    };
    daemon.on('GET', /\/api\/v1\/sessions\/s1\/files\?/, listing);
    daemon.on('GET', '/api/v1/sessions/s1/files/lib/k.mjs', () => new Response('export const k = 1;', { status: 200 }));
    daemon.on('PUT', '/api/v1/sessions/s1/files/lib/k.mjs', { path: 'lib/k.mjs', type: 'file', size: 20, mtime: 2 });
    daemon.on('POST', '/api/v1/executions/run-file', () => jsonResponse(exec({ kind: 'run_file', status: 'ok', input: null, path: 'lib/k.mjs' }), 201));
    daemon.on('GET', '/api/v1/executions/e1', exec({ kind: 'run_file', status: 'ok', path: 'lib/k.mjs' }));
    const view = await mount();
    await waitFor(() => expect(view.container.querySelectorAll('[data-testid="files-entry"]').length).toBe(2));
    const file = view.container.querySelector('[data-path="lib/k.mjs"] button') as HTMLElement;
    await click(file);
    await waitFor(() => expect((view.byTestId('file-editor-text') as HTMLTextAreaElement).value).toBe('export const k = 1;'));
    const text = view.byTestId('file-editor-text') as HTMLTextAreaElement;
    await act(async () => {
      Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(text, 'export const k = 2;');
      text.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(view.byTestId('file-editor').dataset.dirty).toBe('true');
    await click(view.byTestId('file-run'));
    await waitFor(() => expect(view.byTestId('execution-status').textContent).toBe('ok'));
    const put = daemon.calls.find((c) => c.method === 'PUT');
    expect(put?.body).toBe('export const k = 2;');
    const post = daemon.calls.find((c) => c.method === 'POST');
    expect(post?.body).toMatchObject({ session_id: 's1', path: 'lib/k.mjs' });
    expect(view.byTestId('file-editor').dataset.dirty).toBe('false');
  });

  it('runs a file with args and env', async () => {
    daemon.on('POST', '/api/v1/executions/run-file', () => jsonResponse(exec({ kind: 'run_file', status: 'ok', input: null, path: 'a.js', result: { type: 'number', preview: '3', json: 3 } }), 201));
    daemon.on('GET', '/api/v1/executions/e1', exec({ kind: 'run_file', status: 'ok', result: { type: 'number', preview: '3', json: 3 } }));
    const view = await mount();
    await click(view.byTestId('workbench-mode-file'));
    const setValue = async (id: string, value: string) => {
      const el = view.byTestId(id) as HTMLInputElement | HTMLTextAreaElement;
      const proto = el instanceof HTMLInputElement ? HTMLInputElement.prototype : HTMLTextAreaElement.prototype;
      await act(async () => {
        Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, value);
        el.dispatchEvent(new Event('input', { bubbles: true }));
      });
    };
    await setValue('runfile-path-input', 'a.js');
    await setValue('runfile-args-input', '{"n": 3}');
    await setValue('runfile-env-input', '{"MODE": "test"}');
    await click(view.byTestId('run-button'));
    await waitFor(() => expect(view.byTestId('execution-status').textContent).toBe('ok'));
    const post = daemon.calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({ session_id: 's1', path: 'a.js', args: { n: 3 }, env: { MODE: 'test' }, stream: true });
    expect(view.byTestId('result-preview').textContent).toBe('3');
  });

  it('rejects args that are not a JSON object before calling the API', async () => {
    const view = await mount();
    await click(view.byTestId('workbench-mode-file'));
    const el = view.byTestId('runfile-path-input') as HTMLInputElement;
    await act(async () => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, 'a.js');
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const args = view.byTestId('runfile-args-input') as HTMLTextAreaElement;
    await act(async () => {
      Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(args, '[1, 2]');
      args.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await click(view.byTestId('run-button'));
    expect(view.byTestId('run-invalid').textContent).toContain('must be a JSON object');
    expect(daemon.calls.some((c) => c.method === 'POST')).toBe(false);
  });
});
