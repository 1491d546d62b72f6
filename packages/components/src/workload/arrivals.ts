import {
  checkDuration,
  checkKind,
  checkNumber,
  checkObject,
  checkOptions,
  type Duration,
  invalidArgument,
  invalidOption,
  optionKeys,
  type RandomStream,
} from '@dsim/core';

// ---------------------------------------------------------------------------------------------------------
// Specs
// ---------------------------------------------------------------------------------------------------------

/**
 * A homogeneous Poisson process: independent exponential gaps of mean `1000 / rate` ms. The model of many
 * independent clients (internet traffic, the M in M/M/1).
 *
 * @example
 * ```ts
 * const spec: PoissonArrivalSpec = { kind: 'poisson', rate: 200 }; // 200 requests per second
 * ```
 */
export interface PoissonArrivalSpec {
  readonly kind: 'poisson';
  /** Arrivals per second, a finite number >= 0 (0: no arrivals at all). */
  readonly rate: number;
}

/**
 * Evenly spaced arrivals, one every `1000 / rate` ms (the D in D/M/1): a cron job, a load generator with a
 * fixed pacing, a periodic health check. The first arrival comes one gap after the start.
 *
 * @example
 * ```ts
 * const spec: ConstantArrivalSpec = { kind: 'constant', rate: 10 }; // at 100, 200, 300... ms
 * ```
 */
export interface ConstantArrivalSpec {
  readonly kind: 'constant';
  /** Arrivals per second, a finite number >= 0 (0: no arrivals at all). */
  readonly rate: number;
}

/**
 * On/off modulated Poisson: Poisson at `rate`, but at `burstRate` during windows of `duration` that start
 * at `offset` and then once every `every`. Flash crowds, batch jobs that fire every hour, retry waves.
 *
 * @example
 * ```ts
 * // 50/s baseline, 500/s for 10 s at the start of every minute, the first burst at 30 s.
 * const spec: BurstArrivalSpec = { kind: 'bursts', rate: 50, burstRate: 500, every: '1m', duration: '10s', offset: '30s' };
 * ```
 */
export interface BurstArrivalSpec {
  readonly kind: 'bursts';
  /** Arrivals per second outside the bursts, a finite number >= 0. */
  readonly rate: number;
  /** Arrivals per second during a burst, a finite number >= 0 (it may be below `rate`: periodic dips). */
  readonly burstRate: number;
  /** Time from the start of one burst to the start of the next, a duration > 0. */
  readonly every: Duration;
  /** Length of a burst, a duration in (0, every]. */
  readonly duration: Duration;
  /**
   * Simulated time at which the first burst starts; before it the rate is `rate`.
   * @default 0
   */
  readonly offset?: Duration;
}

/**
 * A linear ramp: the rate is `from` until `start`, climbs (or falls) linearly to `to` over `over`, and
 * stays at `to` afterwards. Load tests that ramp up, a launch, a slow drain.
 *
 * @example
 * ```ts
 * const spec: RampArrivalSpec = { kind: 'ramp', from: 0, to: 1000, over: '5m' }; // 0 to 1000/s in 5 minutes
 * ```
 */
export interface RampArrivalSpec {
  readonly kind: 'ramp';
  /** Arrivals per second before and at the start of the ramp, a finite number >= 0. */
  readonly from: number;
  /** Arrivals per second at the end of the ramp and after it, a finite number >= 0. */
  readonly to: number;
  /** Length of the ramp, a duration >= 0 (0: a step from `from` to `to` at `start`). */
  readonly over: Duration;
  /**
   * Simulated time at which the ramp begins.
   * @default 0
   */
  readonly start?: Duration;
}

/**
 * One step of a {@link StepArrivalSpec}.
 *
 * @example
 * ```ts
 * const surge: ArrivalStep = { at: '2m', rate: 800 };
 * ```
 */
export interface ArrivalStep {
  /** Simulated time from which `rate` applies, a duration; steps must be in strictly increasing order. */
  readonly at: Duration;
  /** Arrivals per second from `at` until the next step, a finite number >= 0. */
  readonly rate: number;
}

/**
 * A piecewise-constant rate: `steps[i].rate` from `steps[i].at` until the next step, the last rate for
 * ever; 0 before the first step (start it `at: 0` to avoid the gap). Step tests, outages (rate 0), traffic
 * shifts.
 *
 * @example
 * ```ts
 * const spec: StepArrivalSpec = { kind: 'steps', steps: [{ at: 0, rate: 100 }, { at: '1m', rate: 400 }, { at: '2m', rate: 100 }] };
 * ```
 */
export interface StepArrivalSpec {
  readonly kind: 'steps';
  /** At least one step, `at` strictly increasing. */
  readonly steps: readonly ArrivalStep[];
}

/**
 * A sinusoidal rate, `mean + amplitude * sin(2π (t + phase) / period)`: the daily cycle of user traffic
 * (with `period: '1d'`) or any periodic load. `amplitude <= mean` keeps the rate >= 0.
 *
 * @example
 * ```ts
 * // Diurnal: between 200/s and 1800/s, peak 6 h into the day (sin peaks at a quarter period).
 * const spec: SinusoidalArrivalSpec = { kind: 'sinusoidal', mean: 1000, amplitude: 800, period: '1d' };
 * ```
 */
export interface SinusoidalArrivalSpec {
  readonly kind: 'sinusoidal';
  /** Mean arrivals per second, a finite number >= 0. */
  readonly mean: number;
  /** Swing around the mean (arrivals per second), a finite number in [0, mean]. */
  readonly amplitude: number;
  /** Length of a cycle, a duration > 0. */
  readonly period: Duration;
  /**
   * Shift of the cycle: the rate at time t is the plain sinusoid's rate at t + phase.
   * @default 0
   */
  readonly phase?: Duration;
}

/**
 * Replays recorded arrival times exactly (a trace from production, a hand-made edge case). The times are
 * absolute simulated times in ms, finite, >= 0 and sorted ascending (ties allowed: simultaneous arrivals).
 *
 * @example
 * ```ts
 * const spec: ReplayArrivalSpec = { kind: 'replay', times: [0, 5, 5, 12.5, 400] };
 * ```
 */
export interface ReplayArrivalSpec {
  readonly kind: 'replay';
  /** Arrival times (ms), sorted ascending; copied, so later changes to the array do not matter. */
  readonly times: readonly number[];
}

/**
 * The arrival processes {@link createArrivals} builds. Rates are per second, times in ms of simulated time
 * (absolute: a ramp that starts at `'1m'` starts one simulated minute after time 0, whenever the driver
 * began). The time-varying kinds (`bursts`, `ramp`, `steps`, `sinusoidal`) are non-homogeneous Poisson
 * processes.
 *
 * @example
 * ```ts
 * const specs: ArrivalSpec[] = [
 *   { kind: 'poisson', rate: 100 },
 *   { kind: 'ramp', from: 10, to: 100, over: '1m' },
 * ];
 * ```
 */
export type ArrivalSpec =
  | PoissonArrivalSpec
  | ConstantArrivalSpec
  | BurstArrivalSpec
  | RampArrivalSpec
  | StepArrivalSpec
  | SinusoidalArrivalSpec
  | ReplayArrivalSpec;

/**
 * The `kind` of an {@link ArrivalSpec}.
 *
 * @example
 * ```ts
 * const kind: ArrivalKind = 'poisson';
 * ```
 */
export type ArrivalKind = ArrivalSpec['kind'];

/**
 * Every {@link ArrivalKind}, in documentation order.
 *
 * @example
 * ```ts
 * ARRIVAL_KINDS.includes(input.kind); // is it a known kind?
 * ```
 */
export const ARRIVAL_KINDS: readonly ArrivalKind[] = Object.freeze([
  'poisson',
  'constant',
  'bursts',
  'ramp',
  'steps',
  'sinusoidal',
  'replay',
]);

// ---------------------------------------------------------------------------------------------------------
// Process interface
// ---------------------------------------------------------------------------------------------------------

/**
 * A source of arrival times. `next(now, rng)` gives the time of the first arrival at or after `now`, given
 * that the previous one (or the start) was at `now`; drivers call it with the time of the arrival they just
 * delivered. All built-in kinds but `replay` are memoryless in that sense and hold no state, so one process
 * can serve several drivers (each with its own stream); `replay` keeps a cursor and must not be shared.
 *
 * Built-in kinds draw exactly one uniform from `rng` per arrival (none for `constant` and `replay`), by
 * inversion of the integrated rate: the same stream gives the same times, and a variant with a slightly
 * different rate profile moves each arrival only slightly (common random numbers).
 *
 * @example
 * ```ts
 * const arrivals = createArrivals({ kind: 'poisson', rate: 50 });
 * const rng = sim.rng('client/arrivals');
 * let t = 0;
 * for (let i = 0; i < 3; i++) t = arrivals.next(t, rng); // three arrival times, about 20 ms apart
 * ```
 */
export interface ArrivalProcess {
  /** The kind, e.g. `"poisson"`; `"custom"` or anything else for hand-written processes. */
  readonly kind: string;
  /**
   * Absolute time (ms) of the next arrival, >= `now`; `Infinity` when no arrival will ever come (rate 0
   * from `now` on, replay exhausted).
   */
  next(now: number, rng: RandomStream): number;
  /** The intensity at time `t` (ms), in arrivals per second. `NaN` for `replay`, which has no rate. */
  rateAt(t: number): number;
  /**
   * The expected number of arrivals in [from, to) (ms): the integral of the rate, in closed form. For
   * `constant` it is the rate times the length (the actual count differs by less than 1); for `replay` the
   * exact count of recorded times in the interval.
   */
  expectedCount(from: number, to: number): number;
  /** A short description with the parameters, e.g. `"poisson(rate=50/s)"`. */
  describe(): string;
}

// ---------------------------------------------------------------------------------------------------------
// Factory
// ---------------------------------------------------------------------------------------------------------

/**
 * Builds an {@link ArrivalProcess} from its spec, validating every field: a missing or out-of-range field
 * throws a `DsimError` (`INVALID_ARGUMENT`, or `INVALID_DURATION` for a value that is not a duration)
 * whose message names it, e.g. `createArrivals: arrivals.steps[1].at must be ...`; an unknown kind or
 * key is an error with a "did you mean" (`arrivals.ofset`). Each call returns a fresh process.
 *
 * Time-varying kinds are generated exactly, by inverting the integrated rate Λ: with E an exponential(1)
 * draw, the next arrival after `now` is the t with Λ(t) − Λ(now) = E (closed form on linear pieces,
 * safeguarded Newton for the sinusoid). Stretches at rate 0 are skipped in one step, and a rate that stays 0
 * for ever gives `Infinity`.
 *
 * @example
 * ```ts
 * const diurnal = createArrivals({ kind: 'sinusoidal', mean: 500, amplitude: 400, period: '1d' });
 * diurnal.rateAt(6 * 3_600_000); // 900: the peak, a quarter period in
 * diurnal.expectedCount(0, 86_400_000); // 43_200_000 arrivals a day
 * ```
 */
export function createArrivals(spec: ArrivalSpec): ArrivalProcess {
  return resolveArrivals(spec, 'createArrivals', 'arrivals');
}

const ARRIVAL_KEYS = {
  poisson: optionKeys<PoissonArrivalSpec>()({ kind: true, rate: true }),
  constant: optionKeys<ConstantArrivalSpec>()({ kind: true, rate: true }),
  bursts: optionKeys<BurstArrivalSpec>()({
    kind: true,
    rate: true,
    burstRate: true,
    every: true,
    duration: true,
    offset: true,
  }),
  ramp: optionKeys<RampArrivalSpec>()({ kind: true, from: true, to: true, over: true, start: true }),
  steps: optionKeys<StepArrivalSpec>()({ kind: true, steps: true }),
  sinusoidal: optionKeys<SinusoidalArrivalSpec>()({
    kind: true,
    mean: true,
    amplitude: true,
    period: true,
    phase: true,
  }),
  replay: optionKeys<ReplayArrivalSpec>()({ kind: true, times: true }),
} satisfies Record<ArrivalKind, readonly string[]>;

const STEP_KEYS = optionKeys<ArrivalStep>()({ at: true, rate: true });

const RATE = { min: 0, unit: 'arrivals per second' } as const;

/**
 * @internal {@link createArrivals} for a spec nested in another component's options: errors name that
 * component and the spec's path (`openLoop: arrivals.rate must be ...`).
 *
 * @example
 * ```ts
 * const arrivals = resolveArrivals(options.arrivals, 'openLoop', 'arrivals');
 * ```
 */
export function resolveArrivals(spec: ArrivalSpec, component: string, path: string): ArrivalProcess {
  const C = component;
  const at = (field: string): string => `${path}.${field}`;
  const rate = (field: string, value: unknown): number => checkNumber(C, at(field), value, RATE);
  const offset = (field: string, value: Duration | undefined): number =>
    value === undefined ? 0 : checkDuration(C, at(field), value);
  switch (checkKind(C, path, spec, ARRIVAL_KEYS) as ArrivalKind) {
    case 'poisson':
      return new PoissonProcess(rate('rate', (spec as PoissonArrivalSpec).rate));
    case 'constant':
      return new ConstantProcess(rate('rate', (spec as ConstantArrivalSpec).rate));
    case 'bursts': {
      const b = spec as BurstArrivalSpec;
      const base = rate('rate', b.rate);
      const burst = rate('burstRate', b.burstRate);
      const every = checkDuration(C, at('every'), b.every, { positive: true });
      const duration = checkDuration(C, at('duration'), b.duration, { positive: true });
      if (duration > every)
        throw invalidOption(C, at('duration'), b.duration, `a duration in (0, every] (every = ${every} ms)`);
      return new BurstProcess(base, burst, every, duration, offset('offset', b.offset));
    }
    case 'ramp': {
      const r = spec as RampArrivalSpec;
      const from = rate('from', r.from);
      const to = rate('to', r.to);
      return new RampProcess(from, to, checkDuration(C, at('over'), r.over), offset('start', r.start));
    }
    case 'steps':
      return resolveSteps((spec as StepArrivalSpec).steps, C, at('steps'));
    case 'sinusoidal': {
      const w = spec as SinusoidalArrivalSpec;
      const mean = rate('mean', w.mean);
      const amplitude = checkNumber(C, at('amplitude'), w.amplitude, {
        min: 0,
        max: mean,
        unit: 'arrivals per second, at most mean: a larger swing would make the rate negative',
      });
      const period = checkDuration(C, at('period'), w.period, { positive: true });
      return new SinusoidalProcess(mean, amplitude, period, offset('phase', w.phase));
    }
    case 'replay':
      return resolveReplay((spec as ReplayArrivalSpec).times, C, at('times'));
  }
}

function resolveSteps(steps: unknown, C: string, field: string): StepProcess {
  if (!Array.isArray(steps) || steps.length === 0)
    throw invalidOption(C, field, steps, 'a non-empty array of { at, rate }');
  const at = new Float64Array(steps.length);
  const rates = new Float64Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const step: unknown = steps[i];
    const where = `${field}[${i}]`;
    checkObject(C, where, step, 'an object { at, rate }');
    checkOptions(C, step, STEP_KEYS, where);
    const { at: when, rate: r } = step as ArrivalStep;
    at[i] = checkDuration(C, `${where}.at`, when);
    if (i > 0 && at[i]! <= at[i - 1]!)
      throw invalidOption(
        C,
        `${where}.at`,
        when,
        `a time after ${field}[${i - 1}].at (${at[i - 1]} ms): steps must be in increasing order`,
      );
    rates[i] = checkNumber(C, `${where}.rate`, r, RATE);
  }
  return new StepProcess(at, rates);
}

function resolveReplay(times: unknown, C: string, field: string): ReplayProcess {
  if (!Array.isArray(times)) throw invalidOption(C, field, times, 'an array of times (ms)');
  const copy = new Float64Array(times.length);
  for (let i = 0; i < times.length; i++) {
    const t: unknown = times[i];
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0)
      throw invalidOption(C, `${field}[${i}]`, t, 'a finite time in ms >= 0');
    if (i > 0 && t < copy[i - 1]!)
      throw invalidOption(
        C,
        `${field}[${i}]`,
        t,
        `a time >= ${field}[${i - 1}] (${copy[i - 1]}): times must be sorted ascending`,
      );
    copy[i] = t;
  }
  return new ReplayProcess(copy);
}

/**
 * True when `value` looks like an {@link ArrivalProcess} (an object with a `next` method) rather than an
 * {@link ArrivalSpec}.
 *
 * @example
 * ```ts
 * const process = isArrivalProcess(input) ? input : createArrivals(input);
 * ```
 */
export function isArrivalProcess(value: ArrivalSpec | ArrivalProcess): value is ArrivalProcess {
  return (
    typeof value === 'object' && value !== null && typeof (value as { next?: unknown }).next === 'function'
  );
}

// ---------------------------------------------------------------------------------------------------------
// Homogeneous kinds
// ---------------------------------------------------------------------------------------------------------

/** An exponential(1) draw by inversion, in [0, Infinity): one uniform, monotone in it. */
function unitExponential(rng: RandomStream): number {
  return -Math.log(1 - rng.next());
}

class PoissonProcess implements ArrivalProcess {
  readonly kind = 'poisson';
  private readonly meanGap: number;
  constructor(private readonly rate: number) {
    this.meanGap = rate > 0 ? 1000 / rate : Infinity;
  }
  next(now: number, rng: RandomStream): number {
    if (this.rate === 0) return Infinity;
    return now + this.meanGap * unitExponential(rng);
  }
  rateAt(_t: number): number {
    return this.rate;
  }
  expectedCount(from: number, to: number): number {
    return (this.rate * span(from, to)) / 1000;
  }
  describe(): string {
    return `poisson(rate=${this.rate}/s)`;
  }
}

class ConstantProcess implements ArrivalProcess {
  readonly kind = 'constant';
  private readonly gap: number;
  constructor(private readonly rate: number) {
    this.gap = rate > 0 ? 1000 / rate : Infinity;
  }
  next(now: number, _rng: RandomStream): number {
    return now + this.gap;
  }
  rateAt(_t: number): number {
    return this.rate;
  }
  expectedCount(from: number, to: number): number {
    return (this.rate * span(from, to)) / 1000;
  }
  describe(): string {
    return `constant(rate=${this.rate}/s)`;
  }
}

class ReplayProcess implements ArrivalProcess {
  readonly kind = 'replay';
  private cursor = 0;
  constructor(private readonly times: Float64Array) {}
  next(now: number, _rng: RandomStream): number {
    const times = this.times;
    let i = this.cursor;
    // Skip recorded times already in the past (a driver started late).
    while (i < times.length && times[i]! < now) i++;
    if (i >= times.length) {
      this.cursor = i;
      return Infinity;
    }
    this.cursor = i + 1;
    return times[i]!;
  }
  rateAt(_t: number): number {
    return Number.NaN;
  }
  expectedCount(from: number, to: number): number {
    span(from, to);
    return lowerBound(this.times, to) - lowerBound(this.times, from);
  }
  describe(): string {
    return `replay(${this.times.length} arrivals)`;
  }
}

/** Index of the first element >= x in a sorted array. */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > x in a sorted array. */
function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------------
// Piecewise-linear rates, generated by inversion
// ---------------------------------------------------------------------------------------------------------

const MAX_TIME = Number.MAX_SAFE_INTEGER;

/** The linear piece of a rate from time `t` on: `rate + slope * (t' - t)` per ms, for t' in [t, end). */
interface Piece {
  rate: number;
  slope: number;
  end: number;
}

/**
 * A rate made of linear pieces, in arrivals per ms. `pieceAt(t)` describes the piece from `t` to its end,
 * which must be > t. `cycle*` describe an optional periodic tail (from `cycleStart` on, the rate repeats
 * every `cyclePeriod` ms with `cycleMass` expected arrivals per period), used to skip whole quiet periods.
 */
abstract class PiecewiseProcess implements ArrivalProcess {
  abstract readonly kind: string;
  protected readonly piece: Piece = { rate: 0, slope: 0, end: 0 };
  protected cycleStart = Infinity;
  protected cyclePeriod = 0;
  protected cycleMass = 0;

  protected abstract pieceAt(t: number, out: Piece): void;
  abstract rateAt(t: number): number;
  abstract describe(): string;

  next(now: number, rng: RandomStream): number {
    let e = unitExponential(rng);
    let t = now;
    const p = this.piece;
    for (;;) {
      // Beyond 2^53 ms (285,000 years) times lose integer precision: treat the process as finished.
      if (!(t <= MAX_TIME)) return Infinity;
      if (t >= this.cycleStart) {
        // Whole periods hold cycleMass each, whatever the phase: skip them at once.
        if (this.cycleMass <= 0) return Infinity;
        if (e > this.cycleMass) {
          const periods = Math.floor(e / this.cycleMass);
          e = Math.max(0, e - periods * this.cycleMass);
          t += periods * this.cyclePeriod;
        }
      }
      this.pieceAt(t, p);
      const a = p.rate;
      const b = p.slope;
      if (p.end === Infinity) {
        if (a <= 0 && b <= 0) return Infinity;
        return t + solveLinear(a, b, e);
      }
      const w = p.end - t;
      const mass = w * (a + 0.5 * b * w);
      if (e <= mass) return Math.min(t + solveLinear(a, b, e), p.end);
      e -= mass;
      t = p.end;
    }
  }

  expectedCount(from: number, to: number): number {
    span(from, to);
    const p = this.piece;
    let total = 0;
    let t = from;
    while (t < to) {
      if (t >= this.cycleStart && to - t > this.cyclePeriod) {
        const periods = Math.floor((to - t) / this.cyclePeriod);
        if (periods === Infinity) return this.cycleMass > 0 ? Infinity : total;
        total += periods * this.cycleMass;
        t += periods * this.cyclePeriod;
        continue;
      }
      this.pieceAt(t, p);
      const end = Math.min(p.end, to);
      const w = end - t;
      if (w === Infinity) return p.rate > 0 || p.slope > 0 ? Infinity : total;
      total += w * (p.rate + 0.5 * p.slope * w);
      t = end;
    }
    return total;
  }
}

/** The x >= 0 with a x + b x^2 / 2 = e, for a rate a >= 0 that stays >= 0 over the solution. */
function solveLinear(a: number, b: number, e: number): number {
  if (e === 0) return 0;
  // 2e / (a + sqrt(a^2 + 2be)): the root without cancellation, also for b = 0 and b < 0.
  return (2 * e) / (a + Math.sqrt(Math.max(0, a * a + 2 * b * e)));
}

class RampProcess extends PiecewiseProcess {
  readonly kind = 'ramp';
  private readonly from: number;
  private readonly to: number;
  private readonly slope: number;
  private readonly end: number;
  constructor(
    private readonly fromPerSecond: number,
    private readonly toPerSecond: number,
    private readonly over: number,
    private readonly start: number,
  ) {
    super();
    this.from = fromPerSecond / 1000;
    this.to = toPerSecond / 1000;
    this.end = start + over;
    this.slope = over > 0 ? (this.to - this.from) / over : 0;
  }
  protected pieceAt(t: number, out: Piece): void {
    if (t < this.start) {
      out.rate = this.from;
      out.slope = 0;
      out.end = this.start;
    } else if (t < this.end) {
      // Clamped: rounding must not take the rate below the lower end of the ramp.
      out.rate = clampBetween(this.from + this.slope * (t - this.start), this.from, this.to);
      out.slope = this.slope;
      out.end = this.end;
    } else {
      out.rate = this.to;
      out.slope = 0;
      out.end = Infinity;
    }
  }
  rateAt(t: number): number {
    if (t < this.start) return this.fromPerSecond;
    if (t >= this.end) return this.toPerSecond;
    return clampBetween(this.from + this.slope * (t - this.start), this.from, this.to) * 1000;
  }
  describe(): string {
    return `ramp(from=${this.fromPerSecond}/s, to=${this.toPerSecond}/s, over=${this.over}ms, start=${this.start}ms)`;
  }
}

function clampBetween(x: number, a: number, b: number): number {
  const lo = a < b ? a : b;
  const hi = a < b ? b : a;
  return x < lo ? lo : x > hi ? hi : x;
}

class StepProcess extends PiecewiseProcess {
  readonly kind = 'steps';
  constructor(
    private readonly at: Float64Array,
    private readonly rates: Float64Array,
  ) {
    super();
  }
  /** Index of the last step with at <= t, or -1 before the first. */
  private indexAt(t: number): number {
    return upperBound(this.at, t) - 1;
  }
  protected pieceAt(t: number, out: Piece): void {
    const i = this.indexAt(t);
    out.rate = i < 0 ? 0 : this.rates[i]! / 1000;
    out.slope = 0;
    out.end = i + 1 < this.at.length ? this.at[i + 1]! : Infinity;
  }
  rateAt(t: number): number {
    const i = this.indexAt(t);
    return i < 0 ? 0 : this.rates[i]!;
  }
  describe(): string {
    const parts: string[] = [];
    for (let i = 0; i < this.at.length; i++) parts.push(`${this.at[i]}ms:${this.rates[i]}/s`);
    return `steps(${parts.join(', ')})`;
  }
}

class BurstProcess extends PiecewiseProcess {
  readonly kind = 'bursts';
  private readonly base: number;
  private readonly burst: number;
  constructor(
    private readonly basePerSecond: number,
    private readonly burstPerSecond: number,
    private readonly every: number,
    private readonly duration: number,
    private readonly offset: number,
  ) {
    super();
    this.base = basePerSecond / 1000;
    this.burst = burstPerSecond / 1000;
    this.cycleStart = offset;
    this.cyclePeriod = every;
    this.cycleMass = this.burst * duration + this.base * (every - duration);
  }
  protected pieceAt(t: number, out: Piece): void {
    out.slope = 0;
    if (t < this.offset) {
      out.rate = this.base;
      out.end = this.offset;
      return;
    }
    let k = Math.floor((t - this.offset) / this.every);
    if (this.offset + k * this.every > t) k--;
    // Forward until the piece ends after t (guards rounding at the edges).
    for (;;) {
      const start = this.offset + k * this.every;
      const burstEnd = start + this.duration;
      const periodEnd = this.offset + (k + 1) * this.every;
      if (t < burstEnd) {
        out.rate = this.burst;
        out.end = Math.min(burstEnd, periodEnd);
        return;
      }
      if (t < periodEnd) {
        out.rate = this.base;
        out.end = periodEnd;
        return;
      }
      k++;
    }
  }
  rateAt(t: number): number {
    if (t < this.offset) return this.basePerSecond;
    const phase = (t - this.offset) % this.every;
    return phase < this.duration ? this.burstPerSecond : this.basePerSecond;
  }
  describe(): string {
    return `bursts(rate=${this.basePerSecond}/s, burstRate=${this.burstPerSecond}/s, every=${this.every}ms, duration=${this.duration}ms, offset=${this.offset}ms)`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sinusoid, generated by inversion with a safeguarded Newton iteration
// ---------------------------------------------------------------------------------------------------------

const NEWTON_MAX_ITERATIONS = 100;

class SinusoidalProcess implements ArrivalProcess {
  readonly kind = 'sinusoidal';
  private readonly m: number;
  private readonly a: number;
  /** π / period: Λ(s + x) − Λ(s) = m x + (a / k) sin(θ + k x) sin(k x), with θ the angle at s. */
  private readonly k: number;
  constructor(
    private readonly mean: number,
    private readonly amplitude: number,
    private readonly period: number,
    private readonly phase: number,
  ) {
    this.m = mean / 1000;
    this.a = amplitude / 1000;
    this.k = Math.PI / period;
  }

  /** The angle 2π (t + phase) / period, reduced first so that large times keep their precision. */
  private angle(t: number): number {
    return (2 * Math.PI * ((t + this.phase) % this.period)) / this.period;
  }

  /** Expected arrivals in [s, s + x) given the angle θ at s: never a difference of two large numbers. */
  private mass(theta: number, x: number): number {
    const kx = this.k * x;
    return this.m * x + (this.a / this.k) * Math.sin(theta + kx) * Math.sin(kx);
  }

  next(now: number, rng: RandomStream): number {
    const e = unitExponential(rng);
    const m = this.m;
    const a = this.a;
    if (m === 0) return Infinity;
    if (e === 0) return now;
    const theta = this.angle(now);
    // Bracket: the rate is in [m - a, m + a], and the oscillating part of the mass is within ±a/k.
    let lo = e / (m + a);
    let hi = (e + a / this.k) / m;
    if (m > a) hi = Math.min(hi, e / (m - a));
    // Start from the mean-rate guess, then Newton steps, bisecting whenever a step leaves the bracket.
    let x = Math.min(Math.max(e / m, lo), hi);
    for (let i = 0; i < NEWTON_MAX_ITERATIONS; i++) {
      const f = this.mass(theta, x) - e;
      if (f === 0) break;
      if (f < 0) lo = x;
      else hi = x;
      const rate = m + a * Math.sin(theta + 2 * this.k * x);
      let nextX = rate > 0 ? x - f / rate : Number.NaN;
      if (!(nextX > lo && nextX < hi)) nextX = 0.5 * (lo + hi);
      if (Math.abs(nextX - x) <= 1e-12 * Math.max(1, x) || hi - lo <= 1e-12 * Math.max(1, hi)) {
        x = nextX;
        break;
      }
      x = nextX;
    }
    return now + x;
  }

  rateAt(t: number): number {
    return this.mean + this.amplitude * Math.sin(this.angle(t));
  }

  expectedCount(from: number, to: number): number {
    span(from, to);
    if (to === Infinity) return this.m > 0 ? Infinity : 0;
    return this.mass(this.angle(from), to - from);
  }

  describe(): string {
    return `sinusoidal(mean=${this.mean}/s, amplitude=${this.amplitude}/s, period=${this.period}ms, phase=${this.phase}ms)`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------------------------------

function span(from: number, to: number): number {
  if (typeof from !== 'number' || !Number.isFinite(from)) {
    throw invalidArgument('expectedCount.from', from, 'a finite time (ms)');
  }
  if (typeof to !== 'number' || Number.isNaN(to) || to < from) {
    throw invalidArgument('expectedCount.to', to, `a time >= from (${from} ms), or Infinity`);
  }
  return to - from;
}
