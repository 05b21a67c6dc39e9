import type { JsonObject } from './types';

/** An error from the vm-system API (or from reaching it), with the envelope's code and message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: JsonObject | undefined;
  readonly requestId: string | undefined;

  constructor(status: number, code: string, message: string, details?: JsonObject, requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Code used when a response carried no envelope: derived from the HTTP status. */
export function fallbackCode(status: number): string {
  if (status === 0) return 'NETWORK_ERROR';
  if (status === 400) return 'INVALID_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 404) return 'ROUTE_NOT_FOUND';
  if (status === 405) return 'METHOD_NOT_ALLOWED';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status >= 500) return 'INTERNAL';
  return `HTTP_${status}`;
}

/**
 * Turn a failed response body into an ApiError. Accepts the documented envelope
 * `{"error": {"code", "message", "details"}}`, and degrades gracefully for anything else
 * (FastAPI's `{"detail": ...}`, plain text from a proxy, an empty body).
 */
export function parseApiError(status: number, bodyText: string, requestId?: string): ApiError {
  let parsed: unknown = undefined;
  if (bodyText.trim() !== '') {
    try {
      parsed = JSON.parse(bodyText);
    } catch {
      parsed = undefined;
    }
  }
  if (isObject(parsed) && isObject(parsed.error)) {
    const e = parsed.error;
    const code = typeof e.code === 'string' && e.code ? e.code : fallbackCode(status);
    const message = typeof e.message === 'string' && e.message ? e.message : `HTTP ${status}`;
    const details = isObject(e.details) ? (e.details as JsonObject) : undefined;
    return new ApiError(status, code, message, details, requestId);
  }
  if (isObject(parsed) && 'detail' in parsed) {
    const d = parsed.detail;
    const message = typeof d === 'string' ? d : JSON.stringify(d);
    return new ApiError(status, fallbackCode(status), message, undefined, requestId);
  }
  const text = bodyText.trim();
  const message = text && text.length <= 300 && !text.startsWith('<') ? text : `HTTP ${status}`;
  return new ApiError(status, fallbackCode(status), message, undefined, requestId);
}

/** Normalise anything thrown into an ApiError-like shape for display. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DOMException && err.name === 'AbortError') {
    return new ApiError(0, 'ABORTED', 'The request was cancelled.');
  }
  if (err instanceof TypeError) {
    // fetch() rejects with TypeError when the daemon cannot be reached.
    return new ApiError(0, 'NETWORK_ERROR', `Cannot reach the vm-system daemon (${err.message}).`);
  }
  if (err instanceof Error) return new ApiError(0, 'CLIENT_ERROR', err.message);
  return new ApiError(0, 'CLIENT_ERROR', String(err));
}

/** Human hints for codes whose fix is not obvious from the message. */
export function errorHint(code: string): string | undefined {
  switch (code) {
    case 'TEMPLATE_IN_USE':
      return 'Sessions created from this template are still starting or ready. Close its sessions first, then delete it.';
    case 'SESSION_BUSY':
      return 'Another execution is still running in this session. Wait for it or cancel it.';
    case 'SESSION_NOT_READY':
      return 'Only ready sessions run code. Create a new session from the template.';
    case 'LIBRARY_NOT_CACHED':
      return 'Download the library on the daemon host (vm-system libs download NAME), then create the session again.';
    case 'UNAUTHORIZED':
      return 'The daemon requires an access token.';
    case 'NETWORK_ERROR':
      return 'Is the daemon running? Start it with `vm-system serve`.';
    default:
      return undefined;
  }
}
