import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { templateNameMap, useSessions, useTemplates } from '../api/queries';
import { SESSION_STATUSES, type Session, type SessionStatus } from '../api/types';
import { ErrorAlert } from '../components/ErrorAlert';
import { Empty, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { useToast } from '../components/Toasts';
import { absoluteTime, isAbsolutePath, relativeTime, shortId } from '../lib/format';
import { Link, navigate, useLocation } from '../lib/router';

const WORKTREE_KEY = 'vm-system.last-worktree';

function readStored(key: string): string {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function CreateSessionForm({ preselect }: { preselect: string | null }) {
  const templates = useTemplates();
  const [templateId, setTemplateId] = useState(preselect ?? '');
  const [worktree, setWorktree] = useState(() => readStored(WORKTREE_KEY));
  const [workspace, setWorkspace] = useState('');
  const [commit, setCommit] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const [created, setCreated] = useState<Session | null>(null);
  const queryClient = useQueryClient();
  const toast = useToast();

  useEffect(() => {
    if (preselect) setTemplateId(preselect);
  }, [preselect]);
  useEffect(() => {
    // Default to the first (newest) template once the list is known.
    if (!templateId && templates.data && templates.data.length > 0) setTemplateId(templates.data[0].id);
  }, [templateId, templates.data]);

  const create = useMutation({
    mutationFn: api.createSession,
    onSuccess: (s) => {
      setCreated(s);
      toast.success(`Session ${shortId(s.id)} is ${s.status}.`);
    },
    onSettled: () => {
      // A failed start still leaves a crashed row behind: refresh either way.
      void queryClient.invalidateQueries({ queryKey: ['sessions'] });
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const path = worktree.trim();
    if (!templateId) {
      setInvalid('Choose a template.');
      return;
    }
    // Empty: a managed worktree the daemon creates (filled from the workbench's file panel).
    if (path && !isAbsolutePath(path)) {
      setInvalid('The worktree must be an absolute path to an existing directory on the daemon host, e.g. /srv/project, or empty for a managed one.');
      return;
    }
    setInvalid(null);
    setCreated(null);
    try {
      localStorage.setItem(WORKTREE_KEY, path);
    } catch {
      /* storage unavailable */
    }
    create.mutate({
      template_id: templateId,
      ...(path ? { worktree_path: path } : {}),
      ...(workspace.trim() ? { workspace_id: workspace.trim() } : {}),
      ...(commit.trim() ? { base_commit_oid: commit.trim() } : {}),
    });
  };

  const noTemplates = templates.data && templates.data.length === 0;

  return (
    <section className="card" aria-labelledby="create-session-title">
      <h2 id="create-session-title">New session</h2>
      {noTemplates ? (
        <Empty>
          A session starts from a template. <Link to="/templates">Create a template</Link> first.
        </Empty>
      ) : (
        <form onSubmit={submit} data-testid="session-create-form" noValidate>
          <div className="grid-fields session-fields">
            <label className="field">
              <span>Template</span>
              <select
                value={templateId}
                onChange={(e) => setTemplateId(e.target.value)}
                required
                disabled={templates.isPending}
                data-testid="session-template-select"
              >
                {templates.isPending && <option value="">Loading…</option>}
                {templates.data?.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Worktree (absolute directory on the daemon host; empty: a managed one)</span>
              <input
                value={worktree}
                onChange={(e) => setWorktree(e.target.value)}
                placeholder="empty: managed, or /home/me/project"
                spellCheck={false}
                autoCapitalize="off"
                data-testid="session-worktree-input"
              />
            </label>
          </div>
          <details className="advanced">
            <summary data-testid="session-advanced-toggle">Workspace and commit (optional)</summary>
            <div className="grid-fields">
              <label className="field">
                <span>Workspace ID</span>
                <input value={workspace} onChange={(e) => setWorkspace(e.target.value)} data-testid="session-workspace-input" />
              </label>
              <label className="field">
                <span>Base commit</span>
                <input value={commit} onChange={(e) => setCommit(e.target.value)} spellCheck={false} data-testid="session-commit-input" />
              </label>
            </div>
          </details>
          {invalid && (
            <p className="field-error" role="alert" data-testid="session-create-invalid">
              {invalid}
            </p>
          )}
          <div className="row gap">
            <button type="submit" className="btn btn-primary" disabled={create.isPending || !templateId} data-testid="session-create-submit">
              {create.isPending ? 'Starting session…' : 'Start session'}
            </button>
          </div>
        </form>
      )}
      {templates.isError && <ErrorAlert error={templates.error} title="Could not load templates" />}
      <ErrorAlert error={create.error} title="The session could not start" onDismiss={() => create.reset()} testId="session-create-error" />
      {created && (
        <div className="alert alert-ok" role="status" data-testid="session-created">
          <p>
            Session <code>{shortId(created.id)}</code> is <StatusBadge status={created.status} />.{' '}
            {created.status === 'ready' && (
              <Link to={`/workbench/${created.id}`} data-testid="session-created-open">
                Open it in the workbench
              </Link>
            )}
          </p>
        </div>
      )}
    </section>
  );
}

function CloseButton({ session }: { session: Session }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const close = useMutation({
    mutationFn: () => api.closeSession(session.id),
    onSuccess: (s) => {
      toast.success(`Session ${shortId(s.id)} closed.`);
      void queryClient.invalidateQueries({ queryKey: ['sessions'] });
      void queryClient.invalidateQueries({ queryKey: ['runtime-summary'] });
    },
    onError: (err) => toast.error(err, 'Close failed'),
  });
  return (
    <button
      type="button"
      className="btn btn-small"
      onClick={() => close.mutate()}
      disabled={close.isPending}
      aria-label={`Close session ${shortId(session.id)}`}
      data-testid="session-close"
    >
      {close.isPending ? 'Closing…' : 'Close'}
    </button>
  );
}

function RestartButton({ session }: { session: Session }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const restart = useMutation({
    mutationFn: () => api.restartSession(session.id),
    onSuccess: (s) => {
      toast.success(`Session ${shortId(s.id)} restarted: a fresh runtime, startup files run again.`);
      void queryClient.invalidateQueries({ queryKey: ['sessions'] });
      void queryClient.invalidateQueries({ queryKey: ['runtime-summary'] });
    },
    onError: (err) => toast.error(err, 'Restart failed'),
  });
  return (
    <button
      type="button"
      className="btn btn-small"
      onClick={() => restart.mutate()}
      disabled={restart.isPending}
      aria-label={`Restart session ${shortId(session.id)}`}
      title="A fresh runtime under the same id: globals are gone, startup files run again, history is kept"
      data-testid="session-restart"
    >
      {restart.isPending ? 'Restarting…' : 'Restart'}
    </button>
  );
}

export function SessionsPage() {
  const { search } = useLocation();
  const statusParam = search.get('status');
  const status = SESSION_STATUSES.includes(statusParam as SessionStatus) ? (statusParam as SessionStatus) : undefined;
  const templateFilter = search.get('template');
  const sessions = useSessions({ status, template_id: templateFilter ?? undefined });
  const templates = useTemplates();
  const names = templateNameMap(templates.data);

  const setFilter = (s: SessionStatus | undefined) => {
    const params = new URLSearchParams(search);
    if (s) params.set('status', s);
    else params.delete('status');
    const qs = params.toString();
    navigate(`/sessions${qs ? `?${qs}` : ''}`, { replace: true });
  };
  const clearTemplate = () => {
    const params = new URLSearchParams(search);
    params.delete('template');
    const qs = params.toString();
    navigate(`/sessions${qs ? `?${qs}` : ''}`, { replace: true });
  };

  return (
    <div className="page" data-testid="sessions-page">
      <header className="page-head">
        <h1>Sessions</h1>
        <p className="lead">
          Live JavaScript contexts started from a template and bound to a worktree. State persists across executions until
          the session is closed; a daemon restart ends every session.
        </p>
      </header>
      <CreateSessionForm preselect={templateFilter} />
      <section className="card" aria-labelledby="session-list-title">
        <div className="head-row">
          <h2 id="session-list-title">All sessions</h2>
          <div className="segmented" role="group" aria-label="Filter by status">
            <button type="button" aria-pressed={!status} onClick={() => setFilter(undefined)} data-testid="session-filter-all">
              All
            </button>
            {SESSION_STATUSES.map((s) => (
              <button key={s} type="button" aria-pressed={status === s} onClick={() => setFilter(s)} data-testid={`session-filter-${s}`}>
                {s}
              </button>
            ))}
          </div>
        </div>
        {templateFilter && (
          <p className="filter-chip">
            Template: <strong>{names.get(templateFilter) ?? shortId(templateFilter)}</strong>{' '}
            <button type="button" className="link-button" onClick={clearTemplate} data-testid="session-filter-template-clear">
              show all templates
            </button>
          </p>
        )}
        {sessions.isPending ? (
          <Loading label="Loading sessions…" />
        ) : sessions.isError ? (
          <ErrorAlert error={sessions.error} onRetry={() => void sessions.refetch()} />
        ) : sessions.data.length === 0 ? (
          <Empty testId="sessions-empty">{status ? `No ${status} sessions.` : 'No sessions yet. Start one above.'}</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table responsive" data-testid="sessions-table">
              <thead>
                <tr>
                  <th scope="col">Session</th>
                  <th scope="col">Status</th>
                  <th scope="col">Template</th>
                  <th scope="col">Worktree</th>
                  <th scope="col">Last activity</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {sessions.data.map((s) => (
                  <tr key={s.id} data-testid="session-row" data-session-id={s.id} data-status={s.status}>
                    <td data-label="Session">
                      <code title={s.id}>{shortId(s.id)}</code>
                      {s.workspace_id && <small className="help">workspace {s.workspace_id}</small>}
                    </td>
                    <td data-label="Status">
                      <StatusBadge status={s.status} testId="session-status" />
                      {s.last_error && (
                        <p className={s.status === 'crashed' ? 'last-error' : 'help'} data-testid="session-last-error">
                          {s.last_error}
                        </p>
                      )}
                    </td>
                    <td data-label="Template">
                      <Link to={`/templates/${s.template_id}`}>
                        {names.get(s.template_id) ?? s.template_snapshot?.name ?? shortId(s.template_id)}
                      </Link>
                    </td>
                    <td data-label="Worktree">
                      <code className="wrap">{s.worktree_path}</code>
                    </td>
                    <td data-label="Last activity" title={absoluteTime(s.last_activity_at)} data-testid="session-last-activity">
                      {relativeTime(s.last_activity_at)}
                    </td>
                    <td data-label="Created" title={absoluteTime(s.created_at)}>
                      {relativeTime(s.created_at)}
                    </td>
                    <td className="actions" data-label="Actions">
                      {s.status === 'ready' && (
                        <Link to={`/workbench/${s.id}`} className="btn btn-small btn-primary" data-testid="session-open-workbench">
                          Workbench
                        </Link>
                      )}
                      <Link to={`/history/${s.id}`} className="btn btn-small" data-testid="session-open-history">
                        History
                      </Link>
                      {(s.status === 'ready' || s.status === 'crashed') && <RestartButton session={s} />}
                      {s.status !== 'closed' && <CloseButton session={s} />}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
