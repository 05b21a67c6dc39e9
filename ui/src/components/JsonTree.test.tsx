import { afterEach, describe, expect, it } from 'vitest';
import { JsonTree } from './JsonTree';
import { click, render, type Rendered } from '../test/render';

let r: Rendered | null = null;
afterEach(() => {
  r?.unmount();
  r = null;
});

describe('JsonTree', () => {
  it('renders primitives with their JSON spelling', () => {
    r = render(<JsonTree value={{ s: 'text', n: 42, b: true, z: null }} />);
    const text = r.byTestId('json-tree').textContent;
    expect(text).toContain('"text"');
    expect(text).toContain('42');
    expect(text).toContain('true');
    expect(text).toContain('null');
    expect(r.allByTestId('json-leaf')).toHaveLength(4);
  });

  it('renders a bare primitive root', () => {
    r = render(<JsonTree value={'hello'} />);
    expect(r.byTestId('json-tree').textContent).toBe('"hello"');
  });

  it('expands the first levels and collapses deeper ones', () => {
    r = render(<JsonTree value={{ a: { b: { c: 1 } } }} />);
    const toggles = r.allByTestId('json-toggle');
    // root and "a" are open (depth < 2), "b" is closed.
    expect(toggles.map((t) => t.getAttribute('aria-expanded'))).toEqual(['true', 'true', 'false']);
    expect(r.byTestId('json-tree').textContent).not.toContain('c: 1');
  });

  it('toggles a node open and closed by button', async () => {
    r = render(<JsonTree value={{ list: [1, 2, 3] }} expandDepth={1} />);
    const listToggle = r.allByTestId('json-toggle')[1];
    expect(listToggle.textContent).toContain('Array(3)');
    expect(listToggle.getAttribute('aria-expanded')).toBe('false');
    await click(listToggle);
    expect(listToggle.getAttribute('aria-expanded')).toBe('true');
    expect(r.allByTestId('json-leaf')).toHaveLength(3);
    await click(listToggle);
    expect(r.allByTestId('json-leaf')).toHaveLength(0);
  });

  it('shows empty containers without a toggle', () => {
    r = render(<JsonTree value={{ a: [], o: {} }} />);
    expect(r.allByTestId('json-toggle')).toHaveLength(1);
    expect(r.byTestId('json-tree').textContent).toContain('[]');
    expect(r.byTestId('json-tree').textContent).toContain('{}');
  });

  it('pages very long arrays', async () => {
    r = render(<JsonTree value={Array.from({ length: 250 }, (_, i) => i)} />);
    expect(r.allByTestId('json-leaf')).toHaveLength(100);
    const more = Array.from(r.container.querySelectorAll('button')).find((b) => b.textContent?.startsWith('Show 100 more'));
    expect(more).toBeTruthy();
    await click(more as HTMLElement);
    expect(r.allByTestId('json-leaf')).toHaveLength(200);
  });
});
