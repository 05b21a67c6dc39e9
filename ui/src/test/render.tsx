// Minimal render helpers on react-dom (no extra testing library).
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ToastProvider } from '../components/Toasts';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface Rendered {
  container: HTMLElement;
  root: Root;
  unmount: () => void;
  byTestId: (id: string) => HTMLElement;
  allByTestId: (id: string) => HTMLElement[];
  queryByTestId: (id: string) => HTMLElement | null;
}

export function render(ui: ReactNode): Rendered {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  act(() => root.render(ui));
  const allByTestId = (id: string) => Array.from(container.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`));
  return {
    container,
    root,
    unmount: () => {
      act(() => root.unmount());
      container.remove();
    },
    allByTestId,
    queryByTestId: (id) => container.querySelector<HTMLElement>(`[data-testid="${id}"]`),
    byTestId: (id) => {
      const el = container.querySelector<HTMLElement>(`[data-testid="${id}"]`);
      if (!el) throw new Error(`no element with data-testid="${id}"\n${container.innerHTML.slice(0, 2000)}`);
      return el;
    },
  };
}

export function withProviders(ui: ReactNode, client?: QueryClient): ReactNode {
  const qc =
    client ??
    new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
  return (
    <QueryClientProvider client={qc}>
      <ToastProvider>{ui}</ToastProvider>
    </QueryClientProvider>
  );
}

export async function click(el: HTMLElement): Promise<void> {
  await act(async () => {
    el.click();
  });
}

/** Wait until cb stops throwing (or time out), flushing React updates in between. */
export async function waitFor<T>(cb: () => T, timeoutMs = 2000): Promise<T> {
  const start = Date.now();
  let lastErr: unknown;
  for (;;) {
    try {
      return cb();
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() - start > timeoutMs) throw lastErr;
    await act(async () => {
      await new Promise((r) => setTimeout(r, 10));
    });
  }
}

/** A Response whose body streams the given chunks (strings or bytes), one per read. */
export function streamResponse(chunks: (string | Uint8Array)[], init: ResponseInit = {}): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? enc.encode(c) : c);
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' }, ...init });
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}
