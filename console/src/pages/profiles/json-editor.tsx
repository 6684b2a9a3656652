import { json } from '@codemirror/lang-json';
import { type Diagnostic, lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorView, basicSetup } from 'codemirror';
import { type Ref, useEffect, useImperativeHandle, useRef } from 'react';

export interface JsonEditorHandle {
  /** Selects [from, to) and moves the focus into the editor (from the error list). */
  select(from: number, to: number): void;
}

export interface JsonEditorProps {
  initial: string;
  onChange(text: string): void;
  /** Shown inline (underlined, with a gutter marker and a tooltip). */
  diagnostics: readonly Diagnostic[];
  /** The editor's accessible name. */
  label: string;
  describedBy?: string;
  ref?: Ref<JsonEditorHandle>;
}

/**
 * A CodeMirror 6 JSON editor. Tab is left to the browser (focus moves on), so
 * the editor never traps the keyboard; the lint keymap (Ctrl-Shift-M) lists
 * the diagnostics at the cursor.
 */
export function JsonEditor({ initial, onChange, diagnostics, label, describedBy, ref }: JsonEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    if (!host.current) return;
    const attributes: Record<string, string> = { 'aria-label': label };
    if (describedBy) attributes['aria-describedby'] = describedBy;
    const v = new EditorView({
      doc: initial,
      parent: host.current,
      extensions: [
        basicSetup,
        json(),
        lintGutter(),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of(attributes),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) changed.current(u.state.doc.toString());
        }),
      ],
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The document is the editor's own after mounting: `initial` seeds it once.
  }, []);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const length = v.state.doc.length;
    const clamped = diagnostics.map((d) => ({ ...d, from: Math.min(d.from, length), to: Math.min(Math.max(d.to, d.from), length) }));
    v.dispatch(setDiagnostics(v.state, clamped));
  }, [diagnostics]);

  useImperativeHandle(ref, () => ({
    select(from, to) {
      const v = view.current;
      if (!v) return;
      const length = v.state.doc.length;
      v.dispatch({ selection: { anchor: Math.min(from, length), head: Math.min(to, length) }, scrollIntoView: true });
      v.focus();
    },
  }));

  return <div className="json-editor" ref={host} />;
}
