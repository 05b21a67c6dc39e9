import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import { toApiError } from '../api/errors';
import {
  keys,
  templateModules,
  useCapabilitiesCatalog,
  useLibrariesCatalog,
  useModulesCatalog,
  useSessions,
  useTemplate,
} from '../api/queries';
import {
  LIMIT_KEYS,
  type Capability,
  type JsonObject,
  type Language,
  type LibraryInfo,
  type LimitKey,
  type Settings,
  type SettingsPatch,
  type StartupFile,
  type Template,
  type UnhandledRejections,
} from '../api/types';
import { ErrorAlert } from '../components/ErrorAlert';
import { Empty, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { useToast } from '../components/Toasts';
import { absoluteTime, relativeTime, shortId } from '../lib/format';
import { Link, navigate } from '../lib/router';

const LIMIT_LABELS: Record<LimitKey, { label: string; unit: string; help: string }> = {
  wall_ms: { label: 'Wall time', unit: 'ms', help: 'Real time one execution may take.' },
  cpu_ms: { label: 'CPU time', unit: 'ms', help: 'CPU time of the runtime thread per execution.' },
  mem_mb: { label: 'Memory', unit: 'MB', help: 'JS heap limit of the session.' },
  max_events: { label: 'Events', unit: 'events', help: 'Events one execution may produce.' },
  max_output_kb: { label: 'Output', unit: 'KB', help: 'Console output one execution may produce.' },
};

/** The longest idle timeout a template may set (30 days, as the daemon checks). */
const MAX_IDLE_TIMEOUT_S = 30 * 24 * 3600;

/** The idle-timeout field's text for a stored value (null: empty, the daemon's default). */
function idleText(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

/** Shared invalidation after any change to a template. */
function useTemplateChanged(id: string) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: keys.template(id) }),
      queryClient.invalidateQueries({ queryKey: keys.templates, exact: true }),
    ]).then(() => undefined);
}

/**
 * Checkbox state that follows a toggle at once (optimistic), falls back to the server's
 * value once the change is saved and re-read, and reverts when the change fails.
 */
function useOptimisticSet() {
  const [pending, setPending] = useState<Record<string, boolean>>({});
  return {
    value: (name: string, server: boolean) => pending[name] ?? server,
    set: (name: string, on: boolean) => setPending((p) => ({ ...p, [name]: on })),
    clear: (name: string) =>
      setPending((p) => {
        const { [name]: _drop, ...rest } = p;
        return rest;
      }),
  };
}

// ------------------------------------------------------------------ identity and delete

function IdentityCard({ template }: { template: Template }) {
  const [name, setName] = useState(template.name);
  const changed = useTemplateChanged(template.id);
  const toast = useToast();
  const rename = useMutation({
    mutationFn: (n: string) => api.updateTemplate(template.id, { name: n }),
    onSuccess: (t) => {
      void changed();
      toast.success(`Renamed to “${t.name}”.`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    if (n && n !== template.name) rename.mutate(n);
  };
  return (
    <section className="card" aria-labelledby="identity-title">
      <h2 id="identity-title">Identity</h2>
      <dl className="facts">
        <div>
          <dt>ID</dt>
          <dd>
            <code data-testid="template-id">{template.id}</code>
          </dd>
        </div>
        <div>
          <dt>Engine</dt>
          <dd data-testid="template-engine">{template.engine}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd title={absoluteTime(template.created_at)}>{relativeTime(template.created_at)}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd title={absoluteTime(template.updated_at)}>{relativeTime(template.updated_at)}</dd>
        </div>
      </dl>
      <form className="inline-form" onSubmit={submit} data-testid="template-rename-form">
        <label className="field grow">
          <span>Name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required data-testid="template-rename-input" />
        </label>
        <button
          type="submit"
          className="btn"
          disabled={!name.trim() || name.trim() === template.name || rename.isPending}
          data-testid="template-rename-submit"
        >
          {rename.isPending ? 'Saving…' : 'Rename'}
        </button>
      </form>
      <ErrorAlert error={rename.error} onDismiss={() => rename.reset()} />
    </section>
  );
}

function DeleteTemplate({ template }: { template: Template }) {
  const [confirming, setConfirming] = useState(false);
  const queryClient = useQueryClient();
  const toast = useToast();
  const del = useMutation({
    mutationFn: () => api.deleteTemplate(template.id),
    onSuccess: () => {
      queryClient.removeQueries({ queryKey: keys.template(template.id) });
      void queryClient.invalidateQueries({ queryKey: keys.templates });
      toast.success(`Deleted template “${template.name}”.`);
      navigate('/templates');
    },
    onSettled: () => setConfirming(false),
  });
  const inUse = del.error ? toApiError(del.error).code === 'TEMPLATE_IN_USE' : false;
  // The daemon refuses to delete a template with live sessions: say so before the click.
  const sessions = useSessions({ template_id: template.id });
  const live = (sessions.data ?? []).filter((s) => s.status === 'ready' || s.status === 'starting').length;
  return (
    <div className="danger-zone">
      {!confirming ? (
        <>
          <button
            type="button"
            className="btn btn-danger"
            onClick={() => setConfirming(true)}
            disabled={live > 0}
            aria-describedby={live > 0 ? 'template-delete-why' : undefined}
            data-testid="template-delete"
          >
            Delete template
          </button>
          {live > 0 && (
            <span id="template-delete-why" className="muted small" data-testid="template-delete-why">
              {live === 1 ? '1 session of this template is live' : `${live} sessions of this template are live`}:
              close {live === 1 ? 'it' : 'them'} first (
              <Link
                to={`/sessions?template=${encodeURIComponent(template.id)}`}
                data-testid="template-delete-why-link"
              >
                show {live === 1 ? 'it' : 'them'}
              </Link>
              ).
            </span>
          )}
        </>
      ) : (
        <div className="confirm" role="group" aria-label="Confirm delete">
          <span>Delete “{template.name}”? This cannot be undone.</span>
          <button
            type="button"
            className="btn btn-danger"
            onClick={() => del.mutate()}
            disabled={del.isPending}
            data-testid="template-delete-confirm"
            autoFocus
          >
            {del.isPending ? 'Deleting…' : 'Yes, delete'}
          </button>
          <button type="button" className="btn" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      )}
      <ErrorAlert
        error={del.error}
        title={inUse ? 'This template still has live sessions' : 'Could not delete the template'}
        onDismiss={() => del.reset()}
        testId="template-delete-error"
      />
      {inUse && (
        <p>
          <Link to={`/sessions?template=${encodeURIComponent(template.id)}`} data-testid="template-delete-sessions-link">
            Show the sessions of this template
          </Link>
        </p>
      )}
    </div>
  );
}

// ------------------------------------------------------------------ settings

function SettingsCard({ templateId, settings }: { templateId: string; settings: Settings }) {
  const [limits, setLimits] = useState<Record<LimitKey, string>>(
    () => Object.fromEntries(LIMIT_KEYS.map((k) => [k, String(settings.limits?.[k] ?? '')])) as Record<LimitKey, string>,
  );
  const consoleOn = settings.runtime?.console ?? true;
  const strict = settings.runtime?.strict ?? false;
  const [invalid, setInvalid] = useState<LimitKey[]>([]);
  const storedIdle = idleText(settings.session?.idle_timeout_s);
  const [idle, setIdle] = useState(storedIdle);
  const [idleInvalid, setIdleInvalid] = useState(false);
  const changed = useTemplateChanged(templateId);
  const toast = useToast();
  const save = useMutation({
    mutationFn: (patch: Parameters<typeof api.updateTemplate>[1]) => api.updateTemplate(templateId, patch),
    onSuccess: () => {
      void changed();
      toast.success('Settings saved. New sessions use them; existing sessions keep theirs.');
    },
  });
  // The runtime checkboxes save at once, as the module and library checkboxes do; typed limits
  // save with the button (a half-typed number must not be sent).
  // The runtime checkboxes use the same optimistic state as the module checkboxes: set in the
  // change handler itself, so the controlled box never shows the old value in between.
  const optimistic = useOptimisticSet();
  const toggle = useMutation({
    mutationFn: (runtime: { console?: boolean; strict?: boolean }) => api.updateTemplate(templateId, { settings: { runtime } }),
    onSuccess: () => {
      toast.success('Settings saved. New sessions use them; existing sessions keep theirs.');
    },
    onError: (err) => toast.error(err, 'Settings change failed'),
    onSettled: async (_r, _e, runtime) => {
      await changed();
      for (const name of Object.keys(runtime)) optimistic.clear(name);
    },
  });
  const flip = (name: 'console' | 'strict', on: boolean) => {
    optimistic.set(name, on);
    toggle.mutate({ [name]: on });
  };
  // The REPL language saves at once too; the chosen value shows until the template is read again.
  const [pendingLanguage, setPendingLanguage] = useState<Language | null>(null);
  const setLanguage = useMutation({
    mutationFn: (language: Language) => api.updateTemplate(templateId, { settings: { runtime: { language } } }),
    onSuccess: () => toast.success('Settings saved. New sessions use them; existing sessions keep theirs.'),
    onError: (err) => toast.error(err, 'Settings change failed'),
    onSettled: async () => {
      await changed();
      setPendingLanguage(null);
    },
  });
  const language: Language = pendingLanguage ?? settings.runtime?.language ?? 'javascript';
  // What an unhandled promise rejection does; saved at once, as the language.
  const [pendingRejections, setPendingRejections] = useState<UnhandledRejections | null>(null);
  const setRejections = useMutation({
    mutationFn: (mode: UnhandledRejections) =>
      api.updateTemplate(templateId, { settings: { runtime: { unhandled_rejections: mode } } }),
    onSuccess: () => toast.success('Settings saved. New sessions use them; existing sessions keep theirs.'),
    onError: (err) => toast.error(err, 'Settings change failed'),
    onSettled: async () => {
      await changed();
      setPendingRejections(null);
    },
  });
  const rejections: UnhandledRejections = pendingRejections ?? settings.runtime?.unhandled_rejections ?? 'throw';

  const dirty = LIMIT_KEYS.some((k) => limits[k] !== String(settings.limits?.[k] ?? '')) || idle.trim() !== storedIdle;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed: Partial<Record<LimitKey, number>> = {};
    const bad: LimitKey[] = [];
    for (const k of LIMIT_KEYS) {
      const raw = limits[k].trim();
      const n = Number(raw);
      if (!raw || !Number.isInteger(n) || n <= 0) bad.push(k);
      else if (n !== settings.limits?.[k]) parsed[k] = n;
    }
    // Empty: no idle timeout of the template's own (the daemon's defaults); 0: never.
    const idleRaw = idle.trim();
    const idleValue = idleRaw === '' ? null : Number(idleRaw);
    const idleBad = idleValue !== null && (!Number.isFinite(idleValue) || idleValue < 0 || idleValue > MAX_IDLE_TIMEOUT_S);
    // Every bad field is marked at once, not the first one per submit.
    setInvalid(bad);
    setIdleInvalid(idleBad);
    if (bad.length || idleBad) return;
    const patch: SettingsPatch = {};
    if (Object.keys(parsed).length) patch.limits = parsed;
    if (idleRaw !== storedIdle) patch.session = { idle_timeout_s: idleValue };
    if (!Object.keys(patch).length) return;
    save.mutate({ settings: { ...patch } });
  };

  return (
    <section className="card" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <form onSubmit={submit} data-testid="limits-form" noValidate>
        <fieldset className="fieldset">
          <legend>Limits per execution</legend>
          <div className="grid-fields">
            {LIMIT_KEYS.map((k) => (
              <label key={k} className="field">
                <span>
                  {LIMIT_LABELS[k].label} <span className="muted">({LIMIT_LABELS[k].unit})</span>
                </span>
                <input
                  type="number"
                  inputMode="numeric"
                  min={1}
                  step={1}
                  name={k}
                  value={limits[k]}
                  onChange={(e) => setLimits((l) => ({ ...l, [k]: e.target.value }))}
                  data-testid={`limit-input-${k}`}
                  aria-invalid={invalid.includes(k) || undefined}
                  aria-describedby={invalid.includes(k) ? `help-${k} limits-invalid` : `help-${k}`}
                />
                <small id={`help-${k}`} className="help">
                  {LIMIT_LABELS[k].help} <code>{k}</code>
                </small>
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset className="fieldset">
          <legend>Sessions</legend>
          <label className="field">
            <span>
              Idle timeout <span className="muted">(s)</span>
            </span>
            <input
              type="number"
              inputMode="decimal"
              min={0}
              step="any"
              name="idle_timeout_s"
              placeholder="daemon default"
              value={idle}
              onChange={(e) => setIdle(e.target.value)}
              data-testid="idle-timeout-input"
              aria-invalid={idleInvalid || undefined}
              aria-describedby={idleInvalid ? 'help-idle idle-invalid' : 'help-idle'}
            />
            <small id="help-idle" className="help">
              A session with no execution, completion or file request for this long is closed. 0: never; empty: the
              daemon&apos;s default. <code>session.idle_timeout_s</code>
            </small>
          </label>
        </fieldset>
        <fieldset className="fieldset">
          <legend>Runtime</legend>
          <small className="help">Saved as soon as you tick or clear a box, like modules and libraries.</small>
          <label className="check">
            <input
              type="checkbox"
              checked={optimistic.value('console', consoleOn)}
              disabled={toggle.isPending}
              onChange={(e) => flip('console', e.target.checked)}
              data-testid="runtime-console"
            />
            <span>
              Capture console output <span className="muted">(console)</span>
            </span>
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={optimistic.value('strict', strict)}
              disabled={toggle.isPending}
              onChange={(e) => flip('strict', e.target.checked)}
              data-testid="runtime-strict"
            />
            <span>
              Strict mode <span className="muted">(strict)</span>
            </span>
          </label>
          <label className="field">
            <span>
              REPL input language <span className="muted">(language)</span>
            </span>
            <select
              value={language}
              disabled={setLanguage.isPending}
              onChange={(e) => {
                const next = e.target.value as Language;
                setPendingLanguage(next);
                setLanguage.mutate(next);
              }}
              data-testid="runtime-language"
            >
              <option value="javascript">JavaScript</option>
              <option value="typescript">TypeScript (types stripped)</option>
            </select>
          </label>
          <label className="field">
            <span>
              Unhandled promise rejections <span className="muted">(unhandled_rejections)</span>
            </span>
            <select
              value={rejections}
              disabled={setRejections.isPending}
              onChange={(e) => {
                const next = e.target.value as UnhandledRejections;
                setPendingRejections(next);
                setRejections.mutate(next);
              }}
              data-testid="runtime-unhandled-rejections"
            >
              <option value="throw">Fail the execution (as Node)</option>
              <option value="warn">Print a warning and go on</option>
            </select>
          </label>
        </fieldset>
        {idleInvalid && (
          <p className="field-error" role="alert" id="idle-invalid" data-testid="idle-invalid">
            Idle timeout must be a number of seconds from 0 to {MAX_IDLE_TIMEOUT_S}, or empty.
          </p>
        )}
        {invalid.length > 0 && (
          <p className="field-error" role="alert" id="limits-invalid" data-testid="limits-invalid">
            {invalid.map((k) => LIMIT_LABELS[k].label).join(', ')} must be {invalid.length === 1 ? 'a whole number' : 'whole numbers'}{' '}
            greater than 0.
          </p>
        )}
        <div className="row gap">
          <button type="submit" className="btn btn-primary" disabled={!dirty || save.isPending} data-testid="settings-save">
            {save.isPending ? 'Saving…' : 'Save'}
          </button>
          {dirty && <span className="muted">Unsaved changes</span>}
        </div>
      </form>
      <ErrorAlert error={save.error} onDismiss={() => save.reset()} testId="settings-error" />
    </section>
  );
}

// ------------------------------------------------------------------ modules

function ModulesCard({ template }: { template: Template }) {
  const catalog = useModulesCatalog();
  const enabled = templateModules(template);
  const changed = useTemplateChanged(template.id);
  const toast = useToast();
  const optimistic = useOptimisticSet();
  const toggle = useMutation({
    mutationFn: ({ name, on }: { name: string; on: boolean }) =>
      on ? api.addModule(template.id, name) : api.removeModule(template.id, name),
    onMutate: (v) => optimistic.set(v.name, v.on),
    onSuccess: (_r, v) => {
      toast.success(v.on ? `Module ${v.name} added.` : `Module ${v.name} removed.`);
    },
    onError: (err) => toast.error(err, 'Module change failed'),
    onSettled: async (_r, _e, v) => {
      await changed();
      optimistic.clear(v.name);
    },
  });
  const known = new Set((catalog.data ?? []).map((m) => m.name));
  const extra = enabled.filter((m) => !known.has(m));
  return (
    <section className="card" aria-labelledby="modules-title">
      <h2 id="modules-title">Native modules</h2>
      <p className="muted">
        Modules that <code>require()</code> may load in sessions of this template; everything else is denied. JavaScript
        built-ins (JSON, Math, Date, …) are always available.
      </p>
      {catalog.isPending ? (
        <Loading label="Loading module catalog…" />
      ) : catalog.isError ? (
        <ErrorAlert error={catalog.error} onRetry={() => void catalog.refetch()} />
      ) : (
        <ul className="option-list" data-testid="modules-list">
          {catalog.data.map((m) => {
            const on = optimistic.value(m.name, enabled.includes(m.name));
            return (
              <li key={m.name} data-testid="module-row" data-module={m.name} data-enabled={on}>
                <label className="check">
                  <input
                    type="checkbox"
                    checked={on}
                    disabled={toggle.isPending}
                    onChange={(e) => toggle.mutate({ name: m.name, on: e.target.checked })}
                    data-testid={`module-toggle-${m.name}`}
                  />
                  <span>
                    <strong>{m.name}</strong> — {m.description}
                    {m.functions.length > 0 && (
                      <span className="chips">
                        {m.functions.map((f) => (
                          <code key={f} className="chip">
                            {f}
                          </code>
                        ))}
                      </span>
                    )}
                    {m.capabilities.length > 0 && (
                      <small className="help">Related capabilities: {m.capabilities.join(', ')}</small>
                    )}
                  </span>
                </label>
              </li>
            );
          })}
          {extra.map((name) => (
            <li key={name} data-testid="module-row" data-module={name} data-enabled="true">
              <span>
                <strong>{name}</strong> <span className="muted">(not in the daemon's catalog)</span>
              </span>{' '}
              <button type="button" className="btn btn-small" onClick={() => toggle.mutate({ name, on: false })}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// ------------------------------------------------------------------ libraries

/** Whether a template's library entry (`lodash`, `lodash@4.17.21`, `lodash-4.17.21`) is this catalog item. */
export function libraryMatches(entry: string, lib: Pick<LibraryInfo, 'name' | 'version'>): boolean {
  return entry === lib.name || entry === `${lib.name}@${lib.version}` || entry === `${lib.name}-${lib.version}` || entry.startsWith(`${lib.name}@`);
}

/** How often a running download job is polled. */
const DOWNLOAD_POLL_MS = 300;

/**
 * Download (with progress, cancellable) of one uncached catalog library through the daemon's
 * `POST /libraries/downloads` job; the catalog is refetched when the job ends.
 */
function LibraryDownloadControl({ lib }: { lib: LibraryInfo }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [jobId, setJobId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => api.startLibraryDownload({ names: [`${lib.name}@${lib.version}`] }),
    onSuccess: (job) => setJobId(job.id),
  });
  const job = useQuery({
    queryKey: ['library-downloads', jobId],
    queryFn: () => api.getLibraryDownload(jobId as string),
    enabled: jobId !== null,
    refetchInterval: (q) => (q.state.data?.status === 'running' || q.state.data === undefined ? DOWNLOAD_POLL_MS : false),
  });
  const cancel = useMutation({
    mutationFn: () => api.cancelLibraryDownload(jobId as string),
    onSuccess: (j) => qc.setQueryData(['library-downloads', jobId], j),
    onError: (err) => toast.error(err, 'Cancel failed'),
  });
  const data = job.data;
  const status = data?.status;
  const finished = status !== undefined && status !== 'running';
  const finishedId = finished ? data?.id : undefined;
  useEffect(() => {
    if (finishedId === undefined) return;
    void qc.invalidateQueries({ queryKey: keys.metaLibraries });
    if (status === 'succeeded') {
      // The "added, but it is not cached" warning no longer holds.
      toast.dismissMatching(`Library ${lib.name} added, but it is not cached`);
      toast.success(`Library ${lib.name} downloaded. New sessions can load it.`);
    }
    // Once per finished job: the toast and the catalog refetch must not repeat on re-renders.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [finishedId]);
  const running = start.isPending || (jobId !== null && !finished);
  const state = data?.progress.libraries[0]?.state;
  return (
    <span className="lib-download" data-testid={`library-download-${lib.name}`} data-status={status ?? (running ? 'running' : 'idle')}>
      {running ? (
        <>
          <progress
            max={data?.progress.total ?? 1}
            value={data?.progress.completed ?? 0}
            aria-label={`Downloading ${lib.name}`}
            data-testid="library-download-progress"
          />
          <span className="muted" data-testid="library-download-state">
            {state === 'downloading' ? 'downloading…' : 'starting…'}
          </span>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => cancel.mutate()}
            disabled={jobId === null || cancel.isPending}
            data-testid="library-download-cancel"
          >
            Cancel
          </button>
        </>
      ) : (
        <button
          type="button"
          className="btn btn-small btn-primary"
          onClick={() => start.mutate()}
          data-testid="library-download"
          title={`Download ${lib.name}@${lib.version} into the daemon's cache (npm, verified)`}
        >
          {status === 'failed' || status === 'cancelled' ? 'Retry download' : 'Download'}
        </button>
      )}
      {status === 'cancelled' && (
        <span className="muted" data-testid="library-download-cancelled">
          Download cancelled.
        </span>
      )}
      {start.isError && <ErrorAlert error={start.error} testId="library-download-error" />}
      {status === 'failed' && data?.error && (
        <span className="error-text" role="alert" data-testid="library-download-error" data-code={data.error.code}>
          <code>{data.error.code}</code> {data.error.message}
        </span>
      )}
    </span>
  );
}

function LibrariesCard({ template }: { template: Template }) {
  const catalog = useLibrariesCatalog();
  const entries = template.libraries;
  const changed = useTemplateChanged(template.id);
  const toast = useToast();
  const optimistic = useOptimisticSet();
  const toggle = useMutation({
    mutationFn: ({ name, on }: { name: string; on: boolean; key: string }) =>
      on ? api.addLibrary(template.id, name) : api.removeLibrary(template.id, name),
    onMutate: (v) => optimistic.set(v.key, v.on),
    onSuccess: (_r, v) => {
      const lib = catalog.data?.find((l) => l.name === v.key);
      if (v.on && lib && !lib.cached) {
        toast.success(`Library ${v.name} added, but it is not cached: download it before starting sessions.`);
      } else {
        toast.success(v.on ? `Library ${v.name} added. New sessions load it.` : `Library ${v.name} removed.`);
      }
    },
    onError: (err) => toast.error(err, 'Library change failed'),
    onSettled: async (_r, _e, v) => {
      await changed();
      optimistic.clear(v.key);
    },
  });
  const matched = new Set<string>();
  return (
    <section className="card" aria-labelledby="libraries-title">
      <h2 id="libraries-title">Libraries</h2>
      <p className="muted">
        UMD builds loaded into every new session, in order. A library must be in the daemon's cache before a session can
        load it: <strong>Download</strong> fetches it with npm on the daemon's machine and checks its pinned sha256 (as{' '}
        <code>vm-system libs download NAME</code> does).
      </p>
      {catalog.isPending ? (
        <Loading label="Loading library catalog…" />
      ) : catalog.isError ? (
        <ErrorAlert error={catalog.error} onRetry={() => void catalog.refetch()} />
      ) : catalog.data.length === 0 && entries.length === 0 ? (
        <Empty>The daemon's library catalog is empty.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table responsive" data-testid="libraries-table">
            <thead>
              <tr>
                <th scope="col">Use</th>
                <th scope="col">Library</th>
                <th scope="col">Version</th>
                <th scope="col">Global</th>
                <th scope="col">Cache</th>
              </tr>
            </thead>
            <tbody>
              {catalog.data.map((lib) => {
                const entry = entries.find((e) => libraryMatches(e, lib));
                if (entry) matched.add(entry);
                const on = optimistic.value(lib.name, entry !== undefined);
                return (
                  <tr key={lib.name} data-testid="library-row" data-library={lib.name} data-enabled={on} data-cached={lib.cached}>
                    <td data-label="Use">
                      <input
                        type="checkbox"
                        checked={on}
                        disabled={toggle.isPending}
                        aria-label={`Use ${lib.name}`}
                        onChange={(e) =>
                          toggle.mutate({ name: e.target.checked ? lib.name : (entry ?? lib.name), on: e.target.checked, key: lib.name })
                        }
                        data-testid={`library-toggle-${lib.name}`}
                      />
                    </td>
                    <td data-label="Library" className="lib-name">
                      <strong>{lib.name}</strong>
                      {lib.description && <small className="help">{lib.description}</small>}
                    </td>
                    <td data-label="Version">{lib.version}</td>
                    <td data-label="Global">
                      <code>{lib.global}</code>
                    </td>
                    <td data-label="Cache">
                      {lib.cached ? (
                        <span className="badge badge-ok" data-testid="library-cached">
                          cached
                        </span>
                      ) : (
                        <span className="lib-cache">
                          <span className="badge badge-timeout" data-testid="library-not-cached" title={`Or run: vm-system libs download ${lib.name}`}>
                            not cached
                          </span>
                          <LibraryDownloadControl lib={lib} />
                        </span>
                      )}
                      {on && !lib.cached && (
                        <p className="lib-warning" role="note" data-testid="library-not-cached-warning">
                          Not cached: download it before starting sessions.
                        </p>
                      )}
                    </td>
                  </tr>
                );
              })}
              {entries
                .filter((e) => !matched.has(e))
                .map((e) => (
                  <tr key={e} data-testid="library-row" data-library={e} data-enabled="true">
                    <td>
                      <button type="button" className="btn btn-small" onClick={() => toggle.mutate({ name: e, on: false, key: e })} aria-label={`Remove ${e}`}>
                        Remove
                      </button>
                    </td>
                    <td colSpan={4}>
                      <strong>{e}</strong> <span className="muted">(not in the daemon's catalog)</span>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// ------------------------------------------------------------------ capabilities

function parseConfig(text: string): JsonObject | string {
  const t = text.trim();
  if (!t) return {};
  try {
    const v: unknown = JSON.parse(t);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'Config must be a JSON object, e.g. {"allow": ["git"]}.';
    return v as JsonObject;
  } catch (e) {
    return `Config is not valid JSON: ${(e as Error).message}`;
  }
}

function CapabilitiesCard({ templateId, capabilities }: { templateId: string; capabilities: Capability[] }) {
  const catalog = useCapabilitiesCatalog();
  const [kind, setKind] = useState('');
  const [name, setName] = useState('');
  const [enabled, setEnabled] = useState(true);
  const [config, setConfig] = useState('{}');
  const [invalid, setInvalid] = useState<string | null>(null);
  const changed = useTemplateChanged(templateId);
  const toast = useToast();
  const add = useMutation({
    mutationFn: (body: Parameters<typeof api.addCapability>[1]) => api.addCapability(templateId, body),
    onSuccess: (c) => {
      void changed();
      toast.success(`Capability ${c.kind}:${c.name} added.`);
      setKind('');
      setName('');
      setConfig('{}');
      setEnabled(true);
    },
  });
  const del = useMutation({
    mutationFn: (c: Capability) => api.deleteCapability(templateId, c.id),
    onSuccess: (_r, c) => {
      void changed();
      toast.success(`Capability ${c.kind}:${c.name} deleted.`);
    },
    onError: (err) => toast.error(err, 'Delete failed'),
  });
  const selected = catalog.data?.find((c) => c.kind === kind && c.name === name);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const cfg = parseConfig(config);
    if (typeof cfg === 'string') {
      setInvalid(cfg);
      return;
    }
    if (!kind.trim() || !name.trim()) {
      setInvalid('Kind and name are required.');
      return;
    }
    setInvalid(null);
    add.mutate({ kind: kind.trim(), name: name.trim(), enabled, config: cfg });
  };

  return (
    <section className="card" aria-labelledby="caps-title">
      <h2 id="caps-title">Capabilities</h2>
      <p className="muted">Grants beyond the deny-by-default policy, e.g. writes through fs or the commands exec may run.</p>
      {capabilities.length === 0 ? (
        <Empty testId="capabilities-empty">No capabilities granted.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table responsive" data-testid="capabilities-table">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Name</th>
                <th scope="col">Enabled</th>
                <th scope="col">Config</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {capabilities.map((c) => (
                <tr key={c.id} data-testid="capability-row" data-kind={c.kind} data-name={c.name}>
                  <td data-label="Kind">{c.kind}</td>
                  <td data-label="Name">{c.name}</td>
                  <td data-label="Enabled">{c.enabled ? <span className="badge badge-ok">enabled</span> : <span className="badge badge-muted">disabled</span>}</td>
                  <td data-label="Config">
                    <code className="wrap">{JSON.stringify(c.config)}</code>
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      className="btn btn-small"
                      disabled={del.isPending}
                      onClick={() => del.mutate(c)}
                      aria-label={`Delete capability ${c.kind}:${c.name}`}
                      data-testid="capability-delete"
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form onSubmit={submit} className="subform" data-testid="capability-form" noValidate>
        <h3>Add a capability</h3>
        {catalog.data && catalog.data.length > 0 && (
          <label className="field">
            <span>Known capabilities</span>
            <select
              value={selected ? `${selected.kind}\u0000${selected.name}` : ''}
              onChange={(e) => {
                const [k, n] = e.target.value.split('\u0000');
                setKind(k ?? '');
                setName(n ?? '');
              }}
              data-testid="capability-select"
            >
              <option value="">Choose…</option>
              {catalog.data.map((c) => (
                <option key={`${c.kind}:${c.name}`} value={`${c.kind}\u0000${c.name}`}>
                  {c.kind}:{c.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {catalog.isError && <ErrorAlert error={catalog.error} title="Could not load the capability catalog" />}
        {selected && (
          <div className="help-block" data-testid="capability-description">
            <p>{selected.description}</p>
            {selected.enabled_effect && (
              <p>
                <strong>Enabled:</strong> {selected.enabled_effect}
              </p>
            )}
            {selected.disabled_effect && (
              <p>
                <strong>Without it:</strong> {selected.disabled_effect}
              </p>
            )}
            {selected.config_schema && Object.keys(selected.config_schema).length > 0 && (
              <details>
                <summary>Config schema</summary>
                <pre className="code-block">{JSON.stringify(selected.config_schema, null, 2)}</pre>
              </details>
            )}
          </div>
        )}
        <div className="grid-fields">
          <label className="field">
            <span>Kind</span>
            <input value={kind} onChange={(e) => setKind(e.target.value)} required data-testid="capability-kind-input" />
          </label>
          <label className="field">
            <span>Name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} required data-testid="capability-name-input" />
          </label>
        </div>
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} data-testid="capability-enabled" />
          <span>Enabled</span>
        </label>
        <label className="field">
          <span>Config (JSON object)</span>
          <textarea
            className="mono"
            rows={3}
            value={config}
            onChange={(e) => setConfig(e.target.value)}
            spellCheck={false}
            data-testid="capability-config-input"
          />
        </label>
        {invalid && (
          <p className="field-error" role="alert" data-testid="capability-invalid">
            {invalid}
          </p>
        )}
        <button type="submit" className="btn btn-primary" disabled={add.isPending} data-testid="capability-add">
          {add.isPending ? 'Adding…' : 'Add capability'}
        </button>
        <ErrorAlert error={add.error} onDismiss={() => add.reset()} testId="capability-error" />
      </form>
    </section>
  );
}

// ------------------------------------------------------------------ startup files

function StartupFilesCard({ templateId, files }: { templateId: string; files: StartupFile[] }) {
  const sorted = useMemo(() => [...files].sort((a, b) => a.order_index - b.order_index), [files]);
  const nextOrder = sorted.length ? sorted[sorted.length - 1].order_index + 10 : 0;
  const [path, setPath] = useState('');
  const [order, setOrder] = useState<string>('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const changed = useTemplateChanged(templateId);
  const toast = useToast();
  const add = useMutation({
    mutationFn: (body: { path: string; order_index: number }) => api.addStartupFile(templateId, body),
    onSuccess: (f) => {
      void changed();
      toast.success(`Startup file ${f.path} added.`);
      setPath('');
      setOrder('');
    },
  });
  const del = useMutation({
    mutationFn: (f: StartupFile) => api.deleteStartupFile(templateId, f.id),
    onSuccess: (_r, f) => {
      void changed();
      toast.success(`Startup file ${f.path} removed.`);
    },
    onError: (err) => toast.error(err, 'Delete failed'),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = path.trim();
    const o = order.trim() === '' ? nextOrder : Number(order);
    if (!p) {
      setInvalid('Path is required.');
      return;
    }
    if (!Number.isInteger(o)) {
      setInvalid('Order must be a whole number.');
      return;
    }
    setInvalid(null);
    add.mutate({ path: p, order_index: o });
  };
  return (
    <section className="card" aria-labelledby="startup-title">
      <h2 id="startup-title">Startup files</h2>
      <p className="muted">
        Files in the session's worktree run in ascending order when a session starts (paths relative to the worktree).
      </p>
      {sorted.length === 0 ? (
        <Empty testId="startup-files-empty">No startup files.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table responsive" data-testid="startup-files-table">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Path</th>
                <th scope="col">Mode</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((f) => (
                <tr key={f.id} data-testid="startup-file-row" data-path={f.path}>
                  <td data-label="Order">{f.order_index}</td>
                  <td data-label="Path">
                    <code>{f.path}</code>
                  </td>
                  <td data-label="Mode">{f.mode}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="btn btn-small"
                      disabled={del.isPending}
                      onClick={() => del.mutate(f)}
                      aria-label={`Remove startup file ${f.path}`}
                      data-testid="startup-file-delete"
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form onSubmit={submit} className="inline-form" data-testid="startup-file-form" noValidate>
        <label className="field grow">
          <span>Path</span>
          <input value={path} onChange={(e) => setPath(e.target.value)} placeholder="init/setup.js" required data-testid="startup-path-input" />
        </label>
        <label className="field narrow">
          <span>Order</span>
          <input
            type="number"
            step={1}
            value={order}
            placeholder={String(nextOrder)}
            onChange={(e) => setOrder(e.target.value)}
            data-testid="startup-order-input"
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={add.isPending} data-testid="startup-add">
          {add.isPending ? 'Adding…' : 'Add startup file'}
        </button>
      </form>
      {invalid && (
        <p className="field-error" role="alert">
          {invalid}
        </p>
      )}
      <ErrorAlert error={add.error} onDismiss={() => add.reset()} testId="startup-error" />
    </section>
  );
}

// ------------------------------------------------------------------ sessions of the template

function TemplateSessions({ templateId }: { templateId: string }) {
  const sessions = useSessions({ template_id: templateId });
  return (
    <section className="card" aria-labelledby="tpl-sessions-title">
      <h2 id="tpl-sessions-title">Sessions from this template</h2>
      {sessions.isPending ? (
        <Loading label="Loading sessions…" />
      ) : sessions.isError ? (
        <ErrorAlert error={sessions.error} onRetry={() => void sessions.refetch()} />
      ) : sessions.data.length === 0 ? (
        <Empty>No sessions yet.</Empty>
      ) : (
        <ul className="plain-list">
          {sessions.data.slice(0, 20).map((s) => (
            <li key={s.id} data-testid="template-session-row" data-session-id={s.id}>
              <StatusBadge status={s.status} />{' '}
              {s.status === 'ready' ? (
                <Link to={`/workbench/${s.id}`}>
                  <code>{shortId(s.id)}</code>
                </Link>
              ) : (
                <Link to={`/history/${s.id}`}>
                  <code>{shortId(s.id)}</code>
                </Link>
              )}{' '}
              <span className="muted">
                {s.worktree_path} · created {relativeTime(s.created_at)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// ------------------------------------------------------------------ page

export function TemplateDetailPage({ id }: { id: string }) {
  const detail = useTemplate(id);
  if (detail.isPending) return <Loading label="Loading template…" />;
  if (detail.isError) {
    return (
      <div className="page">
        <header className="page-head">
          <p className="breadcrumb">
            <Link to="/templates">Templates</Link> ›
          </p>
          <h1>Template</h1>
        </header>
        <ErrorAlert error={detail.error} onRetry={() => void detail.refetch()} />
      </div>
    );
  }
  const { template, capabilities, startup_files } = detail.data;
  const settings = detail.data.settings ?? template.settings;
  return (
    <div className="page" data-testid="template-detail" data-template-id={template.id}>
      <header className="page-head">
        <p className="breadcrumb">
          <Link to="/templates">Templates</Link> › <span aria-current="page">{template.name}</span>
        </p>
        <div className="head-row">
          <h1 data-testid="template-detail-name">{template.name}</h1>
          <Link to={`/sessions?template=${encodeURIComponent(template.id)}`} className="btn btn-primary" data-testid="template-detail-new-session">
            New session
          </Link>
        </div>
        <p className="banner" role="note">
          Changes to a template apply to new sessions only. Sessions keep the settings they were created with.
        </p>
      </header>
      <div className="cards">
        <IdentityCard key={`id-${template.name}`} template={template} />
        <SettingsCard key={JSON.stringify(settings)} templateId={template.id} settings={settings} />
        <ModulesCard template={template} />
        <LibrariesCard template={template} />
        <CapabilitiesCard templateId={template.id} capabilities={capabilities} />
        <StartupFilesCard templateId={template.id} files={startup_files} />
        <TemplateSessions templateId={template.id} />
        <section className="card" aria-labelledby="danger-title">
          <h2 id="danger-title">Delete</h2>
          <p className="muted">A template with starting or ready sessions cannot be deleted; close its sessions first.</p>
          <DeleteTemplate template={template} />
        </section>
      </div>
    </div>
  );
}
