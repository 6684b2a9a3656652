import { InstanceStatus } from '../domain/enums.js';
import type { Step } from './step.js';

/**
 * Instances of the service that are not targets (they registered after the
 * deployment started, or were not connected when it did): they were sent the
 * then active version on subscribe. When the
 * active version changes at the end (completed, or rolled back after it
 * completed) they are sent `version` too, recorded as sent on subscribe so
 * their ack is accepted and no deployment's push is overridden. With traffic
 * colors, only instances of the color that now takes traffic.
 */
export async function sendToLateJoiners(s: Step, version: number): Promise<number> {
  const { r, d } = s;
  const targets = new Set((await r.deployments.targets(d.id)).map((t) => t.instanceId));
  const color = s.strategy.switchesTraffic ? (d.state.switched ? d.state.color : d.state.previousColor) : null;
  // Registered, connected or not: one between two connections right now gets it recorded, and so sent on subscribe.
  const registered = await s.deps.registry.list({ service: d.service, environment: d.environment });
  const late = registered
    .filter((i) => i.status !== InstanceStatus.STALE && !targets.has(i.id) && (color === null || i.color === color))
    .map((i) => i.id);
  await r.targets.recordSentOnSubscribe(late, d.profileId, version);
  await s.push(version, late);
  return late.length;
}
