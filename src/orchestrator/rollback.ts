import { describeFailures } from '../domain/decision.js';
import { summarizeCounts } from '../domain/deployment.js';
import { EventType } from '../domain/deployment-model.js';
import { DeploymentStatus } from '../domain/enums.js';
import { awaitAcks, expireAcks } from './acks.js';
import { sendToLateJoiners } from './late-joiners.js';
import type { Step, StepResult } from './step.js';

const DONE: StepResult = { done: true, waitMs: 0 };

/**
 * ROLLING_BACK: the previous version goes to every target that was sent the
 * new one, and the acks are verified: ROLLED_BACK when all came back, FAILED
 * naming those that did not. After a blue-green switch, rolling back is
 * switching traffic back: the other color still runs the previous version.
 */
export async function advanceRollback(s: Step, repushDue: boolean): Promise<StepResult> {
  const { r, d } = s;
  const previous = d.previousVersion;
  if (previous === null) {
    const reason = `${d.rollbackReason ?? 'rollback'}; version ${d.version} was the profile's first active version, so there is no previous version to restore: the updated instances keep it`;
    await s.update({ status: DeploymentStatus.FAILED, failureReason: reason, finished: true });
    await s.emit(EventType.FAILED, reason);
    return DONE;
  }
  if (s.strategy.switchesTraffic && d.state.switched && d.state.previousColor !== null) return switchBack(s, previous, d.state.previousColor);

  if (!d.state.rollbackPushed) {
    await s.setState({ rollbackTrace: s.deps.tracing.rollbackStarted(d, d.rollbackReason ?? 'rollback') });
    const ids = d.version === previous ? [] : await r.targets.sentVersion(d.id, d.version);
    await r.targets.markPushed(d.id, d.profileId, ids, previous, d.ackTimeoutSeconds);
    await s.push(previous, ids);
    await s.setState({ rollbackPushed: true });
    // New subscribers get the previous version from now on (it is already active unless the deployment had completed).
    await r.profiles.setActiveVersion(d.profileId, previous);
  }
  await expireAcks(s);
  const waiting = await awaitAcks(s, null, repushDue);
  if (waiting) return waiting;

  const result = summarizeCounts(await r.targets.counts(d.id, null));
  if (result.failed + result.timedOut > 0) {
    const failures = await r.targets.failures(d.id, 5);
    const reason = `rollback to version ${previous} incomplete: ${describeFailures({ phaseResult: result, failures }, `did not come back to version ${previous}`)}`;
    await s.update({ status: DeploymentStatus.FAILED, failureReason: reason, finished: true });
    await s.emit(EventType.FAILED, reason);
    return DONE;
  }
  // The instances that got the new version run the previous one again (before a switch: those of the idle color).
  if (s.strategy.switchesTraffic && d.state.color !== null) await r.traffic.setColorVersion(d.profileId, d.state.color, previous);
  else await r.traffic.clearColorVersions(d.profileId);
  const late = d.state.rollbackFrom === DeploymentStatus.COMPLETED ? await sendToLateJoiners(s, previous) : 0;
  await s.update({ status: DeploymentStatus.ROLLED_BACK, finished: true });
  await s.emit(
    EventType.ROLLED_BACK,
    `version ${previous} restored on ${result.rolledBack ?? 0} instance${result.rolledBack === 1 ? '' : 's'}` +
      `${late > 0 ? ` and sent to ${late} that joined meanwhile` : ''}: ${d.rollbackReason ?? 'rolled back'}`,
  );
  return DONE;
}

async function switchBack(s: Step, previous: number, previousColor: NonNullable<Step['d']['state']['previousColor']>): Promise<StepResult> {
  const { r, d } = s;
  await s.setState({ rollbackTrace: s.deps.tracing.rollbackStarted(d, d.rollbackReason ?? 'rollback') });
  await r.traffic.switchTo(d.service, d.environment, previousColor, d.id);
  await r.profiles.setActiveVersion(d.profileId, previous);
  await s.setState({ switched: false });
  await s.emit(EventType.TRAFFIC_SWITCHED, `traffic switched back from ${d.state.color ?? 'none'} to ${previousColor}, which runs version ${previous}`);
  await s.update({ status: DeploymentStatus.ROLLED_BACK, finished: true });
  await s.emit(EventType.ROLLED_BACK, `${previousColor} takes traffic again: ${d.rollbackReason ?? 'rolled back'}`);
  return DONE;
}
