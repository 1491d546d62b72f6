import type { BalancerBackend, BalancerPolicy, PickContext } from '../policy.js';

/**
 * Options of the `haproxy-random` policy: HAProxy's `balance random(<draws>)`.
 *
 * @example
 * ```ts
 * const spec: HaproxyRandomPolicySpec = { kind: 'haproxy-random', draws: 2 };
 * ```
 */
export interface HaproxyRandomPolicySpec {
  kind: 'haproxy-random';
  /**
   * Backends drawn per pick, each with probability proportional to its weight (with replacement); the
   * least loaded wins. 1 is plain weighted random, 2 the "power of two choices". An integer >= 1.
   * @default 2
   */
  draws?: number;
}

/**
 * HAProxy's `balance random(<draws>)` (https://docs.haproxy.org/3.0/configuration.html#4.2-balance):
 * `draws` backends are drawn at random, each with probability proportional to its weight (HAProxy keys
 * its consistent-hash ring with a random number), and the one with the lowest load per unit of weight
 * is kept, as HAProxy's `get_server_rnd` compares `served × weight` crosswise; on a tie the later draw
 * wins, as there. With `draws: 1` a backend's share is its weight share. Unlike `power-of-d`, the draws
 * are weighted.
 *
 * `pick` draws `draws` uniform numbers from `ctx.rng` and binary-searches cumulative weights built on
 * `rebuild`; it allocates nothing.
 *
 * @example
 * ```ts
 * new LoadBalancer(net.addNode('lb'), { backends, policy: { kind: 'haproxy-random', draws: 2 } });
 * ```
 */
export class HaproxyRandomPolicy implements BalancerPolicy {
  readonly kind = 'haproxy-random';
  private ids = new Int32Array(0);
  private cumulative = new Float64Array(0);
  private count = 0;
  private built = false;

  /** @param draws - backends drawn per pick, validated @default 2 */
  constructor(readonly draws = 2) {}

  /** Cumulative weights of the available backends. */
  rebuild(backends: readonly BalancerBackend[]): void {
    this.built = true;
    if (backends.length > this.ids.length) {
      this.ids = new Int32Array(backends.length);
      this.cumulative = new Float64Array(backends.length);
    }
    let n = 0;
    let total = 0;
    for (const b of backends) {
      if (!b.available) continue;
      total += b.weight;
      this.ids[n] = b.index;
      this.cumulative[n++] = total;
    }
    this.count = n;
  }

  /** The least loaded per unit of weight of `draws` weighted random draws; a tie goes to the later draw. */
  pick(ctx: PickContext): number {
    if (ctx.availableCount === 0) return -1;
    if (!this.built) this.rebuild(ctx.backends);
    if (this.count === 0) return -1;
    const backends = ctx.backends;
    const rng = ctx.rng;
    let best = this.draw(rng.next());
    for (let d = 1; d < this.draws; d++) {
      const i = this.draw(rng.next());
      if (i === best) continue;
      const cur = backends[i]!;
      const prev = backends[best]!;
      // Keep the earlier draw only when the new one is strictly more loaded for its weight.
      if (!(cur.active * prev.weight > prev.active * cur.weight)) best = i;
    }
    return best;
  }

  /** The backend whose cumulative-weight interval holds `u × total weight`. */
  private draw(u: number): number {
    const cum = this.cumulative;
    const target = u * cum[this.count - 1]!;
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! <= target) lo = mid + 1;
      else hi = mid;
    }
    return this.ids[lo]!;
  }
}
