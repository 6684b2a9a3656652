import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type HealthReport, inUnit } from './queries';

interface Series {
  name: string;
  unit: string;
  reference: string;
  xs: number[];
  canary: Array<number | null>;
  control: Array<number | null>;
}

/** Per metric, the canary and control medians of each health check, oldest first (the rank test where there is one). */
export function metricSeries(checks: HealthReport[]): Series[] {
  const byName = new Map<string, Series>();
  checks.forEach((h, i) => {
    for (const m of h.metrics) {
      let s = byName.get(m.name);
      if (!s) {
        s = { name: m.name, unit: m.unit, reference: m.reference, xs: [], canary: Array<number | null>(checks.length).fill(null), control: Array<number | null>(checks.length).fill(null) };
        byName.set(m.name, s);
      }
      if (s.canary[i] !== null && m.check !== 'MANN_WHITNEY') continue;
      s.canary[i] = m.canaryMedian;
      s.control[i] = m.controlMedian;
      s.reference = m.reference;
    }
  });
  const xs = checks.map((h) => Date.parse(h.checkedAt) / 1000);
  return [...byName.values()].map((s) => ({ ...s, xs })).filter((s) => s.canary.some((v) => v !== null) || s.control.some((v) => v !== null));
}

/** Whole seconds to hours between time ticks: checks are seconds apart at the least. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400];

/** One metric's chart: canary median against the control (or baseline) median at each check. */
function MetricChart({ s }: { s: Series }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const scale = s.unit === 'SHARE' ? 100 : 1;
    const fmt = (v: number) => inUnit(v / scale, s.unit);
    const data: uPlot.AlignedData = [s.xs, s.canary.map((v) => (v === null ? null : v * scale)), s.control.map((v) => (v === null ? null : v * scale))];
    const plot = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height: 170,
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.15 : 1] } },
        axes: [
          { space: 70, incrs: TIME_STEPS, values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString()) },
          { values: (_u, ticks) => ticks.map(fmt), size: 64 },
        ],
        series: [
          {},
          { label: 'canary', stroke: '#b42318', width: 2, points: { show: true, size: 7 }, value: (_u, v) => (v === null ? '—' : fmt(v)) },
          { label: s.reference || 'control', stroke: '#2457d6', width: 2, dash: [6, 4], points: { show: true, size: 7 }, value: (_u, v) => (v === null ? '—' : fmt(v)) },
        ],
        legend: { live: false },
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height: 170 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [s]);
  const last = s.canary.length - 1;
  const label = `${s.name}: canary ${inUnit(s.canary[last], s.unit)} against ${s.reference} ${inUnit(s.control[last], s.unit)} at the latest of ${s.xs.length} checks`;
  return (
    <figure className="metric-chart">
      <figcaption>
        <strong>{s.name}</strong> <span className="muted">canary vs {s.reference} median per check</span>
      </figcaption>
      <div ref={box} role="img" aria-label={label} data-testid={`chart-${s.name}`} />
    </figure>
  );
}

/** Canary against control/baseline over the health checks, a chart per metric. */
export function HealthChart({ checks }: { checks: HealthReport[] }) {
  // A check never changes once made: the list changes only when its times do (not on every poll).
  const key = checks.map((h) => h.checkedAt).join('|');
  const series = useMemo(() => metricSeries(checks), [key]);
  return (
    <section className="panel" aria-labelledby="chart-title">
      <h2 id="chart-title">Canary vs control</h2>
      {series.length === 0 ? (
        <p className="muted">Nothing to chart until a health check has measured the metrics.</p>
      ) : (
        <div className="dp-charts">
          {series.map((s) => (
            <MetricChart key={s.name} s={s} />
          ))}
        </div>
      )}
    </section>
  );
}
