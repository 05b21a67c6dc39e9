import { useEffect, useRef } from 'react';
import { basicSetup } from 'codemirror';
import { javascript } from '@codemirror/lang-javascript';
import type { CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { EditorState, Prec } from '@codemirror/state';
import { EditorView, keymap } from '@codemirror/view';

export interface CodeEditorProps {
  value: string;
  onChange: (value: string) => void;
  /** Ctrl/Cmd+Enter. */
  onRun?: () => void;
  label?: string;
  testId?: string;
  /** Highlight TypeScript syntax (fixed when the editor is created: key the editor to change it). */
  typescript?: boolean;
  /**
   * Completions from the session (`POST /sessions/{id}/complete`): `cursor` and the answer's
   * offsets count code points. Absent: only the editor's own (local scope) completions.
   */
  complete?: (
    code: string,
    cursor: number,
    signal: AbortSignal,
  ) => Promise<{ matches: string[]; cursor_start: number; cursor_end: number }>;
}

/** A CodeMirror completion source asking the session for what may follow the cursor. */
function sessionSource(completeRef: { current: CodeEditorProps['complete'] }) {
  return async (ctx: CompletionContext): Promise<CompletionResult | null> => {
    const complete = completeRef.current;
    if (!complete) return null;
    const word = ctx.matchBefore(/[A-Za-z0-9_$]*/);
    const afterDot = ctx.matchBefore(/\.[A-Za-z0-9_$]*/) !== null;
    if (!ctx.explicit && !afterDot && (!word || word.from === word.to)) return null;
    const text = ctx.state.doc.toString();
    const cursor = Array.from(text.slice(0, ctx.pos)).length;
    const controller = new AbortController();
    ctx.addEventListener('abort', () => controller.abort());
    let found;
    try {
      found = await complete(text, cursor, controller.signal);
    } catch {
      return null; // busy (an execution runs), not ready, gone: nothing to offer
    }
    if (ctx.aborted || found.matches.length === 0) return null;
    // The replaced word is an identifier (ASCII): as many UTF-16 units as code points.
    return {
      from: ctx.pos - (found.cursor_end - found.cursor_start),
      options: found.matches.map((label) => ({ label, type: 'variable' })),
      validFor: /^[A-Za-z0-9_$]*$/,
    };
  };
}

const theme = EditorView.theme({
  '&': { fontSize: '14px', backgroundColor: 'var(--surface)', minHeight: '12rem' },
  '.cm-scroller': { fontFamily: 'var(--font-mono)', lineHeight: '1.5' },
  '.cm-content': { minHeight: '12rem' },
  '&.cm-focused': { outline: 'none' },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', borderRight: '1px solid var(--border)', color: 'var(--text-muted)' },
});

/** CodeMirror 6 JavaScript (or TypeScript) editor. Tab moves focus (no tab trapping); Ctrl/Cmd+Enter runs. */
export default function CodeEditor({
  value,
  onChange,
  onRun,
  label = 'JavaScript code',
  testId = 'workbench-editor',
  typescript = false,
  complete,
}: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  const onRunRef = useRef(onRun);
  onChangeRef.current = onChange;
  onRunRef.current = onRun;
  const completeRef = useRef(complete);
  completeRef.current = complete;

  useEffect(() => {
    if (!host.current) return;
    const sessionData = [{ autocomplete: sessionSource(completeRef) }];
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: value,
        extensions: [
          Prec.highest(
            keymap.of([
              {
                key: 'Mod-Enter',
                run: () => {
                  onRunRef.current?.();
                  return true;
                },
              },
            ]),
          ),
          basicSetup,
          javascript({ typescript }),
          // One source object for the editor's life: a new one per lookup restarts completion.
          EditorState.languageData.of(() => sessionData),
          theme,
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ 'aria-label': label, 'data-testid': `${testId}-input` }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChangeRef.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is created once; later value changes are applied below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  return <div ref={host} className="code-editor" data-testid={testId} />;
}
