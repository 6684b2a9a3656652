import { type FormEvent, useState } from 'react';
import { useMutation } from '../../api/use-query';
import { useCan } from '../../auth/viewer';
import { ErrorBox } from '../../components/error-box';
import { PAUSE, RESUME, ROLLBACK } from './queries';

/** Pause, resume and roll back (with a reason), for the roles that may; hidden for the others. */
export function Controls({ id, status, onDone }: { id: string; status: string; onDone(): void }) {
  const can = useCan();
  const pause = useMutation(PAUSE);
  const resume = useMutation(RESUME);
  const rollback = useMutation(ROLLBACK);
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  if (!can('deployment:control')) return null;

  const busy = pause.busy || resume.busy || rollback.busy;
  const error = pause.error ?? resume.error ?? rollback.error;
  const act = async (run: () => Promise<unknown>) => {
    pause.clearError();
    resume.clearError();
    rollback.clearError();
    if ((await run()) !== undefined) onDone();
  };
  const confirmRollback = async (e: FormEvent) => {
    e.preventDefault();
    if (!reason.trim()) return;
    await act(() => rollback.run({ id, reason: reason.trim() }));
    setAsking(false);
    setReason('');
  };
  const canRollback = ['IN_PROGRESS', 'PAUSED', 'COMPLETED'].includes(status);
  if (!['IN_PROGRESS', 'PAUSED'].includes(status) && !canRollback && !error) return null;

  return (
    <div className="dp-controls" aria-label="Control the deployment" role="group">
      <div className="actions">
        {status === 'IN_PROGRESS' && (
          <button type="button" className="secondary" disabled={busy} onClick={() => void act(() => pause.run({ id }))}>
            {pause.busy ? 'Pausing…' : 'Pause'}
          </button>
        )}
        {status === 'PAUSED' && (
          <button type="button" disabled={busy} onClick={() => void act(() => resume.run({ id }))}>
            {resume.busy ? 'Resuming…' : 'Resume'}
          </button>
        )}
        {canRollback && !asking && (
          <button type="button" className="danger" disabled={busy} onClick={() => setAsking(true)}>
            Roll back…
          </button>
        )}
      </div>
      {asking && (
        <form
          className="panel rollback-form"
          onSubmit={(e) => void confirmRollback(e)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setAsking(false);
          }}
          aria-label="Roll back"
        >
          <label htmlFor="rollback-reason">Why roll back? (recorded with the deployment)</label>
          <textarea id="rollback-reason" rows={2} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} autoFocus required />
          <div className="actions">
            <button type="submit" className="danger" disabled={busy || !reason.trim()}>
              {rollback.busy ? 'Rolling back…' : 'Roll back now'}
            </button>
            <button type="button" className="secondary" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {error && <ErrorBox error={error} />}
    </div>
  );
}
