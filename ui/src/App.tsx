import { lazy, Suspense, useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './api/client';
import { getToken, onTokenChange, onUnauthorized, setToken } from './api/auth';
import { keys } from './api/queries';
import { TokenPrompt } from './components/TokenPrompt';
import { Loading } from './components/States';
import { Link, matchPath, navigate, useLocation } from './lib/router';
import { TemplatesPage } from './pages/TemplatesPage';
import { TemplateDetailPage } from './pages/TemplateDetailPage';
import { SessionsPage } from './pages/SessionsPage';
import { HistoryPage } from './pages/HistoryPage';
import { SystemPage } from './pages/SystemPage';
import { NotFoundPage } from './pages/NotFoundPage';

// The workbench carries CodeMirror; load it only when it is opened.
const WorkbenchPage = lazy(() => import('./pages/WorkbenchPage'));

const NAV = [
  { to: '/templates', label: 'Templates', id: 'templates' },
  { to: '/sessions', label: 'Sessions', id: 'sessions' },
  { to: '/workbench', label: 'Workbench', id: 'workbench' },
  { to: '/history', label: 'History', id: 'history' },
  { to: '/system', label: 'System', id: 'system' },
];

function useToken(): string | null {
  return useSyncExternalStore(onTokenChange, getToken, () => null);
}

function DaemonStatus() {
  const health = useQuery({ queryKey: keys.health, queryFn: () => api.health(), refetchInterval: 10000, retry: false });
  const state = health.isPending ? 'checking' : health.isError ? 'down' : health.data?.status === 'ok' ? 'up' : 'down';
  const text = state === 'checking' ? 'Checking daemon…' : state === 'up' ? 'Daemon online' : 'Daemon unreachable';
  return (
    <p className={`daemon-status daemon-${state}`} data-testid="daemon-status" data-state={state} role="status">
      <span className="dot" aria-hidden="true" /> {text}
    </p>
  );
}

function Routes({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === '/' || path === '') return null;
  if (path === '/templates') return <TemplatesPage />;
  if ((m = matchPath('/templates/:id', path))) return <TemplateDetailPage key={m.id} id={m.id} />;
  if (path === '/sessions') return <SessionsPage />;
  if (path === '/workbench') return <WorkbenchPage />;
  if ((m = matchPath('/workbench/:sessionId', path))) return <WorkbenchPage sessionId={m.sessionId} />;
  if (path === '/history') return <HistoryPage />;
  if ((m = matchPath('/history/:sessionId', path))) return <HistoryPage sessionId={m.sessionId} />;
  if (path === '/system') return <SystemPage />;
  return <NotFoundPage />;
}

export function App() {
  const { path } = useLocation();
  const queryClient = useQueryClient();
  const token = useToken();
  const [askToken, setAskToken] = useState(false);
  const mainRef = useRef<HTMLElement>(null);
  const firstRender = useRef(true);

  useEffect(() => onUnauthorized(() => setAskToken(true)), []);

  useEffect(() => {
    if (path === '/' || path === '') navigate('/templates', { replace: true });
  }, [path]);

  // Move focus to the new page's heading after client-side navigation (keyboard/screen readers).
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    const t = setTimeout(() => {
      const h = mainRef.current?.querySelector<HTMLElement>('h1');
      if (h) {
        h.tabIndex = -1;
        h.focus({ preventScroll: false });
      }
    }, 0);
    return () => clearTimeout(t);
  }, [path]);

  const onTokenSaved = useCallback(() => {
    setAskToken(false);
    void queryClient.invalidateQueries();
  }, [queryClient]);

  const section = NAV.find((n) => path === n.to || path.startsWith(`${n.to}/`));

  useEffect(() => {
    document.title = section ? `${section.label} · vm-system` : 'vm-system';
  }, [section]);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="sidebar">
        <div className="brand">
          <Link to="/templates" className="brand-link" data-testid="brand">
            <span className="brand-mark" aria-hidden="true">
              ›_
            </span>
            vm-system
          </Link>
        </div>
        <nav aria-label="Main" className="nav">
          <ul>
            {NAV.map((n) => (
              <li key={n.id}>
                <Link
                  to={n.to}
                  className="nav-link"
                  data-testid={`nav-${n.id}`}
                  aria-current={section?.id === n.id ? 'page' : undefined}
                >
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-foot">
          <DaemonStatus />
          {token && (
            <button
              type="button"
              className="link-button small"
              data-testid="token-clear"
              onClick={() => {
                setToken(null);
                void queryClient.invalidateQueries();
              }}
            >
              Forget access token
            </button>
          )}
        </div>
      </header>
      <main id="main" ref={mainRef} className="main" tabIndex={-1}>
        <Suspense fallback={<Loading label="Loading page…" />}>
          <Routes path={path} />
        </Suspense>
      </main>
      {askToken && <TokenPrompt onSaved={onTokenSaved} onClose={() => setAskToken(false)} />}
    </div>
  );
}
