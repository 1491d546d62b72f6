import type { Duration } from '@dsim/core';
import type { BalancerBackend, BalancerPolicy, PickContext } from '../policy.js';

/**
 * Options of the `peak-ewma` policy (Finagle's and Linkerd's latency-aware balancer).
 *
 * @example
 * ```ts
 * const spec: PeakEwmaPolicySpec = { kind: 'peak-ewma', decay: '10s', defaultRtt: 30 };
 * ```
 */
export interface PeakEwmaPolicySpec {
  kind: 'peak-ewma';
  /**
   * The EWMA's time constant τ: a sample `Δt` after the previous one has weight `1 − exp(−Δt / τ)`. A
   * duration > 0. Finagle's `decayTime` and Linkerd's default, 10 s.
   * @default 10000
   */
  decay?: Duration;
  /** The latency estimate of a backend with no answers yet, a duration >= 0. Linkerd's default RTT. @default 30 */
  defaultRtt?: Duration;
  /** Random backends compared per pick (power of two choices), an integer >= 1. @default 2 */
  choiceCount?: number;
}

/**
 * Peak EWMA (Finagle's `Balancers.p2cPeakEwma`, https://twitter.github.io/finagle/guide/Clients.html#power-of-two-choices-p2c-peak-ewma;
 * Linkerd's default balancer): each backend keeps a latency estimate that jumps to any sample above it
 * (the peak) and otherwise decays towards the samples with time constant `decay`; the cost of a backend
 * is `estimate × (active + 1)`, and each pick takes the cheapest of `choiceCount` distinct random
 * available backends. A slow backend is avoided within one answer; a recovered one wins traffic back within a few
 * `decay` periods. Failed answers count with their latency.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends, policy: { kind: 'peak-ewma' } });
 * ```
 */
export class PeakEwmaPolicy implements BalancerPolicy {
  readonly kind = 'peak-ewma';
  private estimate = new Float64Array(0);
  private updatedAt = new Float64Array(0);
  private addresses: string[] = [];
  private readonly drawn: Int32Array;

  /**
   * @param decay - τ in ms, validated @default 10000
   * @param defaultRtt - initial estimate in ms @default 30
   * @param choiceCount - draws per pick @default 2
   */
  constructor(
    readonly decay = 10_000,
    readonly defaultRtt = 30,
    readonly choiceCount = 2,
  ) {
    this.drawn = new Int32Array(choiceCount);
  }

  /** The latency estimate of backend `index`, ms (for inspection and tests). */
  estimateOf(index: number): number {
    return this.estimate[index]!;
  }

  /** Keeps estimates per address; a new backend starts at `defaultRtt`. */
  rebuild(backends: readonly BalancerBackend[]): void {
    const old = new Map<string, [number, number]>();
    this.addresses.forEach((a, i) => {
      old.set(a, [this.estimate[i]!, this.updatedAt[i]!]);
    });
    const n = backends.length;
    this.estimate = new Float64Array(n);
    this.updatedAt = new Float64Array(n);
    this.addresses = backends.map((b) => b.address);
    for (let i = 0; i < n; i++) {
      const [e, t] = old.get(this.addresses[i]!) ?? [this.defaultRtt, Number.NaN];
      this.estimate[i] = e;
      this.updatedAt[i] = t;
    }
  }

  /** Folds one answer into the backend's estimate: the peak, or an exponential decay towards it. */
  onResponse(index: number, latencyMs: number, _ok: boolean, now: number): void {
    const prev = this.estimate[index]!;
    const last = this.updatedAt[index]!;
    this.updatedAt[index] = now;
    // The first answer replaces the default; a slower one than the estimate is taken at once (the peak).
    if (latencyMs > prev || Number.isNaN(last)) {
      this.estimate[index] = latencyMs;
      return;
    }
    const w = Math.exp(-(now - last) / this.decay);
    this.estimate[index] = prev * w + latencyMs * (1 - w);
  }

  /**
   * The cheapest of `choiceCount` distinct random available backends (all of them when fewer) by
   * `estimate × (active + 1)`; ties go to the first drawn.
   */
  pick(ctx: PickContext): number {
    const n = ctx.availableCount;
    if (n === 0) return -1;
    const ids = ctx.availableIndices;
    const draws = Math.min(this.choiceCount, n);
    const drawn = this.drawn;
    let best = -1;
    let bestCost = Infinity;
    for (let c = 0; c < draws; c++) {
      // Distinct draws, as Finagle's and tower's p2c: rejection against the earlier ones (few).
      let k: number;
      do k = Math.floor(ctx.rng.next() * n);
      while (c > 0 && drawn.lastIndexOf(k, c - 1) >= 0);
      drawn[c] = k;
      const i = ids[k]!;
      const cost = this.cost(ctx.backends[i]!);
      if (best < 0 || cost < bestCost) {
        best = i;
        bestCost = cost;
      }
    }
    return best;
  }

  private cost(b: BalancerBackend): number {
    return this.estimate[b.index]! * (b.active + 1);
  }
}
