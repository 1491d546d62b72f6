import type { BalancerBackend, BalancerPolicy, PickContext } from '../policy.js';
import { EdfScheduler } from './edf.js';

/**
 * Options of the `least-request` policy (Envoy's `LEAST_REQUEST`).
 *
 * @example
 * ```ts
 * const spec: LeastRequestPolicySpec = { kind: 'least-request', choiceCount: 3 };
 * ```
 */
export interface LeastRequestPolicySpec {
  kind: 'least-request';
  /**
   * Random backends drawn per pick (with replacement) when all weights are equal; the one with the fewest
   * active requests wins (first drawn on ties). Envoy's `choice_count`. An integer >= 1.
   * @default 2
   */
  choiceCount?: number;
  /**
   * Scan every available backend instead of drawing `choiceCount` (Envoy's `selection_method:
   * FULL_SCAN`); ties are broken uniformly at random.
   * @default false
   */
  fullScan?: boolean;
  /**
   * When weights differ: the exponent of Envoy's dynamic weight `weight / (active + 1)^bias`. 0 makes it
   * plain weighted round robin; larger values favour idle backends more. A finite number >= 0.
   * @default 1
   */
  activeRequestBias?: number;
}

/**
 * Options of the `power-of-d` policy: HAProxy's `balance random(<draws>)`, the supermarket model's
 * "join the shortest of d random queues". The same selection as `least-request` with `choiceCount: d`,
 * except that weights never switch it to the weighted mode.
 *
 * @example
 * ```ts
 * const spec: PowerOfDPolicySpec = { kind: 'power-of-d', d: 2 };
 * ```
 */
export interface PowerOfDPolicySpec {
  kind: 'power-of-d';
  /** Random draws per pick, an integer >= 1 (1 is plain random). HAProxy's default `draws`. @default 2 */
  d?: number;
}

/**
 * Envoy's dynamic weight for weighted least request:
 * `weight / (active + 1)^activeRequestBias`. Weight 2 with 4 active requests and bias 1 gives 0.4
 * (Envoy's documented example); bias 0 gives the static weight.
 *
 * @param weight - the backend's weight, > 0
 * @param active - its active requests, >= 0
 * @param bias - `activeRequestBias`, >= 0 @default 1
 * @example
 * ```ts
 * leastRequestWeight(2, 4, 1); // 0.4
 * leastRequestWeight(2, 4, 0); // 2
 * ```
 */
export function leastRequestWeight(weight: number, active: number, bias = 1): number {
  if (bias === 1) return weight / (active + 1);
  if (bias === 0) return weight;
  return weight / (active + 1) ** bias;
}

/**
 * Envoy's least-request load balancer
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers#weighted-least-request):
 *
 * - all available backends have the same weight: draw `choiceCount` of them at random (with
 *   replacement) and take the one with the fewest active requests ("power of two choices" with the
 *   default 2), or scan all of them with `fullScan`;
 * - weights differ: weighted round robin on Envoy's EDF scheduler whose weight for a backend is
 *   {@link leastRequestWeight}: `weight / (active + 1)^activeRequestBias`, taken when the backend is
 *   (re)scheduled. With bias 0 the sequence is exactly `weighted-round-robin` with `scheduler: 'edf'`.
 *
 * Active requests are the balancer's own count of requests forwarded and not answered. A backend that
 * fails fast holds few, so least request sends it more (the "black hole"); outlier detection is the cure.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends, policy: { kind: 'least-request', choiceCount: 2 } });
 * ```
 */
export class LeastRequestPolicy implements BalancerPolicy {
  readonly kind: string;
  /** Backends drawn per pick. */
  readonly choiceCount: number;
  /** Scan all available backends instead of drawing. */
  readonly fullScan: boolean;
  /** Exponent of the dynamic weight when weights differ. */
  readonly activeRequestBias: number;
  private readonly allowWeighted: boolean;
  private weighted = false;
  private backends: readonly BalancerBackend[] = [];
  private readonly edf = new EdfScheduler();
  private readonly weightOf = (i: number): number => {
    const b = this.backends[i]!;
    return leastRequestWeight(b.weight, b.active, this.activeRequestBias);
  };

  /**
   * @param options - `choiceCount` (default 2), `fullScan` (default false), `activeRequestBias`
   *   (default 1), already validated
   * @param kind - the policy name @default 'least-request'
   * @param allowWeighted - switch to the weighted EDF mode when weights differ @default true
   */
  constructor(
    options: { choiceCount?: number; fullScan?: boolean; activeRequestBias?: number } = {},
    kind = 'least-request',
    allowWeighted = true,
  ) {
    this.kind = kind;
    this.choiceCount = options.choiceCount ?? 2;
    this.fullScan = options.fullScan ?? false;
    this.activeRequestBias = options.activeRequestBias ?? 1;
    this.allowWeighted = allowWeighted;
  }

  /** Decides between the unweighted and the weighted mode, and rebuilds the EDF schedule. */
  rebuild(backends: readonly BalancerBackend[]): void {
    this.backends = backends;
    const members: number[] = [];
    let first = Number.NaN;
    this.weighted = false;
    for (const b of backends) {
      if (!b.available) continue;
      members.push(b.index);
      if (Number.isNaN(first)) first = b.weight;
      else if (b.weight !== first) this.weighted = this.allowWeighted;
    }
    if (this.weighted) this.edf.reset(members, this.weightOf);
  }

  /** The least loaded of `choiceCount` random draws, the least loaded of all, or the weighted pick. */
  pick(ctx: PickContext): number {
    const n = ctx.availableCount;
    if (n === 0) return -1;
    if (this.weighted) return this.edf.pick(this.weightOf);
    const backends = ctx.backends;
    const ids = ctx.availableIndices;
    const rng = ctx.rng;
    if (this.fullScan) {
      let best = -1;
      let ties = 0;
      for (let k = 0; k < n; k++) {
        const i = ids[k]!;
        if (best < 0 || backends[i]!.active < backends[best]!.active) {
          best = i;
          ties = 1;
        } else if (backends[i]!.active === backends[best]!.active && rng.next() * ++ties < 1) best = i;
      }
      return best;
    }
    let best = ids[Math.floor(rng.next() * n)]!;
    for (let c = 1; c < this.choiceCount; c++) {
      const i = ids[Math.floor(rng.next() * n)]!;
      if (backends[i]!.active < backends[best]!.active) best = i;
    }
    return best;
  }
}
