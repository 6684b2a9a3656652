import type { Step } from './step.js';

/**
 * Instances of the service that registered after the deployment started: they
 * were sent the then active version on subscribe and are not targets. When the
 * active version changes at the end (completed, or rolled back after it
 * completed) they are sent `version` too, recorded as sent on subscribe so
 * their ack is accepted and no deployment's push is overridden. With traffic
 * colors, only instances of the color that now takes traffic.
 */
export async function sendToLateJoiners(s: Step, version: number): Promise<number> {
  const { r, d } = s;
  const targets = new Set((await r.deployments.targets(d.id)).map((t) => t.instanceId));
  const color = s.strategy.switchesTraffic ? (d.state.switched ? d.state.color : d.state.previousColor) : null;
  const live = await s.deps.registry.liveInstances(d.service, d.environment);
  const late = live.filter((i) => !targets.has(i.id) && (color === null || i.color === color)).map((i) => i.id);
  await r.targets.recordSentOnSubscribe(late, d.profileId, version);
  await s.push(version, late);
  return late.length;
}
