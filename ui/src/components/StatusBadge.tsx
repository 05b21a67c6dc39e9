import type { ExecutionStatus, SessionStatus } from '../api/types';

const TONE: Record<string, string> = {
  ok: 'ok',
  ready: 'ok',
  error: 'error',
  crashed: 'error',
  timeout: 'timeout',
  cancelled: 'muted',
  closed: 'muted',
  running: 'running',
  starting: 'running',
};

export function statusTone(status: string): string {
  return TONE[status] ?? 'muted';
}

export interface StatusBadgeProps {
  status: ExecutionStatus | SessionStatus | string;
  testId?: string;
  title?: string;
}

export function StatusBadge({ status, testId, title }: StatusBadgeProps) {
  return (
    <span className={`badge badge-${statusTone(status)}`} data-testid={testId} data-status={status} title={title}>
      {status}
    </span>
  );
}
