import { checkAcquire, type Decision, PERMIT_EPSILON, rejectDecision } from './types.js';

/**
 * The bucket both leaky-bucket limiters share: a level that drains continuously at `leakPerSecond`;
 * `permits` fit if `level + permits <= capacity`. The meter admits on fit; the queue also delays by the
 * level ahead. @internal
 */
export class LeakyBucketLevel {
  private content = 0;
  private last: number | undefined;

  constructor(
    readonly capacity: number,
    readonly leakPerSecond: number,
  ) {}

  /** Permits in the bucket as of the last call. */
  get level(): number {
    return this.content;
  }

  /**
   * Drains to `now`, then pours `permits` in if they fit. Returns the level found before pouring, or the
   * rejection (with the time until they would fit; none when `permits > capacity`).
   */
  pour(now: number, permits: number): number | Decision {
    const previous = this.last;
    this.last = checkAcquire(now, previous, permits);
    if (previous !== undefined && now > previous) {
      this.content -= ((now - previous) * this.leakPerSecond) / 1000;
      // Snap float dust to empty so a drained bucket gives exactly delay 0.
      if (this.content < PERMIT_EPSILON) this.content = 0;
    }
    if (this.content + permits <= this.capacity + PERMIT_EPSILON) {
      const before = this.content;
      this.content = Math.min(this.capacity, this.content + permits);
      return before;
    }
    if (permits > this.capacity) return rejectDecision();
    return rejectDecision(((this.content + permits - this.capacity) * 1000) / this.leakPerSecond);
  }
}
