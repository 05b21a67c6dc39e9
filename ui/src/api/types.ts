// Types of the vm-system HTTP API (/api/v1), following docs/http-api.md.
// Timestamps are RFC 3339 UTC strings with milliseconds; IDs are lower-case UUID strings.
//
// What the daemon's OpenAPI document describes (request bodies, query parameters, the error
// codes) is generated into ./openapi.ts (`make ui-types`; a test checks it is up to date) and
// named here; the response shapes, which the document leaves open, are written by hand.

import type { components, paths } from './openapi';

type Schemas = components['schemas'];

export type Timestamp = string;
export type Uuid = string;
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// ---------------------------------------------------------------- errors

export interface ErrorBody {
  code: ErrorCode | string;
  message: string;
  details?: JsonObject;
}

export interface ErrorEnvelope {
  error: ErrorBody;
}

/** Every code of the error envelope (docs/errors.md). */
export type ErrorCode = Schemas['ErrorBody']['code'];

// ---------------------------------------------------------------- templates

export interface Limits {
  wall_ms: number;
  cpu_ms: number;
  mem_mb: number;
  max_events: number;
  max_output_kb: number;
}

export const LIMIT_KEYS = ['wall_ms', 'cpu_ms', 'mem_mb', 'max_events', 'max_output_kb'] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

/** The languages of REPL input. */
export type Language = 'javascript' | 'typescript';

/** The values of settings.runtime.unhandled_rejections. */
export type UnhandledRejections = 'throw' | 'warn';

export interface RuntimeSettings {
  strict: boolean;
  console: boolean;
  /** The default language of REPL input. */
  language?: Language;
  /** What an unhandled promise rejection does: fail the execution (default) or warn. */
  unhandled_rejections?: UnhandledRejections;
}

export interface ResolverSettings {
  roots: string[];
  extensions: string[];
}

/** Deterministic mode: a seed makes Math.random/crypto seeded and the clock virtual. */
export interface DeterministicSettings {
  seed: number | null;
}

/** What happens to a session whose runtime is lost while idle. */
export interface RecoverySettings {
  policy: 'replay' | 'replay_if_pure' | 'off' | string;
}

/** Managed worktrees: `seed` is copied into every new one (null: empty). */
export interface WorktreeSettings {
  seed: string | null;
}

export interface Settings {
  limits: Limits;
  runtime: RuntimeSettings;
  resolver: ResolverSettings;
  /** Absent from daemons older than deterministic mode. */
  deterministic?: DeterministicSettings;
  /** Its sessions' lifetime (absent from daemons older than idle timeouts). */
  session?: SessionSettings;
  /** Absent from daemons older than durable sessions. */
  recovery?: RecoverySettings;
  /** Absent from daemons older than seeded worktrees. */
  worktree?: WorktreeSettings;
}

/** `idle_timeout_s`: seconds without activity before a session is closed (0: never; null:
 * the daemon's defaults). */
export interface SessionSettings {
  idle_timeout_s: number | null;
}

/** `TemplateDetail.settings`: the settings and the template they belong to. */
export interface TemplateSettings extends Settings {
  template_id?: Uuid;
}

export interface Template {
  id: Uuid;
  name: string;
  engine: string;
  is_active: boolean;
  settings: Settings;
  /** Native modules `require()` may load (the original's field name). */
  exposed_modules: string[];
  libraries: string[];
  created_at: Timestamp;
  updated_at: Timestamp;
  /** 1 when created; every change adds one. */
  revision?: number;
}

export interface Capability {
  id: Uuid;
  template_id: Uuid;
  kind: string;
  name: string;
  enabled: boolean;
  config: JsonObject;
}

export interface StartupFile {
  id: Uuid;
  template_id: Uuid;
  path: string;
  order_index: number;
  mode: string;
}

export interface TemplateDetail {
  template: Template;
  settings: TemplateSettings;
  capabilities: Capability[];
  startup_files: StartupFile[];
}

export type CreateTemplateRequest = Schemas['TemplateIn'];

export interface SettingsPatch {
  limits?: Partial<Limits>;
  runtime?: Partial<RuntimeSettings>;
  resolver?: Partial<ResolverSettings>;
  deterministic?: Partial<DeterministicSettings>;
  session?: Partial<SessionSettings>;
}

/** `settings` is a {@link SettingsPatch}: merged key by key. */
export type UpdateTemplateRequest = Schemas['TemplatePatch'];

export interface DeleteTemplateResponse {
  status: 'ok';
  template_id: Uuid;
}

export type CreateCapabilityRequest = Schemas['CapabilityIn'];

export interface DeleteCapabilityResponse {
  status: 'ok';
  template_id: Uuid;
  capability_id: Uuid;
}

export interface TemplateNameResponse {
  template_id: Uuid;
  name: string;
}

export interface DeleteNameResponse {
  status: 'ok';
  template_id: Uuid;
  name: string;
}

export type CreateStartupFileRequest = Schemas['StartupFileIn'];

export interface DeleteStartupFileResponse {
  status: 'ok';
  template_id: Uuid;
  startup_file_id: Uuid;
}

// ---------------------------------------------------------------- sessions

export const SESSION_STATUSES = ['starting', 'ready', 'crashed', 'closed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** A capability as a session's template snapshot keeps it. */
export interface CapabilityGrant {
  kind: string;
  name: string;
  enabled: boolean;
  config: JsonObject;
}

/** A startup file as a session's template snapshot keeps it. */
export interface SnapshotStartupFile {
  path: string;
  order_index: number;
  mode: string;
}

export interface TemplateSnapshot {
  /** The template's id (absent from old snapshots). */
  id?: Uuid;
  name: string;
  engine: string;
  settings: Settings;
  modules: string[];
  libraries: string[];
  capabilities: CapabilityGrant[];
  startup_files: SnapshotStartupFile[];
  /** The template's revision when the snapshot was taken (null: taken before revisions). */
  revision?: number | null;
}

export interface Session {
  id: Uuid;
  template_id: Uuid;
  workspace_id: string | null;
  base_commit_oid: string | null;
  worktree_path: string;
  status: SessionStatus;
  created_at: Timestamp;
  last_activity_at: Timestamp | null;
  closed_at: Timestamp | null;
  last_error: string | null;
  template_snapshot: TemplateSnapshot | null;
  /** The host a live session's runtime is on (null once it is not live). */
  host_id?: string | null;
  /** When the session was last rebuilt by replay after its runtime was lost (null: never). */
  recovered_at?: Timestamp | null;
  /** How many times it was (absent from daemons older than durable sessions). */
  recovery_count?: number;
  /** Its own idle timeout in seconds (0: never; null: the daemon's default applies). */
  idle_timeout_s?: number | null;
  /** The daemon created the worktree (no worktree_path given) and removes it at purge. */
  worktree_managed?: boolean;
  worktree_removed_at?: Timestamp | null;
}

/** A worktree entry (GET /sessions/{id}/files). */
export interface FileEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export interface FileListing {
  path: string;
  entries: FileEntry[];
  truncated: boolean;
}

export type CreateSessionRequest = Schemas['SessionIn'];

export type ListSessionsParams = NonNullable<paths['/api/v1/sessions']['get']['parameters']['query']>;

// ---------------------------------------------------------------- executions

export const EXECUTION_STATUSES = ['running', 'ok', 'error', 'timeout', 'cancelled'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export type ExecutionKind = 'repl' | 'run_file' | 'startup' | 'restart' | 'recovery' | 'close';

export type ValueType =
  | 'number'
  | 'string'
  | 'boolean'
  | 'undefined'
  | 'null'
  | 'bigint'
  | 'symbol'
  | 'function'
  | 'array'
  | 'object'
  | 'date'
  | 'error'
  | 'map'
  | 'set';

export interface ValuePayload {
  type: ValueType | string;
  /** `String(value)`. */
  preview: string;
  /** Node `util.inspect`-style text (absent in executions stored before it existed). */
  inspect?: string;
  json?: JsonValue;
  /** The value's own MIME bundle, when it has a `[Symbol.for("Jupyter.display")]()` method. */
  display?: MimeBundle;
}

/** A MIME bundle (`display()`): MIME type -> data; `text/plain` is always there. */
export type MimeBundle = Record<string, JsonValue>;

export interface ExceptionPayload {
  name: string;
  message: string;
  stack?: string | null;
  /** An unhandled promise rejection (settings.runtime.unhandled_rejections = "throw"). */
  unhandled?: boolean;
  /** ... and the input's own result, when the rejection surfaced after it. */
  result?: ValuePayload;
}

/** Limit, cancellation or restart outcome stored in `execution.error`. */
export interface SystemErrorPayload {
  code: SystemCode | string;
  message: string;
}

export const SYSTEM_CODES = [
  'WALL_TIME_EXCEEDED',
  'CPU_TIME_EXCEEDED',
  'MEMORY_LIMIT_EXCEEDED',
  'OUTPUT_LIMIT_EXCEEDED',
  'CANCELLED',
  'DAEMON_RESTARTED',
  'SESSION_CRASHED',
] as const;
export type SystemCode = (typeof SYSTEM_CODES)[number];

export type ExecutionError = ExceptionPayload | SystemErrorPayload;

export interface ExecutionMetrics {
  duration_ms?: number | null;
  cpu_ms?: number | null;
  event_count?: number | null;
  output_bytes?: number | null;
}

export interface Execution {
  id: Uuid;
  session_id: Uuid;
  kind: ExecutionKind;
  input: string | null;
  path: string | null;
  args: JsonObject;
  env: Record<string, string>;
  status: ExecutionStatus;
  started_at: Timestamp;
  ended_at: Timestamp | null;
  result: ValuePayload | null;
  error: ExecutionError | null;
  metrics: ExecutionMetrics;
  /** What the execution ran on (null for restarts and executions recorded before). */
  provenance?: Provenance | null;
  /** The execution (of another session) this one replays, for a fork's replays. */
  replay_of?: Uuid | null;
  /** Its position in its session (1, 2, 3...): the order of the session's history. */
  ordinal?: number | null;
}

/** POST /sessions/{id}/fork: the new session, how many executions were replayed, which diverged. */
/** `POST /sessions/{id}/complete`: names that may replace `code[cursor_start:cursor_end]` (code points). */
export interface Completion {
  matches: string[];
  cursor_start: number;
  cursor_end: number;
}

export interface SessionFork {
  session: Session;
  replayed: number;
  diverged: { original: Uuid; replay: Uuid | null; reason: string }[];
}

export interface Provenance {
  template_id: Uuid;
  template_revision: number | null;
  engine: { name: string; version: string | null };
  vm_system_version: string;
  host_id: string;
  libraries: { name: string; version: string; sha256: string }[];
}

export type ReplRequest = Schemas['ReplIn'];

export type RunFileRequest = Schemas['RunFileIn'];

/** One full-text search hit (GET /executions/search). */
export interface ExecutionSearchHit {
  execution: Execution;
  session_id: Uuid;
  score: number;
  /** About 160 characters of the indexed text around the first match. */
  snippet: string;
  /** [start, end) offsets of the matched words in `snippet`. */
  highlights: [number, number][];
}

export interface ExecutionSearchPage {
  results: ExecutionSearchHit[];
  next_offset: number | null;
}

export type SearchExecutionsParams = paths['/api/v1/executions/search']['get']['parameters']['query'];

export type ListExecutionsParams = NonNullable<paths['/api/v1/executions']['get']['parameters']['query']>;

// ---------------------------------------------------------------- events

export type ConsoleLevel = 'log' | 'info' | 'warn' | 'error' | 'debug';

export interface InputEchoPayload {
  text: string;
}
export interface ConsolePayload {
  level: ConsoleLevel | string;
  text: string;
}
export interface DisplayPayload {
  data: MimeBundle;
  metadata: Record<string, JsonValue>;
}
export interface SystemPayload {
  level: string;
  code: string;
  message: string;
}

interface EventBase<T extends string, P> {
  execution_id: Uuid;
  seq: number;
  ts: Timestamp;
  type: T;
  payload: P;
}

export type InputEchoEvent = EventBase<'input_echo', InputEchoPayload>;
export type ConsoleEvent = EventBase<'console', ConsolePayload>;
export type ValueEvent = EventBase<'value', ValuePayload>;
export type ExceptionEvent = EventBase<'exception', ExceptionPayload>;
export type SystemEvent = EventBase<'system', SystemPayload>;
export type DisplayEvent = EventBase<'display', DisplayPayload>;

export type ExecutionEvent = InputEchoEvent | ConsoleEvent | ValueEvent | ExceptionEvent | SystemEvent | DisplayEvent;
export type EventType = ExecutionEvent['type'];
export const EVENT_TYPES: EventType[] = ['input_echo', 'console', 'display', 'value', 'exception', 'system'];

export type ListEventsParams = NonNullable<
  paths['/api/v1/executions/{execution_id}/events']['get']['parameters']['query']
>;

// ---------------------------------------------------------------- metadata and system

export interface ModuleInfo {
  name: string;
  description: string;
  functions: string[];
  capabilities: string[];
}

export interface LibraryInfo {
  name: string;
  version: string;
  file: string;
  global: string;
  description: string;
  cached: boolean;
  source?: string;
}

export type LibraryDownloadRequest = Schemas['LibraryDownloadIn'];

export type LibraryDownloadState = 'pending' | 'downloading' | 'downloaded' | 'cached' | 'failed' | 'skipped';

/** A library download job of the daemon (`POST /libraries/downloads`). */
export interface LibraryDownload {
  id: Uuid;
  names: string[];
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: {
    total: number;
    completed: number;
    libraries: { name: string; version: string; state: LibraryDownloadState; error: string | null }[];
  };
  error: { code: string; message: string } | null;
  created_at: string;
  finished_at: string | null;
}

export interface EngineInfo {
  name: string;
  version: string;
  default: boolean;
  aliases: string[];
}

export interface CapabilityInfo {
  kind: string;
  name: string;
  description: string;
  config_schema: JsonObject | null;
  /** Optional extras some daemons add. */
  default?: string;
  enabled_effect?: string;
  disabled_effect?: string;
  example?: JsonObject;
  /** The names a kind takes, when it is a fixed list. */
  names?: string[];
}

export interface Health {
  status: string;
}

export interface RuntimeSummary {
  active_sessions: number;
  active_session_ids: Uuid[];
  running_executions: number;
  /** The default engine: a name, or `{name, version}` (the contract does not pin the shape). */
  engine: string | { name: string; version?: string };
  version: string;
  uptime_s: number;
  db: { url: string; schema_version: string | null };
  /** Where sessions' runtimes live: this process, worker processes or Ray actors. */
  hosts?: HostInfo[];
  /** The answering daemon's id in the database (null: an embedded system without a lease). */
  daemon_id?: string | null;
  /** Every daemon registered over the database, oldest first. */
  daemons?: DaemonInfo[];
}

export interface DaemonInfo {
  id: string;
  address: string | null;
  version: string;
  hostname: string;
  pid: number;
  started_at: string;
  heartbeat_at: string;
  /** Its lease holds (it heartbeats). */
  alive: boolean;
  /** It is the daemon this UI talks to. */
  self: boolean;
}

export interface HostInfo {
  id: string;
  kind: "inprocess" | "process" | "ray" | string;
  pid: number | null;
  sessions: number;
  rss_bytes: number | null;
  alive: boolean;
  restarts: number;
}
