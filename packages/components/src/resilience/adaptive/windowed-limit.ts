import {
  checkDuration,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  invalidOption,
  optionKeys,
} from '@dsim/core';
import { type ConcurrencyLimit, checkSample } from './limit.js';

/**
 * Options of {@link WindowedLimit}; names and defaults are those of Netflix concurrency-limits'
 * `WindowedLimit.Builder`. An unknown key is an error.
 *
 * @example
 * ```ts
 * const options: WindowedLimitOptions = { minWindowTime: '100ms', maxWindowTime: '100ms', windowSize: 10 };
 * ```
 */
export interface WindowedLimitOptions {
  /**
   * Shortest sampling window. A duration >= 100 ms, as the library requires.
   * @default 1 s
   */
  minWindowTime?: Duration;
  /**
   * Longest sampling window. A duration >= 100 ms and >= minWindowTime.
   * @default 1 s
   */
  maxWindowTime?: Duration;
  /**
   * Samples a window needs to be passed on; a window with fewer is discarded. An integer >= 10, as the
   * library requires.
   * @default 10
   */
  windowSize?: number;
  /**
   * Samples with a round-trip time below this are ignored (too short to say anything about queueing).
   * A duration >= 0.
   * @default 100 µs
   */
  minRttThreshold?: Duration;
}

const WINDOWED_KEYS = optionKeys<WindowedLimitOptions>()({
  minWindowTime: true,
  maxWindowTime: true,
  windowSize: true,
  minRttThreshold: true,
});

/**
 * Batches samples into time windows and feeds the wrapped limit one sample per window: Netflix
 * concurrency-limits' `WindowedLimit` with its default average window (`AverageSampleWindowFactory`),
 * which the library's README pairs with {@link Gradient2Limit}. A window's sample is the mean RTT of its
 * requests, the largest inflight among them, and whether any was dropped.
 *
 * A sample that ends (startTime + rtt) after the current window's end closes the window, itself
 * included; the next window ends at that time plus min(max(2 × the closed window's minimum RTT,
 * minWindowTime), maxWindowTime). The closed window is passed on only if it holds at least `windowSize`
 * samples. The first sample closes a window at once (the library starts with an end time of 0), so the
 * first window of real length starts there.
 *
 * Windows close when samples arrive, never on a timer: a window with no traffic after it stays open.
 *
 * @example
 * ```ts
 * const limit = new WindowedLimit(new Gradient2Limit({ minLimit: 1 }), { minWindowTime: '100ms', maxWindowTime: '100ms' });
 * ```
 */
export class WindowedLimit implements ConcurrencyLimit {
  readonly kind: string;
  /** Shortest window (ms). */
  readonly minWindowMs: number;
  /** Longest window (ms). */
  readonly maxWindowMs: number;
  /** Samples a window needs. */
  readonly windowSize: number;
  /** Shortest RTT counted (ms). */
  readonly minRttMs: number;
  private nextUpdateTime = 0;
  // The open window, kept in fields (the library's ImmutableAverageSampleWindow).
  private minRtt = Infinity;
  private sum = 0;
  private maxInFlight = 0;
  private count = 0;
  private dropped = false;
  private windowsPassed = 0;

  /**
   * @param delegate - the limit fed one sample per window
   * @param options - see {@link WindowedLimitOptions}
   */
  constructor(
    readonly delegate: ConcurrencyLimit,
    options: WindowedLimitOptions = {},
  ) {
    const C = 'WindowedLimit';
    if (
      delegate === null ||
      typeof delegate !== 'object' ||
      typeof delegate.onSample !== 'function' ||
      typeof delegate.limit !== 'number'
    )
      throw invalidOption(C, 'delegate', delegate, 'a ConcurrencyLimit (e.g. new Gradient2Limit())');
    checkObject(C, 'options', options, 'an options object');
    checkOptions(C, options, WINDOWED_KEYS);
    this.kind = `windowed(${delegate.kind})`;
    this.minWindowMs = checkDuration(C, 'minWindowTime', options.minWindowTime ?? 1000, { min: 100 });
    this.maxWindowMs = checkDuration(C, 'maxWindowTime', options.maxWindowTime ?? 1000, {
      min: Math.max(100, this.minWindowMs),
    });
    this.windowSize = checkNumber(C, 'windowSize', options.windowSize ?? 10, { integer: true, min: 10 });
    this.minRttMs = checkDuration(C, 'minRttThreshold', options.minRttThreshold ?? 0.1);
  }

  get limit(): number {
    return this.delegate.limit;
  }

  /** Windows passed on to the delegate so far. */
  get windows(): number {
    return this.windowsPassed;
  }

  onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): void {
    checkSample('WindowedLimit', startTime, rtt, inflight, false);
    const endTime = startTime + rtt;
    if (rtt < this.minRttMs) return;
    if (rtt < this.minRtt) this.minRtt = rtt;
    this.sum += rtt;
    if (inflight > this.maxInFlight) this.maxInFlight = inflight;
    this.count++;
    if (didDrop) this.dropped = true;
    if (endTime <= this.nextUpdateTime) return;
    const minRtt = this.minRtt;
    const count = this.count;
    const mean = this.sum / count;
    const maxInFlight = this.maxInFlight;
    const dropped = this.dropped;
    this.minRtt = Infinity;
    this.sum = 0;
    this.maxInFlight = 0;
    this.count = 0;
    this.dropped = false;
    this.nextUpdateTime = endTime + Math.min(Math.max(minRtt * 2, this.minWindowMs), this.maxWindowMs);
    if (count >= this.windowSize) {
      this.windowsPassed++;
      this.delegate.onSample(startTime, mean, maxInFlight, dropped);
    }
  }
}
