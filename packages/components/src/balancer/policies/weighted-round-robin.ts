import type { BalancerBackend, BalancerPolicy, PickContext } from '../policy.js';
import { EdfScheduler } from './edf.js';

/**
 * The schedulers of the `weighted-round-robin` policy: `smooth` (nginx) or `edf` (Envoy).
 *
 * @example
 * ```ts
 * const scheduler: WrrScheduler = 'edf';
 * ```
 */
export type WrrScheduler = 'smooth' | 'edf';

/**
 * Options of the `weighted-round-robin` policy.
 *
 * @example
 * ```ts
 * const spec: WeightedRoundRobinPolicySpec = { kind: 'weighted-round-robin', scheduler: 'edf' };
 * ```
 */
export interface WeightedRoundRobinPolicySpec {
  kind: 'weighted-round-robin';
  /**
   * `smooth`: nginx's smooth weighted round robin (`ngx_http_upstream_get_peer`): every pick adds each
   * available backend's weight to its running score, takes the highest score (first on ties) and
   * subtracts the total weight from it. Weights 5, 1, 1 give a a b a c a a, interleaved rather than
   * a a a a a b c.
   * `edf`: Envoy's earliest-deadline-first scheduler (deadline += 1 / weight per pick).
   * @default 'smooth'
   */
  scheduler?: WrrScheduler;
}

/**
 * Weighted round robin: each available backend gets requests in proportion to its weight, spread evenly
 * over time. `smooth` is nginx's algorithm (the default of an nginx `upstream` with `weight=`), `edf` is
 * Envoy's `ROUND_ROBIN` with unequal weights
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/load_balancers).
 * State survives availability changes for `smooth` (scores are kept per address, as nginx keeps them per
 * peer); `edf` restarts its schedule on every change, as Envoy rebuilds its scheduler.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), {
 *   backends: [{ address: 'a', weight: 5 }, 'b', 'c'],
 *   policy: { kind: 'weighted-round-robin' }, // a a b a c a a, repeating
 * });
 * ```
 */
export class WeightedRoundRobinPolicy implements BalancerPolicy {
  readonly kind = 'weighted-round-robin';
  /** The scheduler in use. */
  readonly scheduler: WrrScheduler;
  private scores = new Float64Array(0);
  private addresses: string[] = [];
  private readonly edf = new EdfScheduler();
  private backends: readonly BalancerBackend[] = [];
  private readonly weightOf = (i: number): number => this.backends[i]!.weight;

  /** @param scheduler - `smooth` (nginx) or `edf` (Envoy) @default 'smooth' */
  constructor(scheduler: WrrScheduler = 'smooth') {
    this.scheduler = scheduler;
  }

  /** Keeps smooth scores per address; restarts the EDF schedule over the available backends. */
  rebuild(backends: readonly BalancerBackend[]): void {
    this.backends = backends;
    if (this.scheduler === 'edf') {
      const members: number[] = [];
      for (const b of backends) if (b.available) members.push(b.index);
      this.edf.reset(members, this.weightOf);
      return;
    }
    const old = new Map<string, number>();
    this.addresses.forEach((a, i) => {
      old.set(a, this.scores[i]!);
    });
    this.scores = new Float64Array(backends.length);
    this.addresses = backends.map((b) => b.address);
    for (let i = 0; i < backends.length; i++) this.scores[i] = old.get(this.addresses[i]!) ?? 0;
  }

  /** The next backend of the weighted schedule; -1 when none is available. */
  pick(ctx: PickContext): number {
    if (this.scheduler === 'edf') return this.edf.pick(this.weightOf);
    const backends = ctx.backends;
    const scores = this.scores;
    const ids = ctx.availableIndices;
    let best = -1;
    let total = 0;
    for (let k = 0; k < ctx.availableCount; k++) {
      const i = ids[k]!;
      const w = backends[i]!.weight;
      scores[i] = scores[i]! + w;
      total += w;
      if (best < 0 || scores[i]! > scores[best]!) best = i;
    }
    if (best >= 0) scores[best] = scores[best]! - total;
    return best;
  }
}
