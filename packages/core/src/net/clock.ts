import { assertFinite, invalidArgument } from '../errors.js';

/**
 * A node's own clock: true simulated time plus a skew (offset, ms) and a drift (rate error: 1e-4 is
 * 100 ppm fast). The simulation keeps true time; only the node reads its local time. Changes keep the
 * local clock continuous except for explicit skew jumps.
 *
 * @example
 * ```ts
 * node.clock.skew(250);    // jumps 250 ms ahead
 * node.clock.drift(1e-3);  // runs 0.1% fast from now on
 * node.clock.now();        // local time
 * ```
 */
export class NodeClock {
  private baseTrue = 0;
  private baseLocal = 0;
  private rate = 0;

  constructor(private readonly trueNow: () => number) {}

  /** Local time (ms) at the current true time. */
  now(): number {
    return this.baseLocal + (this.trueNow() - this.baseTrue) * (1 + this.rate);
  }

  /** Current drift (rate error). @default 0 */
  get driftRate(): number {
    return this.rate;
  }

  /** Local minus true time (ms), right now. */
  get offset(): number {
    return this.now() - this.trueNow();
  }

  /** Jumps the local clock by `ms` (negative jumps go back, like an NTP step). */
  skew(ms: number): void {
    assertFinite('skew', ms);
    this.rebase();
    this.baseLocal += ms;
  }

  /** Sets the drift from now on: local time advances `1 + rate` ms per true ms. `rate` must be > -1. */
  drift(rate: number): void {
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= -1) {
      throw invalidArgument('drift', rate, 'a finite rate > -1 (e.g. 1e-4 for 100 ppm fast)');
    }
    this.rebase();
    this.rate = rate;
  }

  /** True-time duration of `localMs` of this node's local time. */
  toTrue(localMs: number): number {
    return localMs / (1 + this.rate);
  }

  /** Back to true time: no skew, no drift. */
  reset(): void {
    this.baseTrue = this.trueNow();
    this.baseLocal = this.baseTrue;
    this.rate = 0;
  }

  private rebase(): void {
    const local = this.now();
    this.baseTrue = this.trueNow();
    this.baseLocal = local;
  }
}
