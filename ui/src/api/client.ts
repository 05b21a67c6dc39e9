// Typed client for every /api/v1 route the UI uses (docs/http-api.md).
import { authHeaders, notifyUnauthorized } from './auth';
import { ApiError, parseApiError, toApiError } from './errors';
import type {
  Capability,
  CapabilityInfo,
  Completion,
  CreateCapabilityRequest,
  CreateSessionRequest,
  CreateStartupFileRequest,
  CreateTemplateRequest,
  DeleteCapabilityResponse,
  DeleteNameResponse,
  DeleteStartupFileResponse,
  DeleteTemplateResponse,
  EngineInfo,
  Execution,
  ExecutionEvent,
  Health,
  LibraryDownload,
  LibraryDownloadRequest,
  LibraryInfo,
  ListEventsParams,
  ListExecutionsParams,
  ExecutionSearchPage,
  FileEntry,
  FileListing,
  SearchExecutionsParams,
  ListSessionsParams,
  ModuleInfo,
  ReplRequest,
  RunFileRequest,
  RuntimeSummary,
  Session,
  SessionFork,
  StartupFile,
  Template,
  TemplateDetail,
  TemplateNameResponse,
  UpdateTemplateRequest,
} from './types';

export const API_PREFIX = '/api/v1';

/** Base URL of the daemon; empty means same origin (the daemon serves the UI, or the dev proxy). */
export const API_BASE: string = (import.meta.env?.VITE_VM_SYSTEM_API_BASE_URL as string | undefined) ?? '';

export type Query = Record<string, string | number | boolean | null | undefined>;

export function buildUrl(path: string, query?: Query): string {
  let url = API_BASE + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue;
      params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  return url;
}

const seg = (s: string) => encodeURIComponent(s);

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  // X-Requested-With: the daemon refuses state-changing requests a page of another site could
  // send; same-origin requests pass by their Origin too, this also covers the Vite dev proxy.
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'X-Requested-With': 'vm-system-ui',
    ...authHeaders(),
  };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), { method, headers, body, signal: opts.signal });
  } catch (err) {
    throw toApiError(err);
  }
  const text = await res.text();
  if (!res.ok) {
    const err = parseApiError(res.status, text, res.headers.get('X-Request-Id') ?? undefined);
    if (res.status === 401) notifyUnauthorized();
    throw err;
  }
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'INVALID_RESPONSE', `The daemon sent a response that is not JSON (${path}).`);
  }
}

/** Plain-text GET (e.g. /metrics). */
export async function requestText(path: string, signal?: AbortSignal): Promise<string> {
  let res: Response;
  try {
    res = await fetch(API_BASE + path, { headers: { ...authHeaders() }, signal });
  } catch (err) {
    throw toApiError(err);
  }
  const text = await res.text();
  if (!res.ok) {
    if (res.status === 401) notifyUnauthorized();
    throw parseApiError(res.status, text, res.headers.get('X-Request-Id') ?? undefined);
  }
  return text;
}

/** A file from the daemon (an export), fetched with the auth header, with the file name of
 * its Content-Disposition (or `fallback`). */
export async function requestFile(
  path: string,
  query: Query,
  fallback: string,
): Promise<{ blob: Blob; filename: string }> {
  let res: Response;
  try {
    res = await fetch(buildUrl(path, query), { headers: { ...authHeaders() } });
  } catch (err) {
    throw toApiError(err);
  }
  if (!res.ok) {
    const text = await res.text();
    if (res.status === 401) notifyUnauthorized();
    throw parseApiError(res.status, text, res.headers.get('X-Request-Id') ?? undefined);
  }
  const disposition = res.headers.get('Content-Disposition') ?? '';
  const named = /filename="([^"]+)"/.exec(disposition);
  return { blob: await res.blob(), filename: named ? named[1] : fallback };
}

/** A worktree path as URL segments: '/' kept, '.' and '..' segments percent-encoded so the
 * browser does not drop them (the daemon refuses them itself). */
export function filePath(path: string): string {
  return path
    .split('/')
    .map((part) => (part === '.' || part === '..' ? part.replace(/\./g, '%2E') : encodeURIComponent(part)))
    .join('/');
}

/** A worktree file as text (GET /sessions/{id}/files/{path}). */
export async function readFileText(sessionId: string, path: string): Promise<string> {
  return requestText(`${API_PREFIX}/sessions/${seg(sessionId)}/files/${filePath(path)}`);
}

/** Write a worktree file (PUT /sessions/{id}/files/{path}, the raw body). */
export async function writeFileText(sessionId: string, path: string, text: string): Promise<FileEntry> {
  let res: Response;
  try {
    res = await fetch(API_BASE + `${API_PREFIX}/sessions/${seg(sessionId)}/files/${filePath(path)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Requested-With': 'vm-system-ui', ...authHeaders() },
      body: text,
    });
  } catch (err) {
    throw toApiError(err);
  }
  const body = await res.text();
  if (!res.ok) {
    if (res.status === 401) notifyUnauthorized();
    throw parseApiError(res.status, body, res.headers.get('X-Request-Id') ?? undefined);
  }
  return JSON.parse(body) as FileEntry;
}

export type ExportFormat = 'ipynb' | 'md' | 'jsonl';

const P = API_PREFIX;

export const api = {
  // system
  health: (signal?: AbortSignal) => request<Health>('GET', `${P}/health`, { signal }),
  runtimeSummary: (signal?: AbortSignal) => request<RuntimeSummary>('GET', `${P}/runtime/summary`, { signal }),
  metricsText: (signal?: AbortSignal) => requestText('/metrics', signal),

  // metadata
  metadataModules: () => request<ModuleInfo[]>('GET', `${P}/metadata/modules`),
  metadataLibraries: () => request<LibraryInfo[]>('GET', `${P}/metadata/libraries`),
  metadataEngines: () => request<EngineInfo[]>('GET', `${P}/metadata/engines`),
  metadataCapabilities: () => request<CapabilityInfo[]>('GET', `${P}/metadata/capabilities`),

  // library downloads into the daemon's cache
  startLibraryDownload: (body: LibraryDownloadRequest) =>
    request<LibraryDownload>('POST', `${P}/libraries/downloads`, { body }),
  getLibraryDownload: (id: string) => request<LibraryDownload>('GET', `${P}/libraries/downloads/${seg(id)}`),
  cancelLibraryDownload: (id: string) =>
    request<LibraryDownload>('POST', `${P}/libraries/downloads/${seg(id)}/cancel`),

  // templates
  listTemplates: () => request<Template[]>('GET', `${P}/templates`),
  createTemplate: (body: CreateTemplateRequest) => request<Template>('POST', `${P}/templates`, { body }),
  getTemplate: (id: string) => request<TemplateDetail>('GET', `${P}/templates/${seg(id)}`),
  updateTemplate: (id: string, body: UpdateTemplateRequest) =>
    request<Template>('PATCH', `${P}/templates/${seg(id)}`, { body }),
  deleteTemplate: (id: string) => request<DeleteTemplateResponse>('DELETE', `${P}/templates/${seg(id)}`),

  listCapabilities: (id: string) => request<Capability[]>('GET', `${P}/templates/${seg(id)}/capabilities`),
  addCapability: (id: string, body: CreateCapabilityRequest) =>
    request<Capability>('POST', `${P}/templates/${seg(id)}/capabilities`, { body }),
  deleteCapability: (id: string, capabilityId: string) =>
    request<DeleteCapabilityResponse>('DELETE', `${P}/templates/${seg(id)}/capabilities/${seg(capabilityId)}`),

  listModules: (id: string) => request<string[]>('GET', `${P}/templates/${seg(id)}/modules`),
  addModule: (id: string, name: string) =>
    request<TemplateNameResponse>('POST', `${P}/templates/${seg(id)}/modules`, { body: { name } }),
  removeModule: (id: string, name: string) =>
    request<DeleteNameResponse>('DELETE', `${P}/templates/${seg(id)}/modules/${seg(name)}`),

  listLibraries: (id: string) => request<string[]>('GET', `${P}/templates/${seg(id)}/libraries`),
  addLibrary: (id: string, name: string) =>
    request<TemplateNameResponse>('POST', `${P}/templates/${seg(id)}/libraries`, { body: { name } }),
  removeLibrary: (id: string, name: string) =>
    request<DeleteNameResponse>('DELETE', `${P}/templates/${seg(id)}/libraries/${seg(name)}`),

  listStartupFiles: (id: string) => request<StartupFile[]>('GET', `${P}/templates/${seg(id)}/startup-files`),
  addStartupFile: (id: string, body: CreateStartupFileRequest) =>
    request<StartupFile>('POST', `${P}/templates/${seg(id)}/startup-files`, { body }),
  deleteStartupFile: (id: string, startupId: string) =>
    request<DeleteStartupFileResponse>('DELETE', `${P}/templates/${seg(id)}/startup-files/${seg(startupId)}`),

  // sessions
  listSessions: (params: ListSessionsParams = {}) =>
    request<Session[]>('GET', `${P}/sessions`, { query: { ...params } }),
  createSession: (body: CreateSessionRequest) => request<Session>('POST', `${P}/sessions`, { body }),
  getSession: (id: string) => request<Session>('GET', `${P}/sessions/${seg(id)}`),

  // a session's worktree files
  listFiles: (id: string, path = '', recursive = true) =>
    request<FileListing>('GET', `${P}/sessions/${seg(id)}/files`, { query: { path, recursive } }),
  readFile: (id: string, path: string) => readFileText(id, path),
  writeFile: (id: string, path: string, text: string) => writeFileText(id, path, text),
  deleteFile: (id: string, path: string) => request<void>('DELETE', `${P}/sessions/${seg(id)}/files/${filePath(path)}`),
  closeSession: (id: string) => request<Session>('POST', `${P}/sessions/${seg(id)}/close`),
  restartSession: (id: string, refreshTemplate = false) =>
    request<Session>('POST', `${P}/sessions/${seg(id)}/restart`, { body: { refresh_template: refreshTemplate } }),
  complete: (id: string, code: string, cursor: number, signal?: AbortSignal) =>
    request<Completion>('POST', `${P}/sessions/${seg(id)}/complete`, { body: { code, cursor }, signal }),
  forkSession: (id: string, untilExecutionId?: string) =>
    request<SessionFork>('POST', `${P}/sessions/${seg(id)}/fork`, {
      body: untilExecutionId ? { until_execution_id: untilExecutionId } : {},
    }),
  exportSession: (id: string, format: ExportFormat) =>
    requestFile(`${P}/sessions/${seg(id)}/export`, { format }, `session-${id}.${format}`),

  // executions
  listExecutions: (params: ListExecutionsParams = {}) =>
    request<Execution[]>('GET', `${P}/executions`, { query: { ...params } }),
  searchExecutions: (params: SearchExecutionsParams) =>
    request<ExecutionSearchPage>('GET', `${P}/executions/search`, { query: { ...params } }),
  repl: (body: ReplRequest) => request<Execution>('POST', `${P}/executions/repl`, { body }),
  runFile: (body: RunFileRequest) => request<Execution>('POST', `${P}/executions/run-file`, { body }),
  getExecution: (id: string) => request<Execution>('GET', `${P}/executions/${seg(id)}`),
  cancelExecution: (id: string) => request<Execution>('POST', `${P}/executions/${seg(id)}/cancel`),
  listEvents: (id: string, params: ListEventsParams = {}) =>
    request<ExecutionEvent[]>('GET', `${P}/executions/${seg(id)}/events`, { query: { ...params } }),
  executionStreamPath: (id: string) => `${P}/executions/${seg(id)}/events/stream`,
  sessionStreamPath: (id: string) => `${P}/sessions/${seg(id)}/events/stream`,
};

export type Api = typeof api;
