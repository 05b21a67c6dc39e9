import { useQuery } from '@tanstack/react-query';
import { api, API_BASE } from '../api/client';
import { keys } from '../api/queries';
import { ErrorAlert } from '../components/ErrorAlert';
import { Loading } from '../components/States';
import { formatUptime } from '../lib/format';
import type { RuntimeSummary } from '../api/types';
import { Link } from '../lib/router';

function engineText(engine: RuntimeSummary['engine'] | null | undefined): string {
  if (!engine) return '—';
  if (typeof engine === 'string') return engine;
  return engine.version ? `${engine.name} ${engine.version}` : engine.name;
}

export function SystemPage() {
  const health = useQuery({ queryKey: keys.health, queryFn: () => api.health(), refetchInterval: 5000, retry: false });
  const summary = useQuery({ queryKey: keys.summary, queryFn: () => api.runtimeSummary(), refetchInterval: 5000 });
  const s = summary.data;
  return (
    <div className="page" data-testid="system-page">
      <header className="page-head">
        <h1>System</h1>
        <p className="lead">The daemon this UI talks to: its health, live runtimes and storage.</p>
      </header>
      <div className="cards two">
        <section className="card" aria-labelledby="health-title">
          <h2 id="health-title">Health</h2>
          {health.isPending ? (
            <Loading label="Checking…" />
          ) : health.isError ? (
            <ErrorAlert error={health.error} title="The daemon did not answer /api/v1/health" onRetry={() => void health.refetch()} />
          ) : (
            <p className="health-line">
              <span className={`badge ${health.data.status === 'ok' ? 'badge-ok' : 'badge-error'}`} data-testid="system-health">
                {health.data.status}
              </span>{' '}
              <span className="muted">GET /api/v1/health</span>
            </p>
          )}
        </section>
        <section className="card" aria-labelledby="links-title">
          <h2 id="links-title">API</h2>
          <ul className="plain-list links">
            <li>
              <a href={`${API_BASE}/docs`} target="_blank" rel="noreferrer" data-testid="system-link-docs">
                API docs (/docs)
              </a>
            </li>
            <li>
              <a href={`${API_BASE}/openapi.json`} target="_blank" rel="noreferrer" data-testid="system-link-openapi">
                OpenAPI description (/openapi.json)
              </a>
            </li>
            <li>
              <a href={`${API_BASE}/metrics`} target="_blank" rel="noreferrer" data-testid="system-link-metrics">
                Prometheus metrics (/metrics)
              </a>
            </li>
          </ul>
        </section>
      </div>
      <section className="card" aria-labelledby="summary-title">
        <h2 id="summary-title">Runtime summary</h2>
        {summary.isPending ? (
          <Loading label="Loading summary…" />
        ) : summary.isError ? (
          <ErrorAlert error={summary.error} onRetry={() => void summary.refetch()} />
        ) : (
          s && (
            <dl className="facts big" data-testid="system-summary">
              <div>
                <dt>Version</dt>
                <dd data-testid="system-version">{s.version}</dd>
              </div>
              <div>
                <dt>Engine</dt>
                <dd data-testid="system-engine">{engineText(s.engine)}</dd>
              </div>
              <div>
                <dt>Uptime</dt>
                <dd data-testid="system-uptime" data-seconds={s.uptime_s}>
                  {formatUptime(s.uptime_s)}
                </dd>
              </div>
              <div>
                <dt>Active sessions</dt>
                <dd data-testid="system-active-sessions">
                  <Link to="/sessions?status=ready">{s.active_sessions}</Link>
                </dd>
              </div>
              <div>
                <dt>Running executions</dt>
                <dd data-testid="system-running-executions">{s.running_executions}</dd>
              </div>
              <div>
                <dt>Database</dt>
                <dd>
                  <code className="wrap" data-testid="system-db-url">
                    {s.db?.url ?? '—'}
                  </code>
                </dd>
              </div>
              <div>
                <dt>Schema version</dt>
                <dd data-testid="system-db-schema">{s.db?.schema_version ?? '—'}</dd>
              </div>
            </dl>
          )
        )}
      </section>
      <section className="card" aria-labelledby="hosts-title">
        <h2 id="hosts-title">Session hosts</h2>
        <p className="muted">
          Where sessions&apos; runtimes live. A host that dies takes only its own sessions; it is restarted.
        </p>
        {s?.hosts && s.hosts.length > 0 ? (
          <div className="table-scroll">
            <table className="table compact" data-testid="hosts-table">
              <thead>
                <tr>
                  <th scope="col">Host</th>
                  <th scope="col">Kind</th>
                  <th scope="col">PID</th>
                  <th scope="col">Sessions</th>
                  <th scope="col">Memory</th>
                  <th scope="col">State</th>
                  <th scope="col">Restarts</th>
                </tr>
              </thead>
              <tbody>
                {s.hosts.map((h) => (
                  <tr key={h.id} data-testid="host-row">
                    <td>
                      <code>{h.id}</code>
                    </td>
                    <td>{h.kind}</td>
                    <td>{h.pid ?? '—'}</td>
                    <td data-testid="host-sessions">{h.sessions}</td>
                    <td>{h.rss_bytes != null ? `${(h.rss_bytes / 1048576).toFixed(0)} MiB` : '—'}</td>
                    <td>{h.alive ? 'alive' : 'down'}</td>
                    <td data-testid="host-restarts">{h.restarts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">{summary.isPending ? 'Loading…' : 'No host information.'}</p>
        )}
      </section>
      <section className="card" aria-labelledby="daemons-title">
        <h2 id="daemons-title">Daemons</h2>
        <p className="muted">
          Every daemon over this database, with its lease. A daemon whose lease expires is taken over: its running
          executions end DAEMON_LOST and its sessions are rebuilt on a live daemon.
        </p>
        {s?.daemons && s.daemons.length > 0 ? (
          <div className="table-scroll">
            <table className="table compact" data-testid="daemons-table">
              <thead>
                <tr>
                  <th scope="col">Daemon</th>
                  <th scope="col">Address</th>
                  <th scope="col">Version</th>
                  <th scope="col">Host / PID</th>
                  <th scope="col">Started</th>
                  <th scope="col">Last heartbeat</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {s.daemons.map((d) => (
                  <tr key={d.id} data-testid="daemon-row" data-self={d.self ? 'true' : 'false'}>
                    <td>
                      <code className="wrap">{d.id}</code>
                      {d.self && <span className="badge badge-ok"> this one</span>}
                    </td>
                    <td>{d.address ?? '—'}</td>
                    <td>{d.version}</td>
                    <td>
                      {d.hostname} / {d.pid}
                    </td>
                    <td>{new Date(d.started_at).toLocaleString()}</td>
                    <td data-testid="daemon-heartbeat">{new Date(d.heartbeat_at).toLocaleTimeString()}</td>
                    <td data-testid="daemon-state">{d.alive ? 'alive' : 'lease expired'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">{summary.isPending ? 'Loading…' : 'This daemon holds no lease (an embedded system).'}</p>
        )}
      </section>
      <section className="card" aria-labelledby="scope-title">
        <h2 id="scope-title">How the pieces relate</h2>
        <ul className="plain-list bullets">
          <li>A template is a runtime profile; changing it affects sessions created afterwards only.</li>
          <li>A session owns one live JavaScript runtime, held by one daemon; restarting or losing that daemon rebuilds it by replay (unless its template's recovery policy is off).</li>
          <li>An execution belongs to one session, and its events to that execution; all of them are stored.</li>
        </ul>
      </section>
    </div>
  );
}
