// How an execution that did not end with a value reads: one sentence, stating the limit.
import type { Limits } from '../api/types';

/** The limit setting behind each limit outcome code, with its unit. */
const LIMIT_OF: Record<string, { key: keyof Limits; what: string; unit: string }> = {
  WALL_TIME_EXCEEDED: { key: 'wall_ms', what: 'Wall-time limit', unit: 'ms' },
  CPU_TIME_EXCEEDED: { key: 'cpu_ms', what: 'CPU-time limit', unit: 'ms' },
};

const FALLBACK: Record<string, string> = {
  WALL_TIME_EXCEEDED: 'Wall-time limit exceeded',
  CPU_TIME_EXCEEDED: 'CPU-time limit exceeded',
  MEMORY_LIMIT_EXCEEDED: 'Memory limit exceeded',
  OUTPUT_LIMIT_EXCEEDED: 'Output limit exceeded',
  CANCELLED: 'Cancelled',
  DAEMON_RESTARTED: 'The daemon restarted during this execution',
  SESSION_CRASHED: 'The session crashed',
};

function capitalize(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/**
 * One readable sentence for a system outcome: `Wall-time limit of 1000 ms exceeded` when the
 * session's limits are known (the daemon's message says only "wall-time limit exceeded"), the
 * daemon's own message when it already carries its numbers (memory and output limits do), and
 * `Cancelled` for a cancel.
 */
export function outcomeText(code: string, message: string | undefined, limits?: Partial<Limits> | null): string {
  if (code === 'CANCELLED') return 'Cancelled';
  // A message that already names its numbers (memory, output, or a newer daemon) is kept.
  if (message && /\d/.test(message)) return capitalize(message);
  const limit = LIMIT_OF[code];
  const value = limit && limits ? limits[limit.key] : undefined;
  if (limit && typeof value === 'number') return `${limit.what} of ${value} ${limit.unit} exceeded`;
  return FALLBACK[code] ?? (capitalize(message ?? '') || 'Execution stopped');
}
