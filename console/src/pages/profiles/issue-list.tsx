import type { LocatedIssue } from './config-check';

/** The problems of the edited config as a list; each one's path moves the cursor to it in the editor. */
export function IssueList({ issues, onSelect }: { issues: readonly LocatedIssue[]; onSelect(issue: LocatedIssue): void }) {
  if (issues.length === 0) return null;
  return (
    <ul className="issue-list" aria-label="Problems">
      {issues.map((issue, i) => (
        <li key={`${issue.path}-${issue.keyword}-${i}`}>
          {issue.range ? (
            <button type="button" className="link" onClick={() => onSelect(issue)} title="Show it in the editor">
              <code>{issue.path || '/'}</code>
            </button>
          ) : (
            <code>{issue.path || '/'}</code>
          )}{' '}
          {issue.message} <span className="muted">({issue.keyword})</span>
        </li>
      ))}
    </ul>
  );
}
