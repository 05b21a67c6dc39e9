import { Link, useLocation } from '../lib/router';

export function NotFoundPage() {
  const { path } = useLocation();
  return (
    <div className="page" data-testid="not-found-page">
      <header className="page-head">
        <h1>Page not found</h1>
      </header>
      <p>
        There is no page at <code>{path}</code>. Go to <Link to="/templates">Templates</Link>.
      </p>
    </div>
  );
}
