import { describe, expect, it, vi } from 'vitest';
import { InstanceStatus } from '../../src/domain/enums.js';
import { DeploymentTargetResolver } from '../../src/resolvers/deployment-target.resolver.js';
import type { GraphQLContext } from '../../src/schema/context.js';
import { DeploymentTarget } from '../../src/schema/deployment.type.js';
import type { InstanceService } from '../../src/services/instance.service.js';

const target = (instanceId: string): DeploymentTarget => Object.assign(new DeploymentTarget(), { instanceId, phase: 1, state: 'APPLIED', reloadMs: null, error: null });
const context = (): GraphQLContext => ({ principal: undefined, feeds: {} as GraphQLContext['feeds'] });

describe('DeploymentTarget.instanceStatus', () => {
  function setup(statuses: Record<string, InstanceStatus>) {
    const service = { statuses: vi.fn((ids: readonly string[]) => Promise.resolve(new Map(ids.filter((id) => id in statuses).map((id) => [id, statuses[id]!])))) };
    return { service, resolver: new DeploymentTargetResolver(service as unknown as InstanceService) };
  }

  it('reads the registry once for every target of a request, and answers null for an instance that is gone', async () => {
    const { service, resolver } = setup({ a: InstanceStatus.HEALTHY, b: InstanceStatus.DEGRADED });
    const ctx = context();
    const answers = await Promise.all(['a', 'b', 'gone', 'a'].map((id) => resolver.instanceStatus(ctx, target(id))));
    expect(answers).toEqual([InstanceStatus.HEALTHY, InstanceStatus.DEGRADED, null, InstanceStatus.HEALTHY]);
    expect(service.statuses).toHaveBeenCalledTimes(1);
    expect(service.statuses.mock.calls[0]![0]).toEqual(['a', 'b', 'gone']);
  });

  it('reads again for another request, never answering from an earlier one', async () => {
    const { service, resolver } = setup({ a: InstanceStatus.DEGRADED });
    expect(await resolver.instanceStatus(context(), target('a'))).toBe(InstanceStatus.DEGRADED);
    expect(await resolver.instanceStatus(context(), target('a'))).toBe(InstanceStatus.DEGRADED);
    expect(service.statuses).toHaveBeenCalledTimes(2);
  });

  it('passes a registry failure on to the field (nullable: the rest of the deployment still answers)', async () => {
    const { service, resolver } = setup({});
    service.statuses.mockRejectedValueOnce(new Error('redis down'));
    await expect(resolver.instanceStatus(context(), target('a'))).rejects.toThrow('redis down');
  });
});
