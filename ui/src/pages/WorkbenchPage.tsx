import { lazy, Suspense, useCallback, useEffect, useState, type KeyboardEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { keys, templateNameMap, useSessions, useTemplates } from '../api/queries';
import type { JsonObject, Language } from '../api/types';
import { ErrorAlert } from '../components/ErrorAlert';
import { Empty, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { useToast } from '../components/Toasts';
import { relativeTime, shortId } from '../lib/format';
import { Link, navigate } from '../lib/router';
import { DRAFT_KEY, LAST_SESSION_KEY, RUNFILE_KEY, loadString, saveString } from '../lib/storage';
import { ConsolePanel } from '../workbench/ConsolePanel';
import { FilesPanel } from '../workbench/FilesPanel';
import { RecoveryBanner } from '../workbench/RecoveryBanner';
import { ResultPanel } from '../workbench/ResultPanel';
import { useRunner } from '../workbench/useRunner';

const CodeEditor = lazy(() => import('../components/CodeEditor'));

const DEFAULT_CODE = `// Runs in the session's global scope; state persists between runs.
const items = [3, 1, 2];
console.log('sorted:', items.slice().sort());
({ total: items.reduce((a, b) => a + b, 0), items })
`;

type Mode = 'repl' | 'run_file';

interface RunFileDraft {
  path: string;
  args: string;
  env: string;
}

function loadRunFileDraft(): RunFileDraft {
  try {
    const v = JSON.parse(loadString(RUNFILE_KEY, '{}')) as Partial<RunFileDraft>;
    return { path: v.path ?? '', args: v.args ?? '{}', env: v.env ?? '{}' };
  } catch {
    return { path: '', args: '{}', env: '{}' };
  }
}

/** Parse a JSON object typed by the user; returns the object or an error message. */
export function parseJsonObject(text: string, what: string): JsonObject | string {
  const t = text.trim();
  if (!t) return {};
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (e) {
    return `${what} is not valid JSON: ${(e as Error).message}`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${what} must be a JSON object.`;
  return v as JsonObject;
}

function SessionPicker({ sessionId }: { sessionId?: string }) {
  const ready = useSessions({ status: 'ready' });
  const templates = useTemplates();
  const names = templateNameMap(templates.data);
  const options = ready.data ?? [];
  const current = sessionId && !options.some((s) => s.id === sessionId) ? [{ id: sessionId, template_id: '' }] : [];
  return (
    <label className="field session-picker">
      <span>Session</span>
      <select
        value={sessionId ?? ''}
        onChange={(e) => navigate(e.target.value ? `/workbench/${e.target.value}` : '/workbench')}
        data-testid="workbench-session-select"
        disabled={ready.isPending}
      >
        <option value="">{ready.isPending ? 'Loading sessions…' : options.length ? 'Choose a ready session…' : 'No ready sessions'}</option>
        {current.map((s) => (
          <option key={s.id} value={s.id}>
            {shortId(s.id)} (not ready)
          </option>
        ))}
        {options.map((s) => (
          <option key={s.id} value={s.id}>
            {shortId(s.id)} · {names.get(s.template_id) ?? s.template_snapshot?.name ?? 'template'} · {s.worktree_path}
          </option>
        ))}
      </select>
    </label>
  );
}

export default function WorkbenchPage({ sessionId }: { sessionId?: string }) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<Mode>('repl');
  const [code, setCode] = useState(() => loadString(DRAFT_KEY, DEFAULT_CODE));
  const [runFile, setRunFile] = useState<RunFileDraft>(loadRunFileDraft);
  const [invalid, setInvalid] = useState<string | null>(null);
  // null: the template's settings.runtime.language.
  const [chosenLanguage, setChosenLanguage] = useState<Language | null>(null);
  const { state, run, cancel, reset, active } = useRunner();

  const session = useQuery({
    queryKey: keys.session(sessionId ?? ''),
    queryFn: () => api.getSession(sessionId!),
    enabled: !!sessionId,
    refetchInterval: 10000,
  });
  const limits = session.data?.template_snapshot?.settings?.limits;
  const language: Language = chosenLanguage ?? session.data?.template_snapshot?.settings?.runtime?.language ?? 'javascript';

  // Without a session in the URL, reopen the last one used if it is still ready.
  const ready = useSessions({ status: 'ready' });
  useEffect(() => {
    if (sessionId || !ready.data) return;
    const last = loadString(LAST_SESSION_KEY);
    if (last && ready.data.some((s) => s.id === last)) navigate(`/workbench/${last}`, { replace: true });
  }, [sessionId, ready.data]);

  useEffect(() => {
    if (sessionId) saveString(LAST_SESSION_KEY, sessionId);
    reset();
  }, [sessionId, reset]);

  useEffect(() => saveString(DRAFT_KEY, code), [code]);
  useEffect(() => saveString(RUNFILE_KEY, JSON.stringify(runFile)), [runFile]);

  const isReady = session.data?.status === 'ready';
  const restart = useMutation({
    mutationFn: () => api.restartSession(sessionId!),
    onSuccess: (s) => {
      queryClient.setQueryData(keys.session(s.id), s);
      void queryClient.invalidateQueries({ queryKey: ['sessions'] });
      toast.success(`Session ${shortId(s.id)} restarted: a fresh runtime, startup files run again.`);
    },
    onError: (error) => toast.error(error, 'Restart failed'),
  });

  const doRun = useCallback(() => {
    if (!sessionId || !isReady || active) return;
    if (mode === 'repl') {
      if (!code.trim()) {
        setInvalid('Write some code to run.');
        return;
      }
      setInvalid(null);
      void run({ kind: 'repl', sessionId, input: code, language });
      return;
    }
    const path = runFile.path.trim();
    if (!path) {
      setInvalid('Enter the path of a file inside the worktree.');
      return;
    }
    const args = parseJsonObject(runFile.args, 'Args');
    if (typeof args === 'string') {
      setInvalid(args);
      return;
    }
    const env = parseJsonObject(runFile.env, 'Env');
    if (typeof env === 'string') {
      setInvalid(env);
      return;
    }
    if (Object.values(env).some((v) => typeof v !== 'string')) {
      setInvalid('Env values must be strings.');
      return;
    }
    setInvalid(null);
    void run({ kind: 'run_file', sessionId, path, args, env: env as Record<string, string> });
  }, [sessionId, isReady, active, mode, code, runFile, run, language]);

  // "Save and run" in the file panel: run-file of that path (the File form shows it too).
  const runPath = useCallback(
    (path: string) => {
      if (!sessionId || !isReady || active) return;
      setMode('run_file');
      setRunFile((r) => ({ ...r, path }));
      setInvalid(null);
      void run({ kind: 'run_file', sessionId, path, args: {}, env: {} });
    },
    [sessionId, isReady, active, run],
  );

  const doCancel = async () => {
    const err = await cancel();
    if (err) toast.error(err, 'Cancel failed');
  };

  const onFormKey = (e: KeyboardEvent) => {
    // The editor handles Ctrl/Cmd+Enter itself (and marks the event handled).
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.defaultPrevented) {
      e.preventDefault();
      doRun();
    }
  };

  return (
    <div className="page workbench" data-testid="workbench-page">
      <header className="page-head">
        <h1>Workbench</h1>
        <div className="workbench-bar">
          <SessionPicker sessionId={sessionId} />
          {session.data && (
            <p className="session-meta" data-testid="workbench-session">
              <StatusBadge status={session.data.status} testId="workbench-session-status" />{' '}
              <Link to={`/templates/${session.data.template_id}`}>{session.data.template_snapshot?.name ?? 'template'}</Link> ·{' '}
              <code className="wrap">{session.data.worktree_path}</code>
              {session.data.worktree_managed && <span className="muted"> (managed)</span>} · active {relativeTime(session.data.last_activity_at)} ·{' '}
              <Link to={`/history/${session.data.id}`} data-testid="workbench-history-link">
                history
              </Link>
            </p>
          )}
        </div>
      </header>

      {!sessionId ? (
        <Empty testId="workbench-no-session">
          {ready.data && ready.data.length === 0 ? (
            <>
              No session is ready. <Link to="/sessions">Start a session</Link> from a template, then come back here.
            </>
          ) : (
            'Choose a ready session above to run code in it.'
          )}
        </Empty>
      ) : session.isPending ? (
        <Loading label="Loading session…" />
      ) : session.isError ? (
        <ErrorAlert error={session.error} onRetry={() => void session.refetch()} />
      ) : (
        <>
          {!isReady && (
            <div className="alert alert-warn" role="status" data-testid="workbench-not-ready">
              <p>
                This session is <strong>{session.data.status}</strong> and cannot run code.
                {session.data.last_error && (
                  <>
                    {' '}
                    Last error: <span className="last-error">{session.data.last_error}</span>
                  </>
                )}{' '}
                {session.data.status === 'crashed' ? (
                  <>
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => restart.mutate()}
                      disabled={restart.isPending}
                      data-testid="workbench-restart"
                    >
                      {restart.isPending ? 'Restarting…' : 'Restart'}
                    </button>{' '}
                    it (a fresh runtime under the same id, startup files run again), or{' '}
                    <Link to="/sessions">start a new session</Link>.
                  </>
                ) : (
                  <>
                    <Link to="/sessions">Start a new session</Link>.
                  </>
                )}
              </p>
            </div>
          )}
          {isReady && <RecoveryBanner session={session.data} />}
          <div className="workbench-layout">
          <FilesPanel sessionId={sessionId} ready={isReady} busy={active} onRun={runPath} />
          <div className="workbench-grid">
            <section className="panel editor-panel" aria-labelledby="input-title" onKeyDown={onFormKey}>
              <div className="panel-head">
                <h2 id="input-title">Input</h2>
                <div className="segmented" role="radiogroup" aria-label="What to run">
                  <button type="button" role="radio" aria-checked={mode === 'repl'} onClick={() => setMode('repl')} data-testid="workbench-mode-repl">
                    Snippet
                  </button>
                  <button
                    type="button"
                    role="radio"
                    aria-checked={mode === 'run_file'}
                    onClick={() => setMode('run_file')}
                    data-testid="workbench-mode-file"
                  >
                    File
                  </button>
                </div>
              </div>
              <div className="panel-body">
                {mode === 'repl' ? (
                  <>
                    <label className="field language-picker">
                      <span>Language</span>
                      <select
                        value={language}
                        onChange={(e) => setChosenLanguage(e.target.value as Language)}
                        data-testid="workbench-language-select"
                      >
                        <option value="javascript">JavaScript</option>
                        <option value="typescript">TypeScript</option>
                      </select>
                    </label>
                    <Suspense fallback={<Loading label="Loading editor…" />}>
                      <CodeEditor
                        key={language}
                        value={code}
                        onChange={setCode}
                        onRun={doRun}
                        typescript={language === 'typescript'}
                        complete={
                          sessionId
                            ? (text, cursor, signal) => api.complete(sessionId, text, cursor, signal)
                            : undefined
                        }
                        label={language === 'typescript' ? 'TypeScript code' : 'JavaScript code'}
                      />
                    </Suspense>
                  </>
                ) : (
                  <div className="stack" data-testid="runfile-form">
                    <label className="field">
                      <span>File path (relative to the worktree: a script, an ES or CommonJS module, or TypeScript)</span>
                      <input
                        value={runFile.path}
                        onChange={(e) => setRunFile((r) => ({ ...r, path: e.target.value }))}
                        placeholder="main.ts, app.mjs or scripts/report.js"
                        spellCheck={false}
                        data-testid="runfile-path-input"
                      />
                    </label>
                    <label className="field">
                      <span>
                        Args (JSON object, available as <code>__ARGS__</code>)
                      </span>
                      <textarea
                        className="mono"
                        rows={4}
                        value={runFile.args}
                        onChange={(e) => setRunFile((r) => ({ ...r, args: e.target.value }))}
                        spellCheck={false}
                        data-testid="runfile-args-input"
                      />
                    </label>
                    <label className="field">
                      <span>
                        Env (JSON object of strings, available as <code>process.env</code>)
                      </span>
                      <textarea
                        className="mono"
                        rows={2}
                        value={runFile.env}
                        onChange={(e) => setRunFile((r) => ({ ...r, env: e.target.value }))}
                        spellCheck={false}
                        data-testid="runfile-env-input"
                      />
                    </label>
                  </div>
                )}
                {invalid && (
                  <p className="field-error" role="alert" data-testid="run-invalid">
                    {invalid}
                  </p>
                )}
                <div className="row gap run-bar">
                  <button
                    type="button"
                    className="btn btn-primary"
                    onClick={doRun}
                    disabled={!isReady || active}
                    data-testid="run-button"
                    aria-keyshortcuts="Control+Enter Meta+Enter"
                  >
                    {active ? 'Running…' : 'Run'}
                  </button>
                  {active && (
                    <button
                      type="button"
                      className="btn btn-danger"
                      onClick={() => void doCancel()}
                      disabled={!state.executionId || state.cancelRequested}
                      data-testid="cancel-button"
                    >
                      {state.cancelRequested ? 'Cancelling…' : 'Cancel'}
                    </button>
                  )}
                  <span className="muted small">
                    <kbd>Ctrl</kbd>/<kbd>⌘</kbd>+<kbd>Enter</kbd> runs
                  </span>
                  {state.executionId && (
                    <span className="muted small" data-testid="execution-id">
                      execution <code>{shortId(state.executionId)}</code>
                    </span>
                  )}
                </div>
                <ErrorAlert error={state.error} title="Run failed" testId="run-error" />
              </div>
            </section>
            <div className="output-col">
              <ConsolePanel events={state.events} running={active} executionId={state.executionId} limits={limits} />
              <ResultPanel state={state} limits={limits} />
            </div>
          </div>
          </div>
        </>
      )}
    </div>
  );
}
