import { describeFailures } from '../domain/lifecycle/judgement.js';
import { summarizeCounts } from '../domain/deployment.js';
import { EventType } from '../domain/deployment-model.js';
import { type Color, DeploymentStatus } from '../domain/enums.js';
import { sendToLateJoiners } from './late-joiners.js';
import type { Step, StepResult } from './step.js';

const DONE: StepResult = { done: true, waitMs: 0 };

/**
 * The last phase passed: `switchTo` takes traffic (blue-green; each color
 * keeps its version, so instances of the old color that join meanwhile get
 * the old one), the version becomes active, and instances that joined
 * meanwhile get it too.
 */
export async function complete(s: Step, switchTo: Color | null): Promise<StepResult> {
  const { r, d } = s;
  const { previousColor } = d.state;
  if (switchTo !== null) {
    await r.traffic.switchTo(d.service, d.environment, switchTo, d.id);
    await r.traffic.setColorVersion(d.profileId, switchTo, d.version);
    if (previousColor !== null && d.previousVersion !== null) await r.traffic.setColorVersion(d.profileId, previousColor, d.previousVersion);
    await s.setState({ switched: true });
    await s.emit(EventType.TRAFFIC_SWITCHED, `traffic switched from ${previousColor ?? 'none'} to ${switchTo}`);
  } else {
    await r.traffic.clearColorVersions(d.profileId);
  }
  await r.profiles.setActiveVersion(d.profileId, d.version);
  const late = await sendToLateJoiners(s, d.version);
  await s.transition(
    { status: DeploymentStatus.COMPLETED, finished: true },
    `version ${d.version} is active${late > 0 ? `; sent to ${late} instances that joined meanwhile` : ''}`,
  );
  return DONE;
}

/** Every target came back to `version`: `color`'s instances run it again (null: no colors), and late joiners get it when the deployment had completed. */
export async function rolledBack(
  s: Step,
  next: { version: number; color: Color | null; fromCompleted: boolean },
  restored: number,
): Promise<StepResult> {
  const { r, d } = s;
  if (next.color !== null) await r.traffic.setColorVersion(d.profileId, next.color, next.version);
  else await r.traffic.clearColorVersions(d.profileId);
  const late = next.fromCompleted ? await sendToLateJoiners(s, next.version) : 0;
  await s.transition(
    { status: DeploymentStatus.ROLLED_BACK, finished: true },
    `version ${next.version} restored on ${restored} instance${restored === 1 ? '' : 's'}` +
      `${late > 0 ? ` and sent to ${late} that joined meanwhile` : ''}: ${d.rollbackReason ?? 'rolled back'}`,
  );
  return DONE;
}

/** Some targets did not come back to `version`: FAILED, naming them. */
export async function rollbackIncomplete(s: Step, version: number): Promise<StepResult> {
  const { r, d } = s;
  const result = summarizeCounts(await r.targets.counts(d.id, null));
  const failures = await r.targets.failures(d.id, 5);
  const reason = `rollback to version ${version} incomplete: ${describeFailures({ phaseResult: result, failures }, `did not come back to version ${version}`)}`;
  await s.transition({ status: DeploymentStatus.FAILED, failureReason: reason, finished: true }, reason);
  return DONE;
}

/** After a blue-green switch: `color`, which still runs the previous version, takes traffic again (no push). */
export async function switchBack(s: Step, color: Color): Promise<StepResult> {
  const { r, d } = s;
  const previous = d.previousVersion ?? d.version;
  await s.setState({ rollbackTrace: s.deps.tracing.rollbackStarted(d, d.rollbackReason ?? 'rollback') });
  await r.traffic.switchTo(d.service, d.environment, color, d.id);
  await r.profiles.setActiveVersion(d.profileId, previous);
  await s.setState({ switched: false });
  await s.emit(EventType.TRAFFIC_SWITCHED, `traffic switched back from ${d.state.color ?? 'none'} to ${color}, which runs version ${previous}`);
  await s.transition({ status: DeploymentStatus.ROLLED_BACK, finished: true }, `${color} takes traffic again: ${d.rollbackReason ?? 'rolled back'}`);
  return DONE;
}
