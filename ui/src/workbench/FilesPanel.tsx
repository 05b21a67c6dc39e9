// The session's worktree beside the workbench: a file tree, and an editor for the open file
// that saves it through the files API and runs it (run-file).
import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import type { FileEntry } from '../api/types';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/States';
import { useToast } from '../components/Toasts';

const filesKey = (sessionId: string) => ['session-files', sessionId] as const;

function depth(path: string): number {
  return path.split('/').length - 1;
}

function name(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

interface OpenFile {
  path: string;
  text: string;
  saved: string;
}

export function FilesPanel({
  sessionId,
  ready,
  busy,
  onRun,
}: {
  sessionId: string;
  ready: boolean;
  busy: boolean;
  onRun: (path: string) => void;
}) {
  const toast = useToast();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<OpenFile | null>(null);
  const [newPath, setNewPath] = useState('');
  const [working, setWorking] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const listing = useQuery({
    queryKey: filesKey(sessionId),
    queryFn: () => api.listFiles(sessionId),
    enabled: ready,
  });

  useEffect(() => setOpen(null), [sessionId]);

  const refresh = () => void queryClient.invalidateQueries({ queryKey: filesKey(sessionId) });

  const openFile = async (path: string) => {
    setError(null);
    try {
      const text = await api.readFile(sessionId, path);
      setOpen({ path, text, saved: text });
    } catch (err) {
      setError(err);
    }
  };

  const save = async (file: OpenFile): Promise<boolean> => {
    setWorking(true);
    setError(null);
    try {
      await api.writeFile(sessionId, file.path, file.text);
      setOpen((current) => (current && current.path === file.path ? { ...current, saved: file.text } : current));
      refresh();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setWorking(false);
    }
  };

  const create = async () => {
    const path = newPath.trim().replace(/^\/+/, '');
    if (!path) return;
    const file = { path, text: '', saved: '' };
    if (await save(file)) {
      setOpen(file);
      setNewPath('');
      toast.success(`Created ${path}`);
    }
  };

  const remove = async (path: string) => {
    setError(null);
    try {
      await api.deleteFile(sessionId, path);
      if (open?.path === path) setOpen(null);
      refresh();
    } catch (err) {
      setError(err);
    }
  };

  const run = async () => {
    if (!open) return;
    if (open.text !== open.saved && !(await save(open))) return;
    onRun(open.path);
  };

  const entries: FileEntry[] = listing.data?.entries ?? [];
  const dirty = open !== null && open.text !== open.saved;

  return (
    <section className="panel files-panel" aria-labelledby="files-title" data-testid="files-panel">
      <div className="panel-head">
        <h2 id="files-title">Files</h2>
        <button type="button" className="btn btn-small" onClick={refresh} disabled={!ready} data-testid="files-refresh">
          Refresh
        </button>
      </div>
      <div className="panel-body stack">
        {!ready ? (
          <p className="muted small">The worktree's files are served while the session is ready.</p>
        ) : listing.isPending ? (
          <Loading label="Loading files…" />
        ) : listing.isError ? (
          <ErrorAlert error={listing.error} onRetry={refresh} />
        ) : entries.length === 0 ? (
          <p className="muted small" data-testid="files-empty">
            The worktree is empty.
          </p>
        ) : (
          <ul className="file-tree" data-testid="files-tree">
            {entries.map((entry) => (
              <li
                key={entry.path}
                style={{ paddingLeft: `${depth(entry.path) * 0.9}rem` }}
                data-testid="files-entry"
                data-path={entry.path}
                data-type={entry.type}
              >
                {entry.type === 'file' ? (
                  <button
                    type="button"
                    className={`file-link${open?.path === entry.path ? ' active' : ''}`}
                    onClick={() => void openFile(entry.path)}
                    title={`${entry.path} · ${entry.size} bytes`}
                  >
                    {name(entry.path)}
                  </button>
                ) : (
                  <span className="muted">{name(entry.path)}{entry.type === 'directory' ? '/' : ` (${entry.type})`}</span>
                )}
              </li>
            ))}
            {listing.data?.truncated && <li className="muted small">(more files not shown)</li>}
          </ul>
        )}
        {ready && (
          <div className="row gap">
            <input
              value={newPath}
              onChange={(e) => setNewPath(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') void create();
              }}
              placeholder="new file, e.g. lib/util.mjs"
              spellCheck={false}
              aria-label="New file path"
              data-testid="files-new-input"
            />
            <button
              type="button"
              className="btn btn-small"
              onClick={() => void create()}
              disabled={!newPath.trim() || working}
              data-testid="files-new-button"
            >
              New file
            </button>
          </div>
        )}
        <ErrorAlert error={error} title="File operation failed" testId="files-error" />
        {open && (
          <div className="stack file-editor" data-testid="file-editor" data-path={open.path} data-dirty={dirty}>
            <div className="row gap">
              <code data-testid="file-editor-path">{open.path}</code>
              {dirty && <span className="muted small">(unsaved)</span>}
            </div>
            <textarea
              className="mono"
              rows={12}
              value={open.text}
              onChange={(e) => setOpen({ ...open, text: e.target.value })}
              spellCheck={false}
              aria-label={`Contents of ${open.path}`}
              data-testid="file-editor-text"
            />
            <div className="row gap">
              <button
                type="button"
                className="btn"
                onClick={() => void save(open)}
                disabled={!dirty || working}
                data-testid="file-save"
              >
                Save
              </button>
              <button
                type="button"
                className="btn btn-primary"
                onClick={() => void run()}
                disabled={busy || working}
                data-testid="file-run"
              >
                Save and run
              </button>
              <button
                type="button"
                className="btn btn-danger"
                onClick={() => void remove(open.path)}
                disabled={working}
                data-testid="file-delete"
              >
                Delete
              </button>
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
