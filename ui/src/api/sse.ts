// Server-Sent Events over fetch(): a small incremental parser (WHATWG "event stream" rules)
// and a reader that feeds it from a streaming response body. fetch() is used instead of
// EventSource because EventSource cannot send the Authorization header.
import { authHeaders, notifyUnauthorized } from './auth';
import { parseApiError, toApiError } from './errors';

export interface SseMessage {
  /** The `event:` field, or "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event id seen on the stream so far (the `id:` field is sticky). */
  id: string;
  /** A `retry:` value in milliseconds, when this message carried one. */
  retry?: number;
}

/**
 * Incremental SSE parser. Feed it text chunks split anywhere (mid-line, between "\r" and "\n");
 * it returns the messages completed by each chunk.
 */
export class SseParser {
  private buffer = '';
  private pendingCR = false;
  private eventType = '';
  private dataLines: string[] = [];
  private hasData = false;
  private lastId = '';
  private retry: number | undefined;

  /** The last event id received (for resuming). */
  get lastEventId(): string {
    return this.lastId;
  }

  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = chunk;
    if (this.pendingCR) {
      // A "\r" ended the previous chunk; a "\n" right after it belongs to the same line break.
      this.pendingCR = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      const line = this.buffer.slice(start, i);
      if (ch === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++;
        } else {
          this.pendingCR = true;
        }
      }
      start = i + 1;
      const msg = this.processLine(line);
      if (msg) out.push(msg);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** Call at end of stream. An unterminated last message is discarded, as the spec requires. */
  end(): SseMessage[] {
    this.buffer = '';
    this.pendingCR = false;
    this.resetMessage();
    return [];
  }

  private resetMessage(): void {
    this.eventType = '';
    this.dataLines = [];
    this.hasData = false;
    this.retry = undefined;
  }

  private processLine(line: string): SseMessage | null {
    if (line === '') {
      if (!this.hasData) {
        this.resetMessage();
        return null;
      }
      const msg: SseMessage = {
        event: this.eventType || 'message',
        data: this.dataLines.join('\n'),
        id: this.lastId,
      };
      if (this.retry !== undefined) msg.retry = this.retry;
      this.resetMessage();
      return msg;
    }
    if (line.startsWith(':')) return null; // comment (keep-alive)
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return null;
  }
}

export interface StreamSseOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  onMessage: (msg: SseMessage) => void;
  /** Called once the response headers arrived with a 2xx status. */
  onOpen?: () => void;
}

/**
 * GET an SSE endpoint with fetch() and feed each message to onMessage. Resolves when the
 * server closes the stream; rejects with ApiError on HTTP errors or network failure.
 */
export async function streamSse(url: string, opts: StreamSseOptions): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'GET',
      headers: { Accept: 'text/event-stream', 'Cache-Control': 'no-cache', ...authHeaders(), ...opts.headers },
      signal: opts.signal,
    });
  } catch (err) {
    throw toApiError(err);
  }
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    if (res.status === 401) notifyUnauthorized();
    throw parseApiError(res.status, text, res.headers.get('X-Request-Id') ?? undefined);
  }
  opts.onOpen?.();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  if (!res.body) {
    // No streaming support: parse the whole body at once.
    const text = await res.text();
    parser.feed(text).forEach(opts.onMessage);
    return;
  }
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = decoder.decode(value, { stream: true });
      for (const msg of parser.feed(chunk)) opts.onMessage(msg);
    }
    const rest = decoder.decode();
    if (rest) for (const msg of parser.feed(rest)) opts.onMessage(msg);
    parser.end();
  } catch (err) {
    throw toApiError(err);
  } finally {
    reader.releaseLock?.();
  }
}
