import { checkDuration, checkNumber, checkObject, checkOptions, type Duration, optionKeys } from '@dsim/core';

/**
 * Options of {@link RatioRetryBudget}. Names and defaults follow Finagle's `RetryBudget.apply`; an unknown
 * key is an error.
 *
 * @example
 * ```ts
 * const options: RatioRetryBudgetOptions = { ratio: 0.1, minPerSecond: 0, ttl: '10s' };
 * ```
 */
export interface RatioRetryBudgetOptions {
  /**
   * Retries allowed per request (Finagle's `percentCanRetry`, a fraction despite its name): 0.1 allows one
   * retry for every ten requests. A number in [0, 1000].
   * @default 0.2
   */
  ratio?: number;
  /**
   * Retries always allowed per second on top of the ratio, so a client that has just started (or sends
   * few requests) can still retry (Finagle's `minRetriesPerSec`). An integer >= 0.
   * @default 10
   */
  minPerSecond?: number;
  /**
   * How long a deposit (a request) stays in the bucket, between 1 s and 60 s. Withdrawals expire too, so
   * in any window of about `ttl` the retries are at most ratio × requests + minPerSecond × ttl (in s).
   * @default '10s'
   */
  ttl?: Duration;
}

const RATIO_KEYS = optionKeys<RatioRetryBudgetOptions>()({ ratio: true, minPerSecond: true, ttl: true });

/**
 * @internal Checks {@link RatioRetryBudgetOptions} (unknown keys included) and applies Finagle's
 * defaults. `path` is where the options sit in `component`'s options (`budget` in a RetryingClient's),
 * `''` at the top.
 *
 * @example
 * ```ts
 * const { ratio } = checkRatioBudget({ ratio: 0.1 }, 'RetryingClient', 'budget'); // 0.1
 * ```
 */
export function checkRatioBudget(
  options: RatioRetryBudgetOptions,
  component: string,
  path: string,
): { ratio: number; minPerSecond: number; ttlMs: number } {
  const at = (field: string): string => (path === '' ? field : `${path}.${field}`);
  checkObject(
    component,
    path === '' ? 'options' : path,
    options,
    'an options object { ratio?, minPerSecond?, ttl? }',
  );
  checkOptions(component, options, path === '' ? RATIO_KEYS : ['kind', ...RATIO_KEYS], path);
  return {
    ratio: checkNumber(component, at('ratio'), options.ratio ?? 0.2, {
      min: 0,
      max: SCALE,
      unit: 'retries per request: 0.1 is one retry per ten requests',
    }),
    minPerSecond: checkNumber(component, at('minPerSecond'), options.minPerSecond ?? 10, {
      integer: true,
      min: 0,
    }),
    ttlMs: checkDuration(component, at('ttl'), options.ttl ?? 10_000, { min: 1000, max: 60_000 }),
  };
}

/** Finagle scales deposits by 1000 so that a bucket of integers can express fractional ratios. */
const SCALE = 1000;
/** Finagle's `WindowedAdder` splits the window into 10 slices. */
const SLICES = 10;

/**
 * A per-client retry budget as a ratio of requests: Finagle's `RetryBudget` (the default budget of every
 * Finagle client), the same idea as the SRE book's "retry only while retries/requests < 10%" and gRPC's
 * retry throttling. Every request deposits; every retry (or hedge) withdraws and is refused when the
 * balance cannot pay.
 *
 * Faithful to Finagle's `TokenRetryBudget` over a leaky `TokenBucket`: a deposit is 1000 tokens, a
 * withdrawal costs ⌊1000 / ratio⌋ (1 when the ratio is 0), and a reserve of minPerSecond × ⌊ttl in s⌋
 * withdrawals is always added to the balance. Deposits and withdrawals live in a window of `ttl` kept in
 * 10 slices (it slides in ttl/10 steps), so both expire. With ratio 0 and minPerSecond 0 nothing is ever
 * allowed (Finagle's `RetryBudget.Empty`).
 *
 * @example
 * ```ts
 * const budget = new RatioRetryBudget({ ratio: 0.1, minPerSecond: 0 });
 * budget.deposit(sim.now);                      // once per request
 * if (budget.tryWithdraw(sim.now)) retry();     // once per retry
 * ```
 */
export class RatioRetryBudget {
  /** Retries allowed per request. */
  readonly ratio: number;
  /** Retries allowed per second whatever the requests. */
  readonly minPerSecond: number;
  /** Window (ms) after which deposits and withdrawals expire. */
  readonly ttlMs: number;
  private readonly depositAmount: number;
  private readonly withdrawalAmount: number;
  private readonly reserve: number;
  private readonly sliceMs: number;
  private readonly sums: number[] = new Array<number>(SLICES).fill(0);
  private readonly slots: number[] = new Array<number>(SLICES).fill(-SLICES - 1);

  /**
   * @param options - see {@link RatioRetryBudgetOptions}
   * @default options Finagle's defaults: ratio 0.2, minPerSecond 10, ttl 10 s
   */
  constructor(options: RatioRetryBudgetOptions = {}) {
    const { ratio, minPerSecond, ttlMs } = checkRatioBudget(options, 'RatioRetryBudget', '');
    this.ratio = ratio;
    this.minPerSecond = minPerSecond;
    this.ttlMs = ttlMs;
    this.depositAmount = ratio === 0 ? 0 : SCALE;
    this.withdrawalAmount = ratio === 0 ? 1 : Math.floor(SCALE / ratio);
    this.reserve = minPerSecond * Math.floor(ttlMs / 1000) * this.withdrawalAmount;
    this.sliceMs = ttlMs / SLICES;
  }

  /** Retries that could be made at `now` (the balance in withdrawals, rounded down). */
  balance(now: number): number {
    return Math.floor(this.count(now) / this.withdrawalAmount);
  }

  /** Credits one request made at `now`. */
  deposit(now: number): void {
    if (this.depositAmount > 0) this.add(now, this.depositAmount);
  }

  /** Takes one retry's cost if the balance covers it; returns false (and changes nothing) otherwise. */
  tryWithdraw(now: number): boolean {
    if (this.depositAmount === 0 && this.reserve === 0) return false;
    if (this.count(now) < this.withdrawalAmount) return false;
    this.add(now, -this.withdrawalAmount);
    return true;
  }

  private count(now: number): number {
    const slice = Math.floor(now / this.sliceMs);
    let sum = this.reserve;
    for (let i = 0; i < SLICES; i++) if (this.slots[i]! > slice - SLICES) sum += this.sums[i]!;
    return sum;
  }

  private add(now: number, amount: number): void {
    const slice = Math.floor(now / this.sliceMs);
    const i = slice % SLICES;
    if (this.slots[i] !== slice) {
      this.slots[i] = slice;
      this.sums[i] = 0;
    }
    this.sums[i] = this.sums[i]! + amount;
  }
}
