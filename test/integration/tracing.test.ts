import { randomBytes } from 'node:crypto';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningApp, startApp } from '../../src/app.js';
import { type ConfigClient, type ConfigUpdate, createConfigClient } from '../../src/client/index.js';
import { loadConfig } from '../../src/config.js';
import { Environment, Role } from '../../src/domain/enums.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { api, type Api, createProfile, publish } from '../support/api.js';
import {
  type Behavior,
  type ConfigUpdateMsg,
  deployAndWait,
  type DeploymentShape,
  type Fleet,
  REPORT_APPLIED,
  type SimInstance,
  startDeployment,
  startFleet,
  startInstance,
  waitForDeployment,
  HEALTHY,
} from '../support/fleet.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

/**
 * The deployment's trace, recorded in memory: a tracer provider registered in
 * this process before the servers start (the servers and the client library
 * get their tracers from the global API).
 */

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

const DEGRADED = { errorRate: 0.3, latencyP99Ms: 480, requestCount: 200 };
const RELOAD_MS = 4.5;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;
const REPORT_TRACED = `mutation($id: ID!, $p: String!, $v: Int!, $ok: Boolean!, $ms: Float, $tp: String) {
  reportConfigApplied(instanceId: $id, profileName: $p, version: $v, success: $ok, reloadMs: $ms, traceparent: $tp)
}`;

// ---- reading the recorded spans ----

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const idOf = (s: ReadableSpan) => s.spanContext().spanId;
const traceOf = (s: ReadableSpan) => s.spanContext().traceId;
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const traceparentOf = (s: ReadableSpan) => `00-${traceOf(s)}-${idOf(s)}-01`;
const named = (name: string, deploymentId?: string) =>
  spans().filter((s) => s.name === name && (deploymentId === undefined || s.attributes['hotswap.deployment.id'] === deploymentId));
const one = (name: string, deploymentId: string): ReadableSpan => {
  const found = named(name, deploymentId);
  expect(found, `${name} spans of ${deploymentId}`).toHaveLength(1);
  return found[0]!;
};
const idsOn = (s: ReadableSpan) => s.attributes['hotswap.push.instance_ids'] as string[];
/** The push span of `deploymentId` that sent `version` to `instanceId`. */
const pushTo = (deploymentId: string, instanceId: string, version: number) =>
  named('hotswap.push', deploymentId).filter((p) => p.attributes['hotswap.version'] === version && idsOn(p).includes(instanceId));
/** The ack spans of `instanceId` for `version`. */
const acksOf = (instanceId: string, version: number) =>
  named('hotswap.ack').filter((s) => s.attributes['hotswap.instance.id'] === instanceId && s.attributes['hotswap.version'] === version);

/** The pushed updates (not the config sent on subscribe) of `deploymentId` an instance received. */
const pushedBy = (i: SimInstance, deploymentId: string) => i.received.map((r) => r.update).filter((u) => u.deploymentId === deploymentId);

/**
 * Simulated instances that ack like the client library does without an SDK of
 * its own: with the traceparent of the push. `applied` records the last version
 * each acked; `accept(update)` false leaves an update unanswered.
 */
function tracedAcks(a: Api, applied: Map<string, number>, accept: (u: ConfigUpdateMsg, i: SimInstance) => boolean = () => true): Behavior {
  return (update, instance) => {
    if (!accept(update, instance)) return 'ignore';
    void a
      .gql<{ reportConfigApplied: boolean }>(
        REPORT_TRACED,
        { id: instance.id, p: update.profileName, v: update.version, ok: true, ms: RELOAD_MS, tp: update.traceparent },
        instance.token,
      )
      .then((res) => {
        if (res.errors || res.data?.reportConfigApplied !== true) throw new Error(`ack refused: ${JSON.stringify(res)}`);
        applied.set(instance.id, update.version);
      })
      .catch((error: unknown) => instance.subscriptionErrors.push(error));
    return 'ignore';
  };
}

describe('OpenTelemetry traces of deployments', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];
  const stoppers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    // The SDK pieces, registered globally before any server starts.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(provider);
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    await server?.stop();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  /** A profile with versions 1 and 2, version 1 active on `count` instances reporting `metricsOf`, acking with traceparents. */
  async function setUp(name: string, count: number, metricsOf: (i: SimInstance) => Record<string, unknown>, applied = new Map<string, number>()) {
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    await publish(a, name, { v: 1 });
    await publish(a, name, { v: 2 });
    const f = await startFleet(a, { service: `${name}-svc`, count });
    fleets.push(f);
    for (const i of f.instances) i.behavior = tracedAcks(a, applied);
    const first = await deployAndWait(a, name, 1);
    expect(first.status).toBe('COMPLETED');
    f.reportMetrics(100, metricsOf);
    // A baseline exists before the canary starts.
    await new Promise((r) => setTimeout(r, 1200));
    return { f, applied, first };
  }

  /** Waits until `count` spans named `name` of the deployment have ended (the last ones end just after the final commit). */
  const ended = (name: string, deploymentId: string, count: number) =>
    waitFor(`${count} ${name} spans of ${deploymentId}`, () => named(name, deploymentId).length >= count || undefined);

  describe('a canary that completes in 3 phases', () => {
    let f: Fleet;
    let d: DeploymentShape;
    let first: DeploymentShape;
    let root: ReadableSpan;
    let phases: ReadableSpan[];
    const phaseOf = (instanceId: string) => d.targets.find((t) => t.instanceId === instanceId)!.phase;

    beforeAll(async () => {
      ({ f, first } = await setUp('trace-canary', 4, () => HEALTHY));
      const started = await startDeployment(a, {
        profileName: 'trace-canary',
        version: 2,
        strategy: 'CANARY',
        canary: { phases: [0.25, 0.5, 1.0], bakeSeconds: 1 },
        ackTimeoutSeconds: 5,
      });
      d = await waitForDeployment(a, started.id, 25_000);
      await ended('hotswap.deployment.phase', d.id, 3);
      await waitFor('the acks of version 2', () => f.instances.every((i) => acksOf(i.id, 2).length === 1) || undefined);
      root = one('hotswap.deployment', d.id);
      phases = named('hotswap.deployment.phase', d.id).sort((x, y) => Number(x.attributes['hotswap.phase']) - Number(y.attributes['hotswap.phase']));
    }, 40_000);

    it('starts the trace with a hotswap.deployment root span whose traceparent is stored with the deployment', async () => {
      expect(d.status).toBe('COMPLETED');
      expect(root.parentSpanContext).toBeUndefined();
      expect(root.attributes).toMatchObject({
        'hotswap.deployment.id': d.id,
        'hotswap.profile': 'trace-canary',
        'hotswap.service': 'trace-canary-svc',
        'hotswap.environment': 'STAGING',
        'hotswap.strategy': 'CANARY',
        'hotswap.version': 2,
        'hotswap.targets': 4,
        'hotswap.phase_count': 3,
      });
      expect(root.status.code).not.toBe(SpanStatusCode.ERROR);
      const rows = await server.db.query<{ trace_context: string | null }>('select trace_context from deployment where id = $1', [d.id]);
      expect(rows).toEqual([{ trace_context: traceparentOf(root) }]);
    });

    it('keeps the whole deployment in one trace, and another deployment in another', () => {
      const ofDeployment = spans().filter((s) => s.attributes['hotswap.deployment.id'] === d.id);
      // Root, 3 phases, at least 3 pushes, 3 health checks.
      expect(ofDeployment.length).toBeGreaterThanOrEqual(10);
      const acks = f.instances.flatMap((i) => acksOf(i.id, 2));
      expect(acks).toHaveLength(4);
      for (const s of [...ofDeployment, ...acks]) expect(traceOf(s), s.name).toBe(traceOf(root));
      // The DIRECT deployment of version 1 before it had a trace of its own.
      const earlier = one('hotswap.deployment', first.id);
      expect(traceOf(earlier)).not.toBe(traceOf(root));
      expect(spans().filter((s) => traceOf(s) === traceOf(root) && s.attributes['hotswap.deployment.id'] === first.id)).toEqual([]);
    });

    it('has one hotswap.deployment.phase span per phase, each a child of the deployment span', () => {
      expect(phases.map((p) => p.attributes['hotswap.phase'])).toEqual([1, 2, 3]);
      for (const p of phases) {
        expect(parentOf(p)).toBe(idOf(root));
        expect(p.attributes).toMatchObject({ 'hotswap.deployment.id': d.id, 'hotswap.strategy': 'CANARY', 'hotswap.phase_count': 3 });
      }
      expect(phases[0]!.attributes['hotswap.phase.outcome']).toBe('promoted');
      expect(phases[1]!.attributes['hotswap.phase.outcome']).toBe('promoted');
      expect(phases[0]!.attributes['hotswap.health.healthy']).toBe(true);
      // The last one ends with the deployment.
      expect(phases[2]!.attributes['hotswap.deployment.status']).toBe('COMPLETED');
    });

    it('puts each push under the span of its phase, naming the instances and the version', () => {
      const pushes = named('hotswap.push', d.id);
      expect(pushes.length).toBeGreaterThanOrEqual(3);
      for (const p of pushes) {
        const phase = phases.find((ph) => idOf(ph) === parentOf(p));
        expect(phase, 'a push outside any phase span').toBeDefined();
        expect(p.attributes['hotswap.version']).toBe(2);
        expect(p.attributes['hotswap.push.instances']).toBe(idsOn(p).length);
        // Only instances planned in that phase.
        for (const id of idsOn(p)) expect(phaseOf(id)).toBe(phase!.attributes['hotswap.phase']);
      }
      // Every target of each phase was pushed under that phase's span.
      for (const phase of phases) {
        const under = pushes.filter((p) => parentOf(p) === idOf(phase)).flatMap(idsOn);
        const planned = d.targets.filter((t) => t.phase === phase.attributes['hotswap.phase']).map((t) => t.instanceId);
        expect(new Set(under)).toEqual(new Set(planned));
      }
      expect(d.targets.map((t) => t.phase).sort()).toEqual([1, 2, 3, 3]);
    });

    it("sends each instance the push span's context as ConfigUpdate.traceparent", () => {
      for (const i of f.instances) {
        const updates = pushedBy(i, d.id);
        expect(updates.map((u) => u.version)).toEqual([2]);
        const [push] = pushTo(d.id, i.id, 2);
        expect(push).toBeDefined();
        expect(updates[0]!.traceparent).toBe(traceparentOf(push!));
      }
    });

    it("makes each instance's ack a child of the push it answers, with the ack's outcome and reload time", () => {
      for (const i of f.instances) {
        const [ack] = acksOf(i.id, 2);
        const [push] = pushTo(d.id, i.id, 2);
        expect(parentOf(ack!)).toBe(idOf(push!));
        expect(ack!.attributes).toMatchObject({
          'hotswap.instance.id': i.id,
          'hotswap.profile': 'trace-canary',
          'hotswap.version': 2,
          'hotswap.ack.success': true,
          'hotswap.ack.reload_ms': RELOAD_MS,
          'hotswap.ack.accepted': true,
        });
      }
    });

    it('records one hotswap.health_check span per phase, under that phase, healthy', () => {
      const checks = named('hotswap.health_check', d.id).sort((x, y) => Number(x.attributes['hotswap.phase']) - Number(y.attributes['hotswap.phase']));
      expect(checks.map((c) => c.attributes['hotswap.phase'])).toEqual([1, 2, 3]);
      checks.forEach((c, n) => {
        expect(parentOf(c)).toBe(idOf(phases[n]!));
        expect(c.attributes).toMatchObject({
          'hotswap.health.healthy': true,
          'hotswap.health.periodic': false,
          'hotswap.health.insufficient_data': false,
          'hotswap.health.reasons': [],
        });
        expect(c.status.code).not.toBe(SpanStatusCode.ERROR);
      });
      // Each phase's end judges the instances that phase updated: 1, 1, then 2 of the 4.
      expect(checks.map((c) => c.attributes['hotswap.health.updated_instances'])).toEqual([1, 1, 2]);
    });
  });

  describe('a canary that degrades in phase 2 and rolls back', () => {
    let f: Fleet;
    let d: DeploymentShape;
    let root: ReadableSpan;
    let rollback: ReadableSpan;
    const planned = new Map<string, number>();

    beforeAll(async () => {
      const applied = new Map<string, number>();
      ({ f } = await setUp('trace-rollback', 4, (i) => (applied.get(i.id) === 2 && planned.get(i.id) === 2 ? DEGRADED : HEALTHY), applied));
      const started = await startDeployment(a, {
        profileName: 'trace-rollback',
        version: 2,
        strategy: 'CANARY',
        canary: { phases: [0.25, 0.5, 1.0], bakeSeconds: 1 },
        ackTimeoutSeconds: 5,
      });
      for (const t of started.targets) planned.set(t.instanceId, t.phase);
      d = await waitForDeployment(a, started.id, 25_000);
      await ended('hotswap.deployment.rollback', d.id, 1);
      const back = d.targets.filter((t) => t.phase <= 2).map((t) => t.instanceId);
      await waitFor('the acks of the rollback', () => back.every((id) => acksOf(id, 1).length === 2) || undefined);
      root = one('hotswap.deployment', d.id);
      rollback = one('hotswap.deployment.rollback', d.id);
    }, 40_000);

    it('hangs a hotswap.deployment.rollback span under the deployment span, with the reason and the outcome', () => {
      expect(d.status).toBe('ROLLED_BACK');
      expect(parentOf(rollback)).toBe(idOf(root));
      expect(traceOf(rollback)).toBe(traceOf(root));
      expect(rollback.attributes).toMatchObject({ 'hotswap.deployment.id': d.id, 'hotswap.previous_version': 1, 'hotswap.deployment.status': 'ROLLED_BACK' });
      expect(rollback.attributes['hotswap.rollback.reason']).toBe(d.rollbackReason);
      expect(String(rollback.attributes['hotswap.rollback.reason'])).toMatch(/error rate/);
      expect(rollback.status.code).not.toBe(SpanStatusCode.ERROR);
      // Phase 2's span ended with the rollback; phase 3 never started.
      const phases = named('hotswap.deployment.phase', d.id).sort((x, y) => Number(x.attributes['hotswap.phase']) - Number(y.attributes['hotswap.phase']));
      expect(phases.map((p) => [p.attributes['hotswap.phase'], p.attributes['hotswap.phase.outcome']])).toEqual([
        [1, 'promoted'],
        [2, 'rolled back'],
      ]);
    });

    it('marks the health check of phase 2 unhealthy, with its reasons, under the span of phase 2', async () => {
      const checks = named('hotswap.health_check', d.id).filter((c) => c.attributes['hotswap.health.periodic'] === false);
      const byPhase = (p: number) => checks.find((c) => c.attributes['hotswap.phase'] === p)!;
      expect(checks.map((c) => c.attributes['hotswap.phase']).sort()).toEqual([1, 2]);
      expect(byPhase(1).attributes['hotswap.health.healthy']).toBe(true);
      const bad = byPhase(2);
      expect(bad.attributes['hotswap.health.healthy']).toBe(false);
      const reasons = bad.attributes['hotswap.health.reasons'] as string[];
      expect(reasons.length).toBeGreaterThan(0);
      expect(reasons.join(' ')).toMatch(/error rate: canary median [\d.]+ % vs (control|baseline) 1 %/);
      // The same verdict the deployment recorded.
      const res = await a.gql<{ deployment: { healthChecks: Array<{ healthy: boolean; reasons: string[] }> } }>(
        'query($id: ID!) { deployment(id: $id) { healthChecks { healthy reasons } } }',
        { id: d.id },
      );
      expect(res.data?.deployment.healthChecks.filter((h) => !h.healthy).map((h) => h.reasons)).toEqual([reasons]);
      expect(bad.status).toMatchObject({ code: SpanStatusCode.ERROR, message: reasons.join('; ') });
      const phase2 = named('hotswap.deployment.phase', d.id).find((p) => p.attributes['hotswap.phase'] === 2)!;
      expect(parentOf(bad)).toBe(idOf(phase2));
    });

    it("pushes the previous version under the rollback span, and each instance's ack of it joins the trace there", () => {
      const back = d.targets.filter((t) => t.phase <= 2).map((t) => t.instanceId);
      const rollbackPushes = named('hotswap.push', d.id).filter((p) => p.attributes['hotswap.version'] === 1);
      expect(rollbackPushes.length).toBeGreaterThan(0);
      for (const p of rollbackPushes) expect(parentOf(p)).toBe(idOf(rollback));
      expect(new Set(rollbackPushes.flatMap(idsOn))).toEqual(new Set(back));
      for (const id of back) {
        const i = f.byId(id);
        const update = pushedBy(i, d.id).find((u) => u.version === 1);
        const [push] = pushTo(d.id, id, 1);
        expect(update?.traceparent).toBe(traceparentOf(push!));
        // The ack of the version-1 rollback is the last of its two acks of version 1.
        const ack = acksOf(id, 1).find((s) => parentOf(s) === idOf(push!));
        expect(ack, `no ack span of instance ${id} under the rollback push`).toBeDefined();
        expect(traceOf(ack!)).toBe(traceOf(root));
      }
      // The instance of phase 3 was never sent version 2, so nothing was pushed back to it.
      const untouched = d.targets.find((t) => t.phase === 3)!.instanceId;
      expect(pushTo(d.id, untouched, 2)).toEqual([]);
      expect(pushTo(d.id, untouched, 1)).toEqual([]);
    });
  });

  describe('a blue-green deployment, switched back after it completed', () => {
    const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { status } }';
    let f: Fleet;
    let d: DeploymentShape;
    let back: DeploymentShape;
    let root: ReadableSpan;

    beforeAll(async () => {
      const applied = new Map<string, number>();
      await createProfile(a, 'trace-bg', { service: 'trace-bg-svc', environment: Environment.STAGING });
      await publish(a, 'trace-bg', { v: 1 });
      await publish(a, 'trace-bg', { v: 2 });
      f = await startFleet(a, { service: 'trace-bg-svc', count: 2, color: (i) => (i === 0 ? 'BLUE' : 'GREEN') });
      fleets.push(f);
      for (const i of f.instances) i.behavior = tracedAcks(a, applied);
      expect((await deployAndWait(a, 'trace-bg', 1)).status).toBe('COMPLETED');
      f.reportMetrics(100, () => HEALTHY);
      await new Promise((r) => setTimeout(r, 1200));
      const started = await startDeployment(a, { profileName: 'trace-bg', version: 2, strategy: 'BLUE_GREEN', blueGreen: { verifySeconds: 1 }, ackTimeoutSeconds: 5 });
      d = await waitForDeployment(a, started.id, 20_000);
      await ended('hotswap.deployment.phase', d.id, 1);
      root = one('hotswap.deployment', d.id);
      const res = await a.gql<{ rollbackDeployment: { status: string } }>(ROLLBACK, { id: d.id, r: 'green misbehaves' });
      expect(res.data?.rollbackDeployment.status).toBe('ROLLING_BACK');
      back = await waitForDeployment(a, d.id, 15_000);
    }, 40_000);

    it('pushes to the idle color only, under the single phase, and verifies its health there', () => {
      expect(d.status).toBe('COMPLETED');
      const green = f.instances.find((i) => i.color === 'GREEN')!;
      const phase = one('hotswap.deployment.phase', d.id);
      expect(parentOf(phase)).toBe(idOf(root));
      expect(phase.attributes).toMatchObject({ 'hotswap.strategy': 'BLUE_GREEN', 'hotswap.phase': 1, 'hotswap.phase_count': 1 });
      const pushes = named('hotswap.push', d.id).filter((p) => p.attributes['hotswap.version'] === 2);
      expect(pushes.flatMap(idsOn)).toEqual([green.id]);
      for (const p of pushes) expect(parentOf(p)).toBe(idOf(phase));
      const checks = named('hotswap.health_check', d.id).filter((c) => c.attributes['hotswap.health.periodic'] === false);
      expect(checks).toHaveLength(1);
      expect(parentOf(checks[0]!)).toBe(idOf(phase));
      expect(checks[0]!.attributes['hotswap.health.healthy']).toBe(true);
    });

    it('traces the switch back as a hotswap.deployment.rollback span under the deployment span, with no push', async () => {
      expect(back.status).toBe('ROLLED_BACK');
      await waitFor('a rollback span', () => named('hotswap.deployment.rollback', d.id).length > 0 || undefined, 3000).catch(() => undefined);
      const rollback = one('hotswap.deployment.rollback', d.id);
      expect(parentOf(rollback)).toBe(idOf(root));
      expect(traceOf(rollback)).toBe(traceOf(root));
      expect(rollback.attributes).toMatchObject({
        'hotswap.rollback.reason': 'green misbehaves',
        'hotswap.previous_version': 1,
        'hotswap.deployment.status': 'ROLLED_BACK',
      });
      // Switching traffic back pushes nothing.
      expect(named('hotswap.push', d.id).filter((p) => parentOf(p) === idOf(rollback))).toEqual([]);
    });
  });

  describe('a DIRECT deployment an instance fails to apply', () => {
    let f: Fleet;
    let d: DeploymentShape;

    beforeAll(async () => {
      await createProfile(a, 'trace-fail', { service: 'trace-fail-svc' });
      await publish(a, 'trace-fail', { v: 1 });
      f = await startFleet(a, { service: 'trace-fail-svc', count: 2 });
      fleets.push(f);
      const [good, bad] = f.instances as [SimInstance, SimInstance];
      good.behavior = tracedAcks(a, new Map());
      bad.behavior = (update, instance) => {
        void a
          .gql(REPORT_TRACED, { id: instance.id, p: update.profileName, v: update.version, ok: false, ms: null, tp: update.traceparent }, instance.token)
          .catch((error: unknown) => instance.subscriptionErrors.push(error));
        return 'ignore';
      };
      const started = await startDeployment(a, { profileName: 'trace-fail', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
      d = await waitForDeployment(a, started.id, 20_000);
      await ended('hotswap.deployment.phase', d.id, 1);
      await waitFor('both acks', () => f.instances.every((i) => acksOf(i.id, 1).length === 1) || undefined);
    }, 30_000);

    it('ends the phase span with the FAILED status and records the failed ack under its push', () => {
      expect(d.status).toBe('FAILED');
      const phase = one('hotswap.deployment.phase', d.id);
      expect(phase.attributes['hotswap.deployment.status']).toBe('FAILED');
      const [good, bad] = f.instances as [SimInstance, SimInstance];
      const failed = acksOf(bad.id, 1)[0]!;
      expect(failed.attributes).toMatchObject({ 'hotswap.ack.success': false, 'hotswap.ack.accepted': true });
      expect(failed.attributes['hotswap.ack.reload_ms']).toBeUndefined();
      expect(parentOf(failed)).toBe(idOf(pushTo(d.id, bad.id, 1)[0]!));
      expect(acksOf(good.id, 1)[0]!.attributes['hotswap.ack.success']).toBe(true);
      expect(named('hotswap.deployment.rollback', d.id)).toEqual([]);
    });
  });

  describe('periodic health checks', () => {
    let other: TestServer;
    let d: DeploymentShape;

    beforeAll(async () => {
      other = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '200' });
      stoppers.push(() => other.stop());
      const oa = api(other);
      const applied = new Map<string, number>();
      await createProfile(oa, 'trace-periodic', { service: 'trace-periodic-svc' });
      await publish(oa, 'trace-periodic', { v: 1 });
      await publish(oa, 'trace-periodic', { v: 2 });
      const f = await startFleet(oa, { service: 'trace-periodic-svc', count: 2 });
      fleets.push(f);
      for (const i of f.instances) i.behavior = tracedAcks(oa, applied);
      expect((await deployAndWait(oa, 'trace-periodic', 1)).status).toBe('COMPLETED');
      f.reportMetrics(100, () => HEALTHY);
      await new Promise((r) => setTimeout(r, 1200));
      const started = await startDeployment(oa, {
        profileName: 'trace-periodic',
        version: 2,
        strategy: 'CANARY',
        canary: { phases: [0.5, 1.0], bakeSeconds: 2 },
        ackTimeoutSeconds: 5,
      });
      d = await waitForDeployment(oa, started.id, 25_000);
      await ended('hotswap.deployment.phase', d.id, 2);
    }, 40_000);

    it('hangs each periodic check under the span of the phase it ran in', () => {
      expect(d.status).toBe('COMPLETED');
      const root = one('hotswap.deployment', d.id);
      const phases = named('hotswap.deployment.phase', d.id);
      const periodic = named('hotswap.health_check', d.id).filter((c) => c.attributes['hotswap.health.periodic'] === true);
      expect(periodic.length).toBeGreaterThan(0);
      for (const c of periodic) {
        const phase = phases.find((p) => idOf(p) === parentOf(c));
        expect(phase, 'a periodic check outside any phase span').toBeDefined();
        expect(c.attributes['hotswap.phase']).toBe(phase!.attributes['hotswap.phase']);
        // Right after an ack there may be too few heartbeats to judge: INCONCLUSIVE, never FAIL.
        expect(['PASS', 'INCONCLUSIVE']).toContain(c.attributes['hotswap.health.verdict']);
        expect(c.attributes['hotswap.health.healthy']).toBe(c.attributes['hotswap.health.verdict'] === 'PASS');
        expect(traceOf(c)).toBe(traceOf(root));
      }
      expect(periodic.some((c) => c.attributes['hotswap.health.verdict'] === 'PASS')).toBe(true);
      // Besides, the verdict of each phase.
      const verdicts = named('hotswap.health_check', d.id).filter((c) => c.attributes['hotswap.health.periodic'] === false);
      expect(verdicts.map((c) => c.attributes['hotswap.phase']).sort()).toEqual([1, 2]);
    });
  });

  describe('a DIRECT deployment to instances running the client library', () => {
    const service = `trace-client-${randomBytes(3).toString('hex')}`;
    const profile = `${service}-cfg`;
    const clients: ConfigClient[] = [];
    const got = new Map<string, Array<{ update: ConfigUpdate; activeSpanId: string | undefined; activeTraceId: string | undefined }>>();
    let d: DeploymentShape;
    let root: ReadableSpan;

    beforeAll(async () => {
      await createProfile(a, profile, { service, environment: Environment.STAGING });
      await publish(a, profile, { feature: 'on' });
      for (let n = 0; n < 2; n++) {
        const received: Array<{ update: ConfigUpdate; activeSpanId: string | undefined; activeTraceId: string | undefined }> = [];
        const client = createConfigClient({
          url: server.url,
          service,
          environment: 'STAGING',
          registration: { token: await server.token(Role.INSTANCE, { service, environment: Environment.STAGING }), host: `client-${n}` },
          onConfig: (update) => {
            const active = trace.getActiveSpan()?.spanContext();
            received.push({ update, activeSpanId: active?.spanId, activeTraceId: active?.traceId });
          },
          reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        });
        clients.push(client);
        stoppers.push(() => client.stop());
        await client.start();
        await client.ready;
        got.set(client.instanceId!, received);
      }
      const started = await startDeployment(a, { profileName: profile, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
      d = await waitForDeployment(a, started.id, 20_000);
      await ended('hotswap.deployment.phase', d.id, 1);
      await waitFor('the acks of the clients', () => [...got.keys()].every((id) => acksOf(id, 1).length === 1) || undefined);
      root = one('hotswap.deployment', d.id);
    }, 40_000);

    it('has a single phase span under the deployment, its pushes under it, and no health check', () => {
      expect(d.status).toBe('COMPLETED');
      expect(root.attributes).toMatchObject({ 'hotswap.strategy': 'DIRECT', 'hotswap.phase_count': 1, 'hotswap.targets': 2, 'hotswap.version': 1 });
      const phase = one('hotswap.deployment.phase', d.id);
      expect(parentOf(phase)).toBe(idOf(root));
      expect(phase.attributes).toMatchObject({ 'hotswap.phase': 1, 'hotswap.phase_count': 1, 'hotswap.strategy': 'DIRECT', 'hotswap.deployment.status': 'COMPLETED' });
      const pushes = named('hotswap.push', d.id);
      expect(pushes.length).toBeGreaterThan(0);
      for (const p of pushes) expect(parentOf(p)).toBe(idOf(phase));
      expect(new Set(pushes.flatMap(idsOn))).toEqual(new Set(got.keys()));
      expect(named('hotswap.health_check', d.id)).toEqual([]);
      expect(named('hotswap.deployment.rollback', d.id)).toEqual([]);
    });

    it('continues the push in a hotswap.config.apply span on the instance, active while onConfig runs', () => {
      for (const [instanceId, received] of got) {
        const mine = received.filter((r) => r.update.deploymentId === d.id);
        expect(mine).toHaveLength(1);
        const [push] = pushTo(d.id, instanceId, 1);
        expect(mine[0]!.update.traceparent).toBe(traceparentOf(push!));
        const applies = spans().filter((s) => s.name === 'hotswap.config.apply' && parentOf(s) === idOf(push!));
        expect(applies.length).toBeGreaterThanOrEqual(1);
        // onConfig ran inside one of the apply spans under this push.
        const active = applies.find((s) => idOf(s) === mine[0]!.activeSpanId);
        expect(active, `onConfig of ${instanceId} did not run inside an apply span of its push`).toBeDefined();
        expect(mine[0]!.activeTraceId).toBe(traceOf(root));
        expect(active!.instrumentationScope.name).toBe('hotswap-client');
        expect(active!.attributes).toMatchObject({ 'hotswap.profile': profile, 'hotswap.version': 1, 'hotswap.deployment.id': d.id });
        expect(active!.status.code).not.toBe(SpanStatusCode.ERROR);
        expect(traceOf(active!)).toBe(traceOf(root));
      }
    });

    it("makes the server's ack span a child of the instance's apply span", () => {
      for (const [instanceId, received] of got) {
        const mine = received.find((r) => r.update.deploymentId === d.id)!;
        const [ack] = acksOf(instanceId, 1);
        expect(ack).toBeDefined();
        expect(parentOf(ack!)).toBe(mine.activeSpanId);
        expect(traceOf(ack!)).toBe(traceOf(root));
        expect(ack!.attributes).toMatchObject({ 'hotswap.instance.id': instanceId, 'hotswap.ack.success': true, 'hotswap.ack.accepted': true });
        expect(typeof ack!.attributes['hotswap.ack.reload_ms']).toBe('number');
      }
    });
  });

  describe('a deployment started through one server and run by another', () => {
    let front: TestServer;
    let runner: RunningApp;
    let fa: Api;
    let f: Fleet;
    let d: DeploymentShape;

    beforeAll(async () => {
      const prefix = `test:${randomBytes(4).toString('hex')}:`;
      // The front server runs no workers: only the second one can run the deployment.
      front = await startTestServer({ REDIS_URL: inject('redisUrl'), HOTSWAP_REDIS_PREFIX: prefix, HOTSWAP_WORKERS: 'false' });
      stoppers.push(() => front.stop());
      const config = loadConfig({
        DATABASE_URL: front.db.url,
        REDIS_URL: inject('redisUrl'),
        JWT_SECRET: TEST_SECRET,
        PORT: '0',
        HOST: '127.0.0.1',
        RATE_LIMIT_PER_SECOND: '0',
        LOG_LEVEL: 'silent',
        HOTSWAP_REDIS_PREFIX: prefix,
      });
      runner = await startApp(config, createLogger(config.logLevel));
      stoppers.push(() => runner.stop());
      fa = api(front);
      await createProfile(fa, 'trace-replicas', { service: 'trace-replicas-svc' });
      await publish(fa, 'trace-replicas', { v: 1 });
      const applied = new Map<string, number>();
      f = await startFleet(fa, { service: 'trace-replicas-svc', count: 2 });
      fleets.push(f);
      for (const i of f.instances) i.behavior = tracedAcks(fa, applied);
      const started = await startDeployment(fa, { profileName: 'trace-replicas', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
      // The front server runs no workers: the other one claims the deployment and runs all of it.
      expect(started.status).toBe('PENDING');
      expect(started.targets.map((t) => t.state)).toEqual(['PENDING', 'PENDING']);
      d = await waitForDeployment(fa, started.id, 20_000);
      await ended('hotswap.deployment.phase', d.id, 1);
      await waitFor('the acks', () => f.instances.every((i) => acksOf(i.id, 1).length === 1) || undefined);
    }, 40_000);

    it("joins the other server's phase, pushes and acks to the trace of the deployment span the first one started", async () => {
      expect(d.status).toBe('COMPLETED');
      const root = one('hotswap.deployment', d.id);
      const rows = await front.db.query<{ trace_context: string | null }>(
        'select trace_context from deployment where id = $1',
        [d.id],
      );
      expect(rows[0]!.trace_context).toBe(traceparentOf(root));
      const phase = one('hotswap.deployment.phase', d.id);
      expect(parentOf(phase)).toBe(idOf(root));
      expect(traceOf(phase)).toBe(traceOf(root));
      for (const i of f.instances) {
        const [push] = pushTo(d.id, i.id, 1);
        expect(parentOf(push!)).toBe(idOf(phase));
        expect(pushedBy(i, d.id)[0]?.traceparent).toBe(traceparentOf(push!));
        const [ack] = acksOf(i.id, 1);
        expect(parentOf(ack!)).toBe(idOf(push!));
        expect(traceOf(ack!)).toBe(traceOf(root));
      }
    });
  });

  describe('acks whose traceparent is missing or malformed', () => {
    const service = 'trace-bad-tp-svc';
    const profile = 'trace-bad-tp';
    const sent = new Map<string, string | null>();
    const answers = new Map<string, unknown>();
    let instances: SimInstance[];
    let d: DeploymentShape;
    let root: ReadableSpan;
    const BAD = ['not-a-traceparent', `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`, `00-${'A'.repeat(32)}-${'B'.repeat(16)}-01`, null];

    beforeAll(async () => {
      await createProfile(a, profile, { service });
      await publish(a, profile, { v: 1 });
      instances = [];
      for (const tp of BAD) {
        const i = await startInstance(a, {
          service,
          behavior: (update, instance) => {
            const query = tp === null ? REPORT_APPLIED : REPORT_TRACED;
            const variables =
              tp === null
                ? { id: instance.id, p: update.profileName, v: update.version, ok: true, ms: RELOAD_MS, err: null }
                : { id: instance.id, p: update.profileName, v: update.version, ok: true, ms: RELOAD_MS, tp };
            void a
              .gql<{ reportConfigApplied: boolean }>(query, variables, instance.token)
              .then((res) => answers.set(instance.id, res.errors ?? res.data?.reportConfigApplied))
              .catch((error: unknown) => instance.subscriptionErrors.push(error));
            return 'ignore';
          },
        });
        sent.set(i.id, tp);
        instances.push(i);
      }
      const started = await startDeployment(a, { profileName: profile, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
      d = await waitForDeployment(a, started.id, 20_000);
      await waitFor('the ack spans', () => instances.every((i) => acksOf(i.id, 1).length === 1) || undefined);
      root = one('hotswap.deployment', d.id);
    }, 40_000);

    it('accepts the acks, and starts a new trace for each instead of joining one', () => {
      expect(d.status).toBe('COMPLETED');
      expect(d.targets.every((t) => t.state === 'APPLIED')).toBe(true);
      const roots = new Set<string>();
      for (const i of instances) {
        expect(answers.get(i.id), `ack with traceparent ${sent.get(i.id)}`).toBe(true);
        const [ack] = acksOf(i.id, 1);
        expect(ack!.parentSpanContext, `ack with traceparent ${sent.get(i.id)}`).toBeUndefined();
        expect(traceOf(ack!)).not.toBe(traceOf(root));
        expect(traceOf(ack!)).not.toMatch(/^0+$/);
        expect(ack!.attributes).toMatchObject({ 'hotswap.ack.accepted': true, 'hotswap.ack.success': true, 'hotswap.instance.id': i.id });
        roots.add(traceOf(ack!));
      }
      expect(roots.size).toBe(instances.length);
    });

    it('still sent each instance the push span as its traceparent', () => {
      for (const i of instances) {
        const [push] = pushTo(d.id, i.id, 1);
        expect(pushedBy(i, d.id)[0]?.traceparent).toBe(traceparentOf(push!));
        expect(pushedBy(i, d.id)[0]?.traceparent).toMatch(TRACEPARENT);
      }
    });
  });
});
