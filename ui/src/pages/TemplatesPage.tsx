import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { keys, templateModules, useSessions, useTemplates } from '../api/queries';
import { ErrorAlert } from '../components/ErrorAlert';
import { Empty, Loading } from '../components/States';
import { useToast } from '../components/Toasts';
import { relativeTime, absoluteTime } from '../lib/format';
import { Link, navigate } from '../lib/router';

function CreateTemplateForm() {
  const [name, setName] = useState('');
  const queryClient = useQueryClient();
  const toast = useToast();
  const create = useMutation({
    mutationFn: (n: string) => api.createTemplate({ name: n }),
    onSuccess: (t) => {
      void queryClient.invalidateQueries({ queryKey: keys.templates });
      toast.success(`Created template “${t.name}”.`);
      setName('');
      navigate(`/templates/${t.id}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    if (n) create.mutate(n);
  };
  return (
    <section className="card" aria-labelledby="create-template-title">
      <h2 id="create-template-title">New template</h2>
      <form className="inline-form" onSubmit={submit} data-testid="template-create-form">
        <label className="field grow">
          <span>Name</span>
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            maxLength={200}
            placeholder="e.g. data-scripts"
            data-testid="template-name-input"
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={!name.trim() || create.isPending} data-testid="template-create-submit">
          {create.isPending ? 'Creating…' : 'Create template'}
        </button>
      </form>
      <ErrorAlert error={create.error} onDismiss={() => create.reset()} testId="template-create-error" />
    </section>
  );
}

export function TemplatesPage() {
  const templates = useTemplates();
  const ready = useSessions({ status: 'ready' }, 10000);
  const readyByTemplate = new Map<string, number>();
  for (const s of ready.data ?? []) readyByTemplate.set(s.template_id, (readyByTemplate.get(s.template_id) ?? 0) + 1);

  return (
    <div className="page" data-testid="templates-page">
      <header className="page-head">
        <h1>Templates</h1>
        <p className="lead">
          Runtime profiles: limits, native modules, libraries, capabilities and startup files. Sessions are started from a
          template and keep the settings they were created with.
        </p>
      </header>
      <CreateTemplateForm />
      <section className="card" aria-labelledby="template-list-title">
        <h2 id="template-list-title">All templates</h2>
        {templates.isPending ? (
          <Loading label="Loading templates…" />
        ) : templates.isError ? (
          <ErrorAlert error={templates.error} onRetry={() => void templates.refetch()} />
        ) : templates.data.length === 0 ? (
          <Empty testId="templates-empty">No templates yet. Create one above to define a runtime profile for sessions.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table responsive" data-testid="templates-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Engine</th>
                  <th scope="col">Modules</th>
                  <th scope="col">Libraries</th>
                  <th scope="col">Ready sessions</th>
                  <th scope="col">Updated</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {templates.data.map((t) => (
                  <tr key={t.id} data-testid="template-row" data-template-id={t.id} data-template-name={t.name}>
                    <td data-label="Name">
                      <Link to={`/templates/${t.id}`} data-testid="template-link" className="strong">
                        {t.name}
                      </Link>
                    </td>
                    <td data-label="Engine">
                      <span className="tag">{t.engine}</span>
                    </td>
                    <td data-label="Modules">{templateModules(t).length ? templateModules(t).join(', ') : <span className="muted">none</span>}</td>
                    <td data-label="Libraries">{t.libraries.length ? t.libraries.join(', ') : <span className="muted">none</span>}</td>
                    <td data-label="Ready sessions">{readyByTemplate.get(t.id) ?? <span className="muted">0</span>}</td>
                    <td data-label="Updated" title={absoluteTime(t.updated_at)}>{relativeTime(t.updated_at)}</td>
                    <td className="actions">
                      <Link to={`/sessions?template=${encodeURIComponent(t.id)}`} className="btn btn-small" data-testid="template-new-session">
                        New session
                      </Link>
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
