import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import type { Session } from '../api/types';
import { relativeTime, shortId } from '../lib/format';

interface Divergence {
  execution_id: string;
  reason: string;
}

/** The last recovery of a session rebuilt by replay after its runtime was lost: when, why,
 * how many executions were replayed and which diverged (from its SESSION_RECOVERED event). */
export function RecoveryBanner({ session }: { session: Session }) {
  const count = session.recovery_count ?? 0;
  const last = useQuery({
    queryKey: ['recovery', session.id, count],
    enabled: count > 0,
    queryFn: async () => {
      const executions = await api.listExecutions({ session_id: session.id, limit: 200 });
      const recovery = executions.find((x) => x.kind === 'recovery');
      if (!recovery) return null;
      const events = await api.listEvents(recovery.id);
      const payload: Record<string, unknown> = (events.find((e) => e.type === 'system')?.payload ?? {}) as Record<string, unknown>;
      return {
        cause: typeof payload.cause === 'string' ? payload.cause : '',
        replayed: typeof payload.replayed === 'number' ? payload.replayed : 0,
        diverged: Array.isArray(payload.diverged) ? (payload.diverged as unknown as Divergence[]) : [],
      };
    },
  });
  if (count === 0) return null;
  const info = last.data;
  const diverged = info?.diverged ?? [];
  return (
    <div className={`alert ${diverged.length ? 'alert-warn' : 'alert-ok'}`} role="status" data-testid="workbench-recovered">
      <p>
        This session was <strong>recovered</strong>
        {session.recovered_at && <> {relativeTime(session.recovered_at)}</>}
        {info?.cause && <> after its runtime was lost ({info.cause})</>}:{' '}
        {info ? `${info.replayed} execution(s) replayed, ${diverged.length} diverged` : 'its executions were replayed'}
        {count > 1 && ` (recovered ${count} times)`}. Timers pending at the crash and effects outside JavaScript are not restored.
      </p>
      {diverged.length > 0 && (
        <ul className="plain-list" data-testid="workbench-recovered-divergences">
          {diverged.map((d) => (
            <li key={d.execution_id}>
              <code>{shortId(d.execution_id)}</code>: {d.reason}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
