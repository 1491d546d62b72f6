import {
  checkName,
  checkObject,
  checkOptions,
  DsimError,
  invalidArgument,
  invalidOption,
  optionKeys,
} from '@dsim/core';
import { CRITICALITIES, type CriticalityShares, resolveCriticalityShares } from './criticality.js';
import { FixedLimit } from './fixed-limit.js';
import type { ConcurrencyLimit } from './limit.js';

/**
 * Options of {@link ConcurrencyLimiter}. `partitions` and `criticality` are two ways of sharing the limit
 * between kinds of requests; at most one may be given. An unknown key is an error.
 *
 * @example
 * ```ts
 * const options: ConcurrencyLimiterOptions = {
 *   limit: new WindowedLimit(new Gradient2Limit({ minLimit: 1 })),
 *   partitions: { live: 0.9, batch: 0.1 },
 * };
 * ```
 */
export interface ConcurrencyLimiterOptions {
  /** The limit algorithm, or a number for a fixed limit (a {@link FixedLimit}). Required. */
  limit: ConcurrencyLimit | number;
  /**
   * Name used in errors and traces. A non-empty string.
   * @default 'limiter'
   */
  name?: string;
  /**
   * Netflix concurrency-limits' percentage partitions (`AbstractPartitionedLimiter`): partition name to
   * its guaranteed share of the limit, each in [0, 1], summing to at most 1. Below the limit any request
   * is admitted; at or above it, a request is admitted only while its partition has fewer than
   * max(1, ceil(share × limit)) in flight. Requests of a partition not listed (or of none) share the
   * library's "unknown" partition, whose guarantee is 0: they only use spare capacity. The name
   * `unknown` is reserved for it.
   * @default none
   */
  partitions?: Readonly<Record<string, number>>;
  /**
   * Admission by criticality (Google SRE book, "Handling Overload"): `true` for the default shares, or
   * shares by criticality (see {@link CriticalityShares}). A request without a criticality is `CRITICAL`,
   * the book's default.
   * @default none
   */
  criticality?: true | Partial<CriticalityShares>;
}

const LIMITER_KEYS = optionKeys<ConcurrencyLimiterOptions>()({
  limit: true,
  name: true,
  partitions: true,
  criticality: true,
});

/** The partition of requests no known partition claims (the library's `unknownPartition`). */
const UNKNOWN = 'unknown';

/**
 * Counters of one partition or criticality of a {@link ConcurrencyLimiter}.
 *
 * @example
 * ```ts
 * const { name, limit, inflight, rejected } = limiter.groups[0]!;
 * ```
 */
export interface LimiterGroupStats {
  /** Partition name or criticality. */
  readonly name: string;
  /**
   * Its limit now: a partition's guaranteed share (applied once the whole limit is reached), or a
   * criticality's admission threshold.
   */
  readonly limit: number;
  /** Its requests in flight. */
  readonly inflight: number;
  /** Its requests admitted so far. */
  readonly acquired: number;
  /** Its requests refused so far. */
  readonly rejected: number;
}

/**
 * Counters of a {@link ConcurrencyLimiter}. At every moment acquired = succeeded + dropped + ignored +
 * inflight.
 *
 * @example
 * ```ts
 * const { acquired, rejected, inflight } = limiter.stats;
 * ```
 */
export interface ConcurrencyLimiterStats {
  /** The limit now. */
  readonly limit: number;
  /** Requests admitted and not yet released. */
  readonly inflight: number;
  /** Requests admitted so far. */
  readonly acquired: number;
  /** Requests refused so far. */
  readonly rejected: number;
  /** Permits released with {@link LimiterPermit.success}. */
  readonly succeeded: number;
  /** Permits released with {@link LimiterPermit.dropped}. */
  readonly dropped: number;
  /** Permits released with {@link LimiterPermit.ignore}. */
  readonly ignored: number;
}

interface Group {
  readonly name: string;
  /** Partition share, or criticality share. */
  readonly share: number;
  busy: number;
  acquired: number;
  rejected: number;
}

const NONE = 0;
const PARTITIONS = 1;
const CRITICALITY = 2;

/**
 * An admitted request's hold on the limiter (the library's `Limiter.Listener`). Exactly one of
 * {@link LimiterPermit.success}, {@link LimiterPermit.dropped} or {@link LimiterPermit.ignore} must be
 * called, once; a second call is an INVALID_STATE error.
 *
 * @example
 * ```ts
 * const permit = limiter.acquire(sim.now);
 * if (permit !== undefined) endpoint.callThen('db', 'GET', {}, (res) => (res.ok ? permit.success(sim.now) : permit.dropped(sim.now)));
 * ```
 */
export class LimiterPermit {
  private released = false;

  /** @internal Use {@link ConcurrencyLimiter.acquire}. */
  constructor(
    private readonly limiter: ConcurrencyLimiter,
    /** When the request was admitted (ms). */
    readonly startTime: number,
    /** Requests in flight once it was admitted, itself included: the `inflight` of its sample. */
    readonly inflight: number,
    private readonly group: Group | null,
  ) {}

  /** The request completed: its round-trip time is a sample of the limit (`onSuccess`). */
  success(now: number): void {
    this.release(now, 'success');
  }

  /**
   * The request was dropped (timed out, or refused downstream): a sample marked as a drop (`onDropped`),
   * which loss-based limits such as AIMD answer by backing off.
   */
  dropped(now: number): void {
    this.release(now, 'dropped');
  }

  /**
   * The request ended before its round-trip time meant anything (it failed locally, or was cancelled):
   * the permit is given back with no sample (`onIgnore`), so it cannot bias the RTT low.
   */
  ignore(): void {
    this.release(this.startTime, 'ignore');
  }

  private release(now: number, how: 'success' | 'dropped' | 'ignore'): void {
    if (this.released)
      throw new DsimError(
        'INVALID_STATE',
        `${this.limiter.name}: a permit was released twice (it was admitted at ${this.startTime} ms); call exactly one of success(), dropped() or ignore() per permit`,
        { details: { component: 'LimiterPermit', startTime: this.startTime } },
      );
    if (!(now >= this.startTime) || now === Infinity)
      throw invalidArgument(
        'now',
        now,
        `a finite time >= the permit's start (${this.startTime} ms)`,
        `LimiterPermit.${how}`,
      );
    this.released = true;
    this.limiter._release(this, this.group, now, how);
  }
}

/**
 * Enforces a {@link ConcurrencyLimit}: a request is admitted while fewer than `limit` requests are in
 * flight, and each admitted request's outcome is fed back to the limit as a sample. Netflix
 * concurrency-limits' `SimpleLimiter` (an adjustable semaphore: when the limit drops below the requests
 * in flight, new requests are refused until enough finish), or its `AbstractPartitionedLimiter` with
 * `partitions`, or admission by criticality (Google SRE book) with `criticality`.
 *
 * It is a pure decision object: it never schedules anything and reads time only from the `now` it is
 * given. {@link ConcurrencyLimitProxy} puts one in front of a service; {@link LimitedCaller} puts one
 * in a client.
 *
 * @example
 * ```ts
 * const limiter = new ConcurrencyLimiter({ limit: new AimdLimit({ initialLimit: 10, minLimit: 1 }) });
 * const permit = limiter.acquire(0);      // undefined when refused
 * permit?.success(12);                    // a 12 ms sample: AIMD adds 1 when the limit was in use
 * ```
 */
export class ConcurrencyLimiter {
  /** Name used in errors. */
  readonly name: string;
  /** The limit algorithm. */
  readonly algorithm: ConcurrencyLimit;
  private readonly mode: number;
  private readonly groups_: Group[] = [];
  private readonly byName = new Map<string, Group>();
  private readonly unknown: Group | null;
  private inflightCount = 0;
  private acquiredCount = 0;
  private rejectedCount = 0;
  private succeededCount = 0;
  private droppedCount = 0;
  private ignoredCount = 0;

  /** @param options - see {@link ConcurrencyLimiterOptions} */
  constructor(options: ConcurrencyLimiterOptions) {
    const C = 'ConcurrencyLimiter';
    checkObject(C, 'options', options, 'an options object with limit');
    checkOptions(C, options, LIMITER_KEYS);
    this.name = checkName(C, 'name', options.name ?? 'limiter');
    const limit = options.limit;
    if (typeof limit === 'number') this.algorithm = new FixedLimit(limit);
    else if (
      limit !== null &&
      typeof limit === 'object' &&
      typeof limit.onSample === 'function' &&
      typeof limit.limit === 'number'
    )
      this.algorithm = limit;
    else
      throw invalidOption(
        C,
        'limit',
        limit,
        'a ConcurrencyLimit (FixedLimit, AimdLimit, Gradient2Limit, VegasLimit, WindowedLimit) or an integer >= 1',
      );
    if (options.partitions !== undefined && options.criticality !== undefined)
      throw invalidOption(
        C,
        'criticality',
        options.criticality,
        'left out when partitions are given: a limiter shares its limit one way',
      );
    if (options.partitions !== undefined) {
      this.mode = PARTITIONS;
      const partitions = options.partitions;
      checkObject(C, 'partitions', partitions, 'an object of partition name to share in [0, 1]');
      let total = 0;
      for (const [name, share] of Object.entries(partitions)) {
        if (name === UNKNOWN)
          throw invalidOption(
            C,
            `partitions.${name}`,
            share,
            `another name: "${UNKNOWN}" is the partition of requests no partition claims`,
          );
        if (!(typeof share === 'number' && share >= 0 && share <= 1))
          throw invalidOption(C, `partitions.${name}`, share, 'a share of the limit in [0, 1]');
        total += share;
        this.addGroup(name, share);
      }
      if (this.groups_.length === 0)
        throw invalidOption(C, 'partitions', partitions, 'at least one partition { name: share }');
      if (total > 1 + 1e-9)
        throw invalidOption(
          C,
          'partitions',
          partitions,
          `shares summing to at most 1 (they sum to ${total})`,
        );
      this.unknown = this.addGroup(UNKNOWN, 0);
    } else if (options.criticality !== undefined) {
      this.mode = CRITICALITY;
      this.unknown = null;
      const shares = resolveCriticalityShares(C, options.criticality);
      for (const [i, level] of CRITICALITIES.entries()) this.addGroup(level, shares[i]!);
    } else {
      this.mode = NONE;
      this.unknown = null;
    }
  }

  /** The limit now. */
  get limit(): number {
    return this.algorithm.limit;
  }

  /** Requests admitted and not yet released. */
  get inflight(): number {
    return this.inflightCount;
  }

  /** Counters. */
  get stats(): ConcurrencyLimiterStats {
    return {
      limit: this.algorithm.limit,
      inflight: this.inflightCount,
      acquired: this.acquiredCount,
      rejected: this.rejectedCount,
      succeeded: this.succeededCount,
      dropped: this.droppedCount,
      ignored: this.ignoredCount,
    };
  }

  /**
   * Counters of each partition (`unknown` last) or criticality (most critical first); empty for a
   * limiter with neither.
   */
  get groups(): LimiterGroupStats[] {
    return this.groups_.map((g) => ({
      name: g.name,
      limit: this.groupLimit(g),
      inflight: g.busy,
      acquired: g.acquired,
      rejected: g.rejected,
    }));
  }

  /**
   * Asks to admit a request at `now` (ms): a {@link LimiterPermit} to release when it ends, or undefined
   * when it is refused. `group` is its partition (any string; one not configured is `unknown`) or its
   * {@link Criticality} (default `CRITICAL`); a limiter with neither takes none.
   *
   * @example
   * ```ts
   * const permit = limiter.acquire(sim.now, 'batch');
   * ```
   */
  acquire(now: number, group?: string): LimiterPermit | undefined {
    if (!(now - now === 0)) throw invalidArgument('now', now, 'a finite time in ms', `${this.name}.acquire`);
    const limit = this.algorithm.limit;
    let g: Group | null = null;
    let admitted: boolean;
    switch (this.mode) {
      case NONE:
        if (group !== undefined)
          throw invalidArgument(
            'group',
            group,
            'undefined: this limiter has no partitions and no criticality',
            `${this.name}.acquire`,
          );
        admitted = this.inflightCount < limit;
        break;
      case PARTITIONS:
        g = (group === undefined ? undefined : this.byName.get(group)) ?? this.unknown!;
        // The library's rule: a partition's share binds only once the whole limit is reached, so spare
        // capacity is open to every partition.
        admitted = this.inflightCount < limit || g.busy < this.groupLimit(g);
        break;
      default: {
        g = this.byName.get(group ?? 'CRITICAL') ?? this.unknownCriticality(group);
        admitted = this.inflightCount < this.groupLimit(g);
      }
    }
    if (!admitted) {
      this.rejectedCount++;
      if (g !== null) g.rejected++;
      return undefined;
    }
    const inflight = ++this.inflightCount;
    this.acquiredCount++;
    if (g !== null) {
      g.busy++;
      g.acquired++;
    }
    return new LimiterPermit(this, now, inflight, g);
  }

  /** @internal A permit ended; see {@link LimiterPermit}. */
  _release(
    permit: LimiterPermit,
    group: Group | null,
    now: number,
    how: 'success' | 'dropped' | 'ignore',
  ): void {
    this.inflightCount--;
    if (group !== null) group.busy--;
    if (how === 'ignore') {
      this.ignoredCount++;
      return;
    }
    const drop = how === 'dropped';
    if (drop) this.droppedCount++;
    else this.succeededCount++;
    this.algorithm.onSample(permit.startTime, now - permit.startTime, permit.inflight, drop);
  }

  private groupLimit(g: Group): number {
    const limit = this.algorithm.limit;
    if (this.mode === PARTITIONS) return g === this.unknown ? 0 : Math.max(1, Math.ceil(limit * g.share));
    return Math.max(1, Math.floor(limit * g.share));
  }

  private addGroup(name: string, share: number): Group {
    const g: Group = { name, share, busy: 0, acquired: 0, rejected: 0 };
    this.groups_.push(g);
    this.byName.set(name, g);
    return g;
  }

  private unknownCriticality(group: string | undefined): never {
    throw invalidArgument(
      'group',
      group,
      `a criticality: ${CRITICALITIES.join(', ')}`,
      `${this.name}.acquire`,
    );
  }
}
