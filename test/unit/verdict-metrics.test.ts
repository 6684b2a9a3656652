import { describe, expect, it } from 'vitest';
import { DeploymentStatus, DeploymentStrategy, Environment, HealthVerdict } from '../../src/domain/enums.js';
import { Metrics, type MetricsSources, VERDICT_VALUE } from '../../src/telemetry/metrics.js';

/** The health verdict metrics of the dashboard's "health verdicts per deployment" panels. */

const VERDICTS = 'hotswap_health_verdicts_total';
const LATEST = 'hotswap_deployment_health_verdict';

function metrics(held?: () => readonly string[]): Metrics {
  const sources: MetricsSources = { activeDeployments: () => Promise.resolve({}), instancesByService: () => Promise.resolve([]), subscribers: () => 0 };
  return new Metrics(held ? { ...sources, heldDeployments: held } : sources);
}

/** The samples of `name` as "label=value,… value" lines, sorted. */
async function samples(m: Metrics, name: string): Promise<string[]> {
  const text = await m.registry.getSingleMetricAsString(name);
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => l.slice(name.length))
    .sort();
}

const deployment = (id: string, environment = Environment.STAGING) => ({ id, profileName: `${id}-profile`, environment });
const ended = (id: string) => ({ id, strategy: DeploymentStrategy.CANARY, environment: Environment.STAGING, createdAt: new Date(Date.now() - 1000) });

describe('health verdict metrics', () => {
  it('counts every verdict by verdict and environment, each series there from the start at 0', async () => {
    const m = metrics();
    expect(await samples(m, VERDICTS)).toHaveLength(9);
    expect((await samples(m, VERDICTS)).every((s) => s.endsWith(' 0'))).toBe(true);
    m.healthJudged(deployment('d1'), HealthVerdict.FAIL);
    m.healthJudged(deployment('d1'), HealthVerdict.FAIL);
    m.healthJudged(deployment('d2', Environment.PRODUCTION), HealthVerdict.PASS);
    const counted = await samples(m, VERDICTS);
    expect(counted).toContain('{verdict="FAIL",environment="STAGING"} 2');
    expect(counted).toContain('{verdict="PASS",environment="PRODUCTION"} 1');
    expect(counted.filter((s) => !s.endsWith(' 0'))).toHaveLength(2);
  });

  it('keeps the latest verdict of each deployment, 1 PASS, 0 INCONCLUSIVE, -1 FAIL, until it ends', async () => {
    expect(VERDICT_VALUE).toEqual({ PASS: 1, INCONCLUSIVE: 0, FAIL: -1 });
    const m = metrics();
    expect(await samples(m, LATEST)).toEqual([]);
    m.healthJudged(deployment('d1'), HealthVerdict.INCONCLUSIVE);
    m.healthJudged(deployment('d2'), HealthVerdict.PASS);
    expect(await samples(m, LATEST)).toEqual([
      '{deployment_id="d1",profile="d1-profile",environment="STAGING"} 0',
      '{deployment_id="d2",profile="d2-profile",environment="STAGING"} 1',
    ]);
    m.healthJudged(deployment('d1'), HealthVerdict.FAIL);
    expect(await samples(m, LATEST)).toContain('{deployment_id="d1",profile="d1-profile",environment="STAGING"} -1');
    m.deploymentEnded(ended('d1'), DeploymentStatus.ROLLED_BACK, new Date());
    expect(await samples(m, LATEST)).toEqual(['{deployment_id="d2",profile="d2-profile",environment="STAGING"} 1']);
    // A CANCELLED (or any) end drops it too, counting no outcome.
    m.deploymentEnded(ended('d2'), DeploymentStatus.CANCELLED, new Date());
    expect(await samples(m, LATEST)).toEqual([]);
  });

  it('reports only the deployments this replica runs: one another replica took over leaves at the next scrape', async () => {
    let held = ['d1', 'd2'];
    const m = metrics(() => held);
    m.healthJudged(deployment('d1'), HealthVerdict.PASS);
    m.healthJudged(deployment('d2'), HealthVerdict.FAIL);
    expect(await samples(m, LATEST)).toHaveLength(2);
    held = ['d2'];
    expect(await samples(m, LATEST)).toEqual(['{deployment_id="d2",profile="d2-profile",environment="STAGING"} -1']);
    // Gone for good: taken back later, it shows again at its next verdict only.
    held = ['d1', 'd2'];
    expect(await samples(m, LATEST)).toHaveLength(1);
    m.healthJudged(deployment('d1'), HealthVerdict.INCONCLUSIVE);
    expect(await samples(m, LATEST)).toHaveLength(2);
  });
});
