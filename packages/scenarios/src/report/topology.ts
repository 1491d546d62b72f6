import type { Outcome, ScenarioResult } from '../scenario.js';
import type { SystemGraph } from '../system/graph/graph.js';
import { type SvgAnnotation, type SvgOptions, type Tone, toSvg } from '../system/graph/svg.js';
import type { Phase } from '../system/phases.js';

/** One drawing of the topology: a variant's figures in one phase. */
export interface TopologyView {
  variant: string;
  phase: string;
  svg: string;
}

/**
 * The topology of a result drawn once per variant and phase, with per-edge rates and error rates and
 * per-node health read from the outcome's `<node>.<phase>.<figure>` figures; empty when the result
 * carries no topology (only system scenarios annotate one). Deterministic.
 *
 * @example
 * ```ts
 * topologyViews(runScenario(threeTier, { seed: 1 }))[0].svg;
 * ```
 */
export function topologyViews(result: ScenarioResult): TopologyView[] {
  const parts =
    result.variants.length === 0
      ? [{ name: 'run', outcome: result.outcome, topology: result.topology, phases: result.phases }]
      : result.variants;
  const views: TopologyView[] = [];
  for (const part of parts) {
    if (part.topology === undefined) continue;
    for (const phase of part.phases ?? []) {
      views.push({
        variant: part.name,
        phase: phase.name,
        svg: toSvg(part.topology, {
          idPrefix: `t${views.length}-`,
          ...topologyFigures(part.topology, part.outcome, phase),
        }),
      });
    }
  }
  return views;
}

/**
 * Annotations of a topology for one phase: clients by availability and p99, services and databases by
 * utilisation and error rate (and cache-aside hit ratio), balancers by their own error rate and mean
 * ejected backends, CDNs by their edge hit ratio and error rate, caches, kafka and amqp by the error rate of the calls into them, consumer groups by records per second and mean lag and workers by messages
 * per second and mean queue depth (amber from one second of their throughput behind, red from ten),
 * edges by calls per second and error rate.
 * Tones: red at an error rate of 1% or more (availability below 99%), amber at 0.1% (below 99.9%) or a
 * utilisation of 90% or more, green otherwise; no tone where nothing was measured.
 *
 * @example
 * ```ts
 * toSvg(graph, topologyFigures(graph, result.outcome, result.phases[1]));
 * ```
 */
export function topologyFigures(
  graph: SystemGraph,
  outcome: Outcome,
  phase: Pick<Phase, 'name'>,
): Pick<SvgOptions, 'nodes' | 'edges'> {
  const get = (key: string): number | null => {
    const v = outcome[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const nodes: Record<string, SvgAnnotation> = {};
  for (const n of graph.nodes) {
    const k = `${n.name}.${phase.name}.`;
    if (n.kind === 'clients') {
      const availability = get(`${k}availability`);
      const p99 = get(`${k}p99`);
      if (availability === null) continue;
      nodes[n.name] = {
        text: `${percent(availability)} ok${p99 === null ? '' : ` · p99 ${short(p99)} ms`}`,
        tone: availability >= 0.999 ? 'ok' : availability >= 0.99 ? 'warn' : 'bad',
      };
    } else if (n.kind === 'service' || n.kind === 'database') {
      const utilisation = get(`${k}utilisation`);
      const errors = get(`${k}errorRate`);
      const hits = get(`${k}hitRatio`);
      if (utilisation === null && errors === null) continue;
      const parts = [
        ...(utilisation === null ? [] : [`ρ ${short(utilisation)}`]),
        ...(errors === null ? [] : [`${percent(errors)} err`]),
        ...(hits === null ? [] : [`hit ${percent(hits)}`]),
      ];
      nodes[n.name] = { text: parts.join(' · '), tone: errorTone(errors, utilisation) };
    } else if (n.kind === 'consumer') {
      const rate = get(`${k}rate`);
      const lag = get(`${k}lag`);
      if (rate === null || lag === null) continue;
      // Lag in seconds of this phase's throughput: under one is keeping up, ten or more is far behind.
      const behind = rate > 0 ? lag / rate : lag > 0 ? Number.POSITIVE_INFINITY : 0;
      nodes[n.name] = {
        text: `${short(rate)}/s · lag ${short(lag)}`,
        tone: behind < 1 ? 'ok' : behind < 10 ? 'warn' : 'bad',
      };
    } else if (n.kind === 'balancer' && get(`${k}errorRate`) !== null) {
      const errors = get(`${k}errorRate`);
      const ejected = get(`${k}ejected`) ?? 0;
      nodes[n.name] = {
        text: `${percent(errors!)} err${ejected > 0 ? ` · ${short(ejected)} ejected` : ''}`,
        tone: errorTone(errors, null),
      };
    } else if (n.kind === 'cdn' && get(`${k}hitRatio`) !== null) {
      const hits = get(`${k}hitRatio`)!;
      const errors = get(`${k}errorRate`);
      nodes[n.name] = {
        text: `hit ${percent(hits)}${errors ? ` · ${percent(errors)} err` : ''}`,
        tone: errorTone(errors, null),
      };
    } else if (n.kind === 'worker') {
      const rate = get(`${k}rate`);
      const depth = get(`${k}queue`);
      const errors = get(`${k}errorRate`);
      if (rate === null || depth === null) continue;
      // Like a consumer group: the queue in seconds of this phase's throughput.
      const behind = rate > 0 ? depth / rate : depth > 0 ? Number.POSITIVE_INFINITY : 0;
      const tone = errorTone(errors, null);
      nodes[n.name] = {
        text: `${short(rate)}/s · queue ${short(depth)}${errors ? ` · ${percent(errors)} nack` : ''}`,
        tone: tone === 'bad' || behind >= 10 ? 'bad' : tone === 'warn' || behind >= 1 ? 'warn' : 'ok',
      };
    } else {
      // Balancers, caches, kafka and amqp: what their callers saw, over every edge into them.
      let calls = 0;
      let failed = 0;
      for (const e of graph.edges) {
        if (e.to !== n.name) continue;
        const rate = get(`${e.from}->${e.to}.${phase.name}.rate`) ?? 0;
        calls += rate;
        failed += rate * (get(`${e.from}->${e.to}.${phase.name}.errorRate`) ?? 0);
      }
      if (calls === 0) continue;
      const errors = failed / calls;
      nodes[n.name] = { text: `${percent(errors)} err in`, tone: errorTone(errors, null) };
    }
  }
  const edges: Record<string, SvgAnnotation> = {};
  for (const e of graph.edges) {
    const k = `${e.from}->${e.to}.${phase.name}.`;
    const rate = get(`${k}rate`);
    if (rate === null) continue;
    const errors = get(`${k}errorRate`);
    edges[`${e.from}->${e.to}`] = {
      text: `${short(rate)}/s${errors === null || rate === 0 ? '' : ` · ${percent(errors)} err`}`,
      tone: rate === 0 ? 'none' : errorTone(errors, null),
    };
  }
  return { nodes, edges };
}

function errorTone(errors: number | null, utilisation: number | null): Tone {
  if (errors === null && utilisation === null) return 'none';
  if (errors !== null && errors >= 0.01) return 'bad';
  if ((errors !== null && errors >= 0.001) || (utilisation !== null && utilisation >= 0.9)) return 'warn';
  return 'ok';
}

/** Three significant digits, without exponent for everyday magnitudes. */
function short(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

function percent(v: number): string {
  const p = v * 100;
  if (p === 0 || p === 100) return `${p}%`;
  if (p > 99.99) return '>99.99%';
  return `${Number(p.toPrecision(p >= 99 ? 4 : 3))}%`;
}
