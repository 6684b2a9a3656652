import type { ReactNode } from 'react';
import { Link, useSearchParams } from 'wouter';
import { useQuery } from '../../api/use-query';
import { Hash, Time } from '../../components/badges';
import { ErrorBox, Loading } from '../../components/error-box';
import { JsonColumns } from './json-columns';
import { type ChangeOp, type ConfigChange, diffHref, profileHref, VERSION_DIFF, type VersionDiffResult, type VersionFull } from './queries';

const OP_LABEL: Record<ChangeOp, string> = { ADD: 'added', REMOVE: 'removed', REPLACE: 'changed' };

function short(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function ChangeList({ changes }: { changes: readonly ConfigChange[] }) {
  if (changes.length === 0) return <p className="muted">The two versions hold the same config.</p>;
  return (
    <div className="table-wrap">
      <table aria-label="Changes">
        <thead>
          <tr>
            <th scope="col">Change</th>
            <th scope="col">Path (JSON Pointer)</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c) => (
            <tr key={`${c.op}${c.path}`} className={`change-${c.op}`}>
              <td>
                <span className={`badge op-${c.op}`}>{OP_LABEL[c.op]}</span>
              </td>
              <td>
                <code className="change-path">{c.path || '/'}</code>
              </td>
              <td>
                <code title={JSON.stringify(c.before)}>{c.op === 'ADD' ? '' : short(c.before)}</code>
              </td>
              <td>
                <code title={JSON.stringify(c.after)}>{c.op === 'REMOVE' ? '' : short(c.after)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function versionTitle(v: VersionFull): string {
  return `v${v.version}${v.description ? ` — ${v.description}` : ''}`;
}

function VersionLine({ v }: { v: VersionFull }) {
  return (
    <span>
      <strong>v{v.version}</strong> by {v.createdBy}, <Time at={v.createdAt} /> · <Hash value={v.hash} />
    </span>
  );
}

/** Two versions of a profile side by side: the change list (JSON Pointer paths) and both JSON documents. */
export function DiffPage({ name }: { name: string }) {
  const [params] = useSearchParams();
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  const valid = Number.isInteger(from) && Number.isInteger(to) && from > 0 && to > 0;
  const q = useQuery<VersionDiffResult>(VERSION_DIFF, { name, from, to }, { skip: !valid });
  const back = <Link href={profileHref(name)}>← {name}</Link>;
  let body: ReactNode;
  if (!valid) body = <p role="alert">Pick two versions to compare on the profile&apos;s page.</p>;
  else if (q.error) body = <ErrorBox error={q.error} title="Could not compare the versions" />;
  else if (!q.data || q.loading) body = <Loading what="the diff" />;
  else {
    const { versionDiff, fromVersion, toVersion } = q.data;
    body = (
      <>
        <p className="diff-versions">
          From {fromVersion ? <VersionLine v={fromVersion} /> : `v${from}`}
          <br />
          to {toVersion ? <VersionLine v={toVersion} /> : `v${to}`}
          <br />
          <Link href={diffHref(name, to, from)}>Swap sides</Link>
        </p>
        <h2>
          {versionDiff.changes.length} change{versionDiff.changes.length === 1 ? '' : 's'}
        </h2>
        <ChangeList changes={versionDiff.changes} />
        {fromVersion && toVersion && (
          <>
            <h2>Side by side</h2>
            <JsonColumns before={{ title: versionTitle(fromVersion), data: fromVersion.data }} after={{ title: versionTitle(toVersion), data: toVersion.data }} changes={versionDiff.changes} />
          </>
        )}
      </>
    );
  }
  return (
    <section>
      {back}
      <h1>
        {name}: v{params.get('from')} → v{params.get('to')}
      </h1>
      {body}
    </section>
  );
}
