export function shortId(id: string | null | undefined): string {
  return id ? id.slice(0, 8) : '—';
}

export function parseTs(ts: string | null | undefined): Date | null {
  if (!ts) return null;
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago"; absolute date after a week. */
export function relativeTime(ts: string | null | undefined, now: number = Date.now()): string {
  const d = parseTs(ts);
  if (!d) return '—';
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 5 && s > -5) return 'just now';
  if (s < 0) return d.toLocaleString();
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  const days = Math.floor(h / 24);
  if (days < 7) return `${days} d ago`;
  return d.toLocaleDateString();
}

export function absoluteTime(ts: string | null | undefined): string {
  const d = parseTs(ts);
  return d ? d.toISOString().replace('T', ' ').replace('Z', ' UTC') : '—';
}

/** HH:MM:SS.mmm in UTC, for event tables. */
export function clockTime(ts: string | null | undefined): string {
  const d = parseTs(ts);
  return d ? d.toISOString().slice(11, 23) : '—';
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatUptime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) return `${d} d ${h} h ${m} min`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${sec} s`;
  return `${sec} s`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** One-line summary of an execution's input or path. */
export function truncate(s: string | null | undefined, n: number): string {
  if (!s) return '';
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

/** `1 line`, `2 lines`, `0 lines`. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}
