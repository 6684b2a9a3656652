import { parseTree } from 'jsonc-parser';
import { pointerLines } from './pointer';
import type { ConfigChange } from './queries';

type Mark = 'removed' | 'added' | 'changed';

/** Each line's mark: the lines a changed path spans on this side. */
function marks(text: string, changes: readonly ConfigChange[], side: 'before' | 'after'): Map<number, Mark> {
  const root = parseTree(text);
  const out = new Map<number, Mark>();
  for (const c of changes) {
    if ((side === 'before' && c.op === 'ADD') || (side === 'after' && c.op === 'REMOVE')) continue;
    const lines = pointerLines(text, c.path, root);
    if (!lines) continue;
    const mark: Mark = c.op === 'REPLACE' ? 'changed' : c.op === 'ADD' ? 'added' : 'removed';
    for (let l = lines.first; l <= lines.last; l++) if (!out.has(l)) out.set(l, mark);
  }
  return out;
}

function Column({ title, text, changes, side }: { title: string; text: string; changes: readonly ConfigChange[]; side: 'before' | 'after' }) {
  const lineMarks = marks(text, changes, side);
  const lines = text.split('\n');
  return (
    <figure className="json-column" aria-label={title}>
      <figcaption>{title}</figcaption>
      <pre tabIndex={0}>
        {lines.map((line, i) => {
          const mark = lineMarks.get(i);
          return (
            <span key={i} className={`json-line${mark ? ` line-${mark}` : ''}`} data-mark={mark}>
              <span className="line-no" aria-hidden="true">
                {i + 1}
              </span>
              <span className="line-sign" aria-hidden="true">
                {mark === 'added' ? '+' : mark === 'removed' ? '−' : mark === 'changed' ? '~' : ' '}
              </span>
              {line}
              {'\n'}
            </span>
          );
        })}
      </pre>
    </figure>
  );
}

/** The two versions' JSON side by side, the lines of each changed path marked on both sides. */
export function JsonColumns({ before, after, changes }: { before: { title: string; data: unknown }; after: { title: string; data: unknown }; changes: readonly ConfigChange[] }) {
  return (
    <div className="json-columns">
      <Column title={before.title} text={JSON.stringify(before.data, null, 2)} changes={changes} side="before" />
      <Column title={after.title} text={JSON.stringify(after.data, null, 2)} changes={changes} side="after" />
    </div>
  );
}
