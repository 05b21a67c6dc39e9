import type { MimeBundle } from '../api/types';

/** MIME types shown, richest first: the first one the bundle has is rendered. */
export const MIME_ORDER = [
  'text/html',
  'image/svg+xml',
  'image/png',
  'image/jpeg',
  'image/gif',
  'text/markdown',
  'application/json',
  'text/plain',
] as const;

const BASE64_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif']);

/** The MIME type of `bundle` that MimeView renders. */
export function richestMime(bundle: MimeBundle): string {
  return MIME_ORDER.find((m) => bundle[m] !== undefined) ?? 'text/plain';
}

/**
 * One MIME bundle of `display()` (or a result's own bundle). Nothing in it runs in the UI's
 * origin: HTML goes into an iframe sandboxed without any permission (no scripts, an opaque
 * origin), SVG and bitmaps are images (an SVG loaded as an image runs no script), Markdown is
 * shown as its source text.
 */
export function MimeView({ bundle }: { bundle: MimeBundle }) {
  const mime = richestMime(bundle);
  const data = bundle[mime];
  const label = String(bundle['text/plain'] ?? mime);
  let body;
  if (mime === 'text/html') {
    body = <iframe className="mime-html" sandbox="" srcDoc={String(data)} title={label} data-testid="display-html" referrerPolicy="no-referrer" />;
  } else if (mime === 'image/svg+xml') {
    body = <img className="mime-image" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(String(data))}`} alt={label} data-testid="display-image" />;
  } else if (BASE64_IMAGES.has(mime)) {
    body = <img className="mime-image" src={`data:${mime};base64,${String(data)}`} alt={label} data-testid="display-image" />;
  } else if (mime === 'application/json') {
    body = <pre className="code-block">{JSON.stringify(data, null, 2)}</pre>;
  } else {
    body = <pre className="code-block">{String(data ?? '')}</pre>;
  }
  return (
    <figure className="mime-view" data-testid="display" data-mime={mime}>
      {body}
    </figure>
  );
}
