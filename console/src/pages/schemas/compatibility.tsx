import { Link } from 'wouter';
import { StatusBadge, Time } from '../../components/badges';
import { type CompatibilityReport, readReport } from './api';

/** The breaking-change report computed on submission: what changed and which profiles would stop validating. */
export function Compatibility({ json, label }: { json: unknown; label: string }) {
  const report = readReport(json);
  if (!report) {
    return (
      <section className="compat" aria-label={`Compatibility report of ${label}`}>
        <h3>Compatibility report</h3>
        <p className="muted">No report yet: it is computed when the schema is submitted for approval.</p>
      </section>
    );
  }
  const broken = report.profiles.filter((p) => !p.valid);
  return (
    <section className="compat" aria-label={`Compatibility report of ${label}`}>
      <h3>
        Compatibility report <StatusBadge status={report.compatible ? 'COMPATIBLE' : 'BREAKING'} />
      </h3>
      <p className="hint">
        {report.previousApprovedVersion === null
          ? 'No earlier approved version to compare with.'
          : `Compared with approved v${report.previousApprovedVersion}.`}{' '}
        Computed <Time at={report.computedAt} />.
      </p>
      {broken.length > 0 && (
        <p className="compat-stop" data-testid="would-stop-validating">
          <strong>Would stop validating:</strong> {broken.map((p) => `${p.profileName} (${p.which} v${p.version})`).join(', ')}
        </p>
      )}
      <BreakingChanges report={report} />
      <ProfileChecks report={report} />
    </section>
  );
}

function BreakingChanges({ report }: { report: CompatibilityReport }) {
  if (report.breakingChanges.length === 0) return <p className="muted">No breaking changes.</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption>Breaking changes ({report.breakingChanges.length})</caption>
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col">Kind</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {report.breakingChanges.map((c, i) => (
            <tr key={i}>
              <td>
                <code>{c.path || '(root)'}</code>
              </td>
              <td>{c.kind.replace(/_/g, ' ').toLowerCase()}</td>
              <td>{c.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ProfileChecks({ report }: { report: CompatibilityReport }) {
  if (report.profiles.length === 0) return <p className="muted">No profile with a config is bound to this schema.</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption>Bound profiles&apos; configs against this version</caption>
        <thead>
          <tr>
            <th scope="col">Profile</th>
            <th scope="col">Config</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {report.profiles.map((p, i) => (
            <tr key={i} className={p.valid ? undefined : 'compat-bad'}>
              <td>
                <Link href={`~/profiles/${encodeURIComponent(p.profileName)}`}>{p.profileName}</Link>
              </td>
              <td>
                {p.which} v{p.version}
              </td>
              <td>
                {p.valid ? (
                  <StatusBadge status="PASS" />
                ) : (
                  <>
                    <StatusBadge status="FAIL" /> would stop validating
                    <ul className="compat-errors">
                      {p.errors.map((e, j) => (
                        <li key={j}>
                          <code>{e.path || '/'}</code> {e.message}
                        </li>
                      ))}
                    </ul>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
