import {
  type Counter,
  checkBoolean,
  checkDuration,
  checkEnum,
  checkKeys,
  checkNumber,
  type Duration,
  type Gauge,
  type Histogram,
  invalidOption,
  type NetNode,
  nested,
  type Owner,
  optionKeys,
  owner,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';

/**
 * Options of the write-behind queue of a {@link CacheWriter} (`mode: 'write-behind'`), after Hazelcast's
 * MapStore settings.
 *
 * A flush hands everything queued to the store. It starts `flushInterval` after the oldest queued write
 * (so no write waits longer than that, plus the previous flush if it is still running), or as soon as
 * `batchSize` entries are queued, or on {@link CacheWriter.flush}. Flushes do not overlap: one that is
 * due while another runs starts when that one ends.
 *
 * Hazelcast differs in one detail: with `write-delay-seconds = D` every entry is stored once it is at
 * least D old (a per-entry delay, checked about every second), so each write waits about D to D + 1 s
 * and about w·(D + 0.5 s) writes are queued at a write rate w; here a flush takes the whole queue, so
 * writes wait between 0 and `flushInterval` and about w·F/2 are queued (see
 * {@link writeBehindExpectedQueue}).
 *
 * @example
 * ```ts
 * const writeBehind: WriteBehindOptions = { flushInterval: '1s', batchSize: 500, coalesce: true, capacity: 10_000 };
 * ```
 */
export interface WriteBehindOptions {
  /**
   * Longest a write waits in the queue before a flush starts (Hazelcast's `write-delay-seconds`, as a
   * linger time). `Infinity`: flush only by `batchSize` or {@link CacheWriter.flush}.
   * @default 1 s
   */
  readonly flushInterval?: Duration;
  /**
   * Flush as soon as this many entries are queued (Hazelcast's `write-batch-size`); with `storeAll`, also
   * the most entries per `storeAll` call. An integer >= 1, or `Infinity`.
   * @default Infinity
   */
  readonly batchSize?: number;
  /**
   * Keep only the latest value per queued key (Hazelcast's `write-coalescing`): a write to a key that is
   * already queued replaces its value in place, so a flush makes at most one store call per key. The
   * store sees fewer calls; the replaced writes are still counted (stored or lost) with the entry that
   * carries them. Hazelcast's default is `true`.
   * @default false
   */
  readonly coalesce?: boolean;
  /**
   * Most entries the queue holds (Hazelcast's `write-behind-queue-capacity`); what happens to a write
   * that finds it full is `onFull`. An integer >= 1, or `Infinity`.
   * @default Infinity
   */
  readonly capacity?: number;
  /**
   * What a write that finds the queue full does:
   * - `reject`: it fails (`queue-full`) and neither the cache nor the store sees it (Hazelcast throws
   *   `ReachedMaxSizeException`);
   * - `write-through`: it joins the queue anyway (over capacity, so a key's writes stay in order), a flush
   *   starts at once, and the write is acknowledged only when the store has it: writes become synchronous
   *   while the queue is full (backpressure).
   * @default 'reject'
   */
  readonly onFull?: 'reject' | 'write-through';
  /**
   * Store calls in flight at once during a flush. Writes of one key are always sent one after the other,
   * in order. With `storeAll`, chunks are sent one at a time and this is ignored.
   * @default 1 (one write-behind thread)
   */
  readonly concurrency?: number;
  /**
   * Retrying a failed store call (the same entry, or the same `storeAll` chunk): at most `attempts`
   * retries, `delay` apart; after them its writes are dropped (counted as `dropped`). While a flush
   * retries, later flushes wait, so a store that stays down fills the queue.
   * @default { attempts: Infinity, delay: 1 s } (Hazelcast keeps retrying)
   */
  readonly retry?: { readonly attempts?: number; readonly delay?: Duration };
}

/**
 * What one store call returns: `ok`. An `RpcResponse` fits.
 *
 * @example
 * ```ts
 * const store = (key: string, value: Row): SimEvent<StoreResult> => endpoint.call('db', { op: 'put', key, value });
 * ```
 */
export interface StoreResult {
  readonly ok: boolean;
}

/**
 * One key and value handed to a batch store (`storeAll`).
 *
 * @example
 * ```ts
 * const storeAll = (entries: readonly StoreEntry<Row>[]) => endpoint.call('db', { op: 'put-all', entries });
 * ```
 */
export interface StoreEntry<V> {
  readonly key: string;
  readonly value: V;
}

/**
 * Writes lost when the node holding a write-behind queue crashed.
 *
 * @example
 * ```ts
 * const total = writer.losses.reduce((sum, loss) => sum + loss.writes, 0);
 * ```
 */
export interface WriteLoss {
  /** Time of the crash. */
  readonly at: number;
  /** Acknowledged writes that had not been sent to the store: gone for good. */
  readonly writes: number;
  /** Distinct keys among them. */
  readonly keys: number;
  /**
   * Writes whose store call was on the wire: the store may still apply them, but nobody will know (they
   * are neither stored nor lost in the counts, but `inDoubt`).
   */
  readonly inDoubt: number;
}

/**
 * Resolved {@link WriteBehindOptions}: every field set, durations in ms (see
 * {@link CacheWriter.writeBehind}).
 *
 * @example
 * ```ts
 * const { flushInterval, batchSize } = writer.writeBehind!;
 * ```
 */
export interface WriteBehindConfig {
  readonly flushInterval: number;
  readonly batchSize: number;
  readonly coalesce: boolean;
  readonly capacity: number;
  readonly onFull: 'reject' | 'write-through';
  readonly concurrency: number;
  readonly retryAttempts: number;
  readonly retryDelay: number;
}

/** Every key of {@link WriteBehindOptions}. @internal */
export const WRITE_BEHIND_KEYS = optionKeys<WriteBehindOptions>()({
  flushInterval: true,
  batchSize: true,
  coalesce: true,
  capacity: true,
  onFull: true,
  concurrency: true,
  retry: true,
});

/** Every key of {@link WriteBehindOptions.retry}. @internal */
export const WRITE_BEHIND_RETRY_KEYS = optionKeys<NonNullable<WriteBehindOptions['retry']>>()({
  attempts: true,
  delay: true,
});

/** @internal Validates {@link WriteBehindOptions}, the options at `where` (unknown keys included). */
export function resolveWriteBehind(options: WriteBehindOptions | undefined, where: Owner): WriteBehindConfig {
  checkKeys(where, options, WRITE_BEHIND_KEYS);
  const o = options ?? {};
  const flushInterval = checkDuration(
    where,
    'flushInterval',
    o.flushInterval,
    { positive: true, infinity: true },
    1000,
  );
  const batchSize = checkNumber(
    where,
    'batchSize',
    o.batchSize,
    { integer: true, min: 1, infinity: true },
    Infinity,
  );
  if (flushInterval === Infinity && batchSize === Infinity)
    throw invalidOption(
      where,
      'batchSize',
      o.batchSize,
      'a finite integer when flushInterval is Infinity (otherwise nothing ever flushes)',
    );
  const coalesce = checkBoolean(where, 'coalesce', o.coalesce, false);
  const capacity = checkNumber(
    where,
    'capacity',
    o.capacity,
    { integer: true, min: 1, infinity: true },
    Infinity,
  );
  const onFull = checkEnum(where, 'onFull', o.onFull, ['reject', 'write-through'] as const, 'reject');
  const concurrency = checkNumber(where, 'concurrency', o.concurrency, { integer: true, min: 1 }, 1);
  const retry = nested(where, 'retry');
  checkKeys(retry, o.retry, WRITE_BEHIND_RETRY_KEYS);
  const retryAttempts = checkNumber(
    retry,
    'attempts',
    o.retry?.attempts,
    { integer: true, min: 0, infinity: true },
    Infinity,
  );
  const retryDelay = checkDuration(retry, 'delay', o.retry?.delay, {}, 1000);
  return { flushInterval, batchSize, coalesce, capacity, onFull, concurrency, retryAttempts, retryDelay };
}

/** @internal Counters of the queue, merged into {@link CacheWriterStats}. */
export interface WriteBehindCounts {
  accepted: number;
  queued: number;
  queuedKeys: number;
  inFlight: number;
  stored: number;
  lost: number;
  lostKeys: number;
  inDoubt: number;
  dropped: number;
  flushes: number;
  coalesced: number;
  retries: number;
  storeCalls: number;
  storeFailures: number;
  peakQueued: number;
  maxQueueAge: number;
}

/** @internal The meters the queue records into (shared with its writer). */
export interface WriteBehindMeters {
  storeCalls: Counter;
  storeFailures: Counter;
  stored: Counter;
  flushes: Counter;
  coalesced: Counter;
  retries: Counter;
  dropped: Counter;
  lost: Counter;
  lostKeys: Counter;
  inDoubt: Counter;
  queue: Gauge;
  inFlight: Gauge;
  queueAge: Histogram;
}

/** A queued entry: one write, or several coalesced ones of the same key. */
interface Entry<V> {
  readonly key: string;
  value: V;
  /** Acknowledged (or accepted) writes it stands for. */
  writes: number;
  /** Time of its first write. */
  readonly firstAt: number;
  /** Writes acknowledged only once stored (`onFull: 'write-through'`). */
  waiters: Array<(stored: boolean) => void> | null;
}

/** One store call's worth of a flush: an entry, or a `storeAll` chunk. */
interface Item<V> {
  readonly entries: Entry<V>[];
  readonly writes: number;
  attempts: number;
  state: 'held' | 'wire' | 'done';
}

interface Flush<V> {
  readonly items: Item<V>[];
  /** Lanes of items sent in order (a key's entries, or all chunks); lanes run concurrently. */
  readonly lanes: Item<V>[][];
  nextLane: number;
  activeLanes: number;
}

interface Timer {
  cancel(): void;
}

/**
 * @internal The write-behind queue of a {@link CacheWriter}: accepts writes, flushes them to the store in
 * the background, retries failures, and loses what it holds when its node crashes.
 */
export class WriteBehindQueue<V> {
  private queue: Entry<V>[] = [];
  private readonly index = new Map<string, Entry<V>>();
  private flushing: Flush<V> | null = null;
  private wanted = false;
  private timer: Timer | undefined;
  private epoch = 0;
  private readonly lossLog: WriteLoss[] = [];
  readonly counts: WriteBehindCounts = {
    accepted: 0,
    queued: 0,
    queuedKeys: 0,
    inFlight: 0,
    stored: 0,
    lost: 0,
    lostKeys: 0,
    inDoubt: 0,
    dropped: 0,
    flushes: 0,
    coalesced: 0,
    retries: 0,
    storeCalls: 0,
    storeFailures: 0,
    peakQueued: 0,
    maxQueueAge: 0,
  };

  constructor(
    private readonly sim: Simulation,
    private readonly name: string,
    private readonly config: WriteBehindConfig,
    private readonly store: (key: string, value: V) => SimEvent<StoreResult>,
    private readonly storeAll: ((entries: readonly StoreEntry<V>[]) => SimEvent<StoreResult>) | undefined,
    private readonly node: NetNode<any> | undefined,
    private readonly meters: WriteBehindMeters,
  ) {}

  /** Losses at crashes, oldest first. */
  get losses(): readonly WriteLoss[] {
    return this.lossLog;
  }

  /** Whether a write of `key` finds the queue full now (it would need a new entry beyond capacity). */
  isFull(key: string): boolean {
    return this.queue.length >= this.config.capacity && !(this.config.coalesce && this.index.has(key));
  }

  /**
   * Accepts a write. `waiter`, when given, is told whether the write was stored (or dropped); it makes a
   * flush start at once.
   */
  offer(key: string, value: V, waiter: ((stored: boolean) => void) | null): void {
    const c = this.counts;
    c.accepted++;
    c.queued++;
    let entry = this.config.coalesce ? this.index.get(key) : undefined;
    if (entry !== undefined) {
      entry.value = value;
      entry.writes++;
      c.coalesced++;
      this.meters.coalesced.inc();
    } else {
      entry = { key, value, writes: 1, firstAt: this.sim.now, waiters: null };
      this.queue.push(entry);
      if (this.config.coalesce) this.index.set(key, entry);
      c.queuedKeys = this.queue.length;
    }
    if (waiter !== null) (entry.waiters ??= []).push(waiter);
    if (c.queued > c.peakQueued) c.peakQueued = c.queued;
    this.meters.queue.set(c.queued);
    if (waiter !== null || this.queue.length >= this.config.batchSize) this.requestFlush();
    else if (this.timer === undefined && this.config.flushInterval !== Infinity)
      this.timer = this.after(this.config.flushInterval, () => {
        this.timer = undefined;
        this.requestFlush();
      });
  }

  /** Starts a flush now, or as soon as the running one ends. */
  requestFlush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.flushing !== null) this.wanted = true;
    else this.startFlush();
  }

  /**
   * The node crashed: everything queued, and everything a flush holds but has not sent, is lost; what is
   * on the wire is in doubt.
   */
  crash(): WriteLoss {
    this.epoch++;
    this.timer?.cancel();
    this.timer = undefined;
    const keys = new Set<string>();
    let writes = 0;
    let inDoubt = 0;
    const waiters: Array<(stored: boolean) => void> = [];
    const lose = (entry: Entry<V>): void => {
      writes += entry.writes;
      keys.add(entry.key);
      if (entry.waiters !== null) waiters.push(...entry.waiters);
    };
    for (const entry of this.queue) lose(entry);
    const flush = this.flushing;
    if (flush !== null) {
      for (const item of flush.items) {
        if (item.state === 'held') for (const entry of item.entries) lose(entry);
        else if (item.state === 'wire') {
          inDoubt += item.writes;
          for (const entry of item.entries) if (entry.waiters !== null) waiters.push(...entry.waiters);
        }
      }
    }
    this.queue = [];
    this.index.clear();
    this.flushing = null;
    this.wanted = false;
    const c = this.counts;
    c.queued = 0;
    c.queuedKeys = 0;
    c.inFlight = 0;
    c.lost += writes;
    c.lostKeys += keys.size;
    c.inDoubt += inDoubt;
    const m = this.meters;
    m.lost.inc(writes);
    m.lostKeys.inc(keys.size);
    m.inDoubt.inc(inDoubt);
    m.queue.set(0);
    m.inFlight.set(0);
    const loss: WriteLoss = { at: this.sim.now, writes, keys: keys.size, inDoubt };
    this.lossLog.push(loss);
    if (this.sim.tracing)
      this.sim.emit('@dsim.write.lost', { writer: this.name, writes, keys: keys.size, inDoubt });
    for (const waiter of waiters) waiter(false);
    return loss;
  }

  private after(delay: number, fn: () => void): Timer {
    return this.node === undefined ? this.sim.schedule(delay, fn) : this.node.setTimer(delay, fn);
  }

  private startFlush(): void {
    const entries = this.queue;
    if (entries.length === 0) return;
    this.queue = [];
    this.index.clear();
    const now = this.sim.now;
    const c = this.counts;
    let writes = 0;
    for (const entry of entries) {
      writes += entry.writes;
      const age = now - entry.firstAt;
      this.meters.queueAge.record(age);
      if (age > c.maxQueueAge) c.maxQueueAge = age;
    }
    c.queued -= writes;
    c.queuedKeys = 0;
    c.inFlight += writes;
    c.flushes++;
    this.meters.flushes.inc();
    this.meters.queue.set(c.queued);
    this.meters.inFlight.set(c.inFlight);
    if (this.sim.tracing)
      this.sim.emit('@dsim.write.flush', {
        writer: this.name,
        entries: entries.length,
        writes,
        oldestAge: now - entries[0]!.firstAt,
      });
    const items: Item<V>[] = [];
    const lanes: Item<V>[][] = [];
    const item = (chunk: Entry<V>[]): Item<V> => {
      let n = 0;
      for (const e of chunk) n += e.writes;
      const it: Item<V> = { entries: chunk, writes: n, attempts: 0, state: 'held' };
      items.push(it);
      return it;
    };
    if (this.storeAll !== undefined) {
      const size = this.config.batchSize === Infinity ? entries.length : this.config.batchSize;
      const lane: Item<V>[] = [];
      for (let i = 0; i < entries.length; i += size) lane.push(item(entries.slice(i, i + size)));
      lanes.push(lane);
    } else {
      const byKey = new Map<string, Item<V>[]>();
      for (const entry of entries) {
        let lane = byKey.get(entry.key);
        if (lane === undefined) {
          lane = [];
          byKey.set(entry.key, lane);
          lanes.push(lane);
        }
        lane.push(item([entry]));
      }
    }
    const flush: Flush<V> = { items, lanes, nextLane: 0, activeLanes: 0 };
    this.flushing = flush;
    const workers = this.storeAll !== undefined ? 1 : Math.min(this.config.concurrency, lanes.length);
    for (let i = 0; i < workers; i++) this.nextLane(flush);
  }

  /** A worker takes the next lane, or ends; the last one to end finishes the flush. */
  private nextLane(flush: Flush<V>): void {
    if (flush.nextLane < flush.lanes.length) {
      const lane = flush.lanes[flush.nextLane++]!;
      flush.activeLanes++;
      this.send(flush, lane, 0);
      return;
    }
    if (flush.activeLanes === 0 && this.flushing === flush) this.flushDone();
  }

  private send(flush: Flush<V>, lane: Item<V>[], i: number): void {
    const item = lane[i];
    if (item === undefined) {
      flush.activeLanes--;
      this.nextLane(flush);
      return;
    }
    const epoch = this.epoch;
    item.state = 'wire';
    const c = this.counts;
    c.storeCalls++;
    this.meters.storeCalls.inc();
    const call =
      this.storeAll !== undefined
        ? this.storeAll(item.entries.map((e) => ({ key: e.key, value: e.value })))
        : this.store(item.entries[0]!.key, item.entries[0]!.value);
    call.onProcessed((e) => {
      if (epoch !== this.epoch) return; // the node crashed meanwhile: counted as in doubt
      if (e.ok && e.value?.ok === true) {
        this.settle(item, true);
        this.send(flush, lane, i + 1);
        return;
      }
      c.storeFailures++;
      this.meters.storeFailures.inc();
      if (item.attempts < this.config.retryAttempts) {
        item.attempts++;
        item.state = 'held';
        c.retries++;
        this.meters.retries.inc();
        if (this.sim.tracing)
          this.sim.emit('@dsim.write.retry', {
            writer: this.name,
            entries: item.entries.length,
            attempt: item.attempts,
          });
        this.after(this.config.retryDelay, () => this.send(flush, lane, i));
        return;
      }
      this.settle(item, false);
      if (this.sim.tracing)
        this.sim.emit('@dsim.write.drop', {
          writer: this.name,
          entries: item.entries.length,
          writes: item.writes,
        });
      this.send(flush, lane, i + 1);
    });
  }

  private settle(item: Item<V>, stored: boolean): void {
    item.state = 'done';
    const c = this.counts;
    c.inFlight -= item.writes;
    this.meters.inFlight.set(c.inFlight);
    if (stored) {
      c.stored += item.writes;
      this.meters.stored.inc(item.writes);
    } else {
      c.dropped += item.writes;
      this.meters.dropped.inc(item.writes);
    }
    for (const entry of item.entries) {
      if (entry.waiters === null) continue;
      const waiters = entry.waiters;
      entry.waiters = null;
      for (const waiter of waiters) waiter(stored);
    }
  }

  private flushDone(): void {
    this.flushing = null;
    if (this.wanted || this.queue.length >= this.config.batchSize) {
      this.wanted = false;
      this.startFlush();
    }
  }
}

/**
 * The input of {@link writeBehindExpectedQueue}.
 *
 * @example
 * ```ts
 * const input: WriteBehindQueueInput = { ratePerSecond: 100, flushIntervalMs: 1000, batchSize: 20 };
 * ```
 */
export interface WriteBehindQueueInput {
  /** Poisson write rate, a finite number >= 0. */
  readonly ratePerSecond: number;
  /** Flush interval in ms, a number > 0 or Infinity. */
  readonly flushIntervalMs: number;
  /**
   * Writes that trigger a flush, an integer >= 1 or Infinity.
   * @default Infinity
   */
  readonly batchSize?: number;
}

/** Every key of {@link WriteBehindQueueInput}. @internal */
export const WRITE_BEHIND_QUEUE_KEYS = optionKeys<WriteBehindQueueInput>()({
  ratePerSecond: true,
  flushIntervalMs: true,
  batchSize: true,
});

/**
 * Expected number of writes waiting in a write-behind queue at a random instant (so, lost by a crash at
 * a random time), for Poisson writes at `ratePerSecond`, a flush `flushIntervalMs` after the oldest
 * queued write or as soon as `batchSize` writes are queued, no coalescing, and flushes that hand the
 * whole queue to the store at once.
 *
 * Derivation (a renewal cycle): the queue is empty until a write arrives (mean 1/w), then fills as
 * 1 + N(u), N a Poisson process of rate w, until u = F or the b-th write. With N(F) ~ Poisson(wF) and
 * ∫₀^F P(N(u) = k) du = P(N(F) ≥ k + 1)/w:
 *
 *   E[Q] = Σ_{k=0}^{b−2} (k+1)·P(N(F) ≥ k+1) / (1 + Σ_{k=0}^{b−2} P(N(F) ≥ k+1)).
 *
 * Without a batch limit this is wF(1 + wF/2)/(1 + wF) ≈ wF/2 + 1/2; without a flush interval it is
 * (b − 1)/2.
 *
 * @example
 * ```ts
 * writeBehindExpectedQueue({ ratePerSecond: 100, flushIntervalMs: 1000 }); // 50.495...
 * writeBehindExpectedQueue({ ratePerSecond: 100, flushIntervalMs: 1000, batchSize: 20 }); // ≈ 9.5
 * ```
 */
export function writeBehindExpectedQueue(input: WriteBehindQueueInput): number {
  const where = owner('writeBehindExpectedQueue');
  requireOptions(where, input, WRITE_BEHIND_QUEUE_KEYS);
  const { ratePerSecond: w, flushIntervalMs: f } = input;
  if (typeof w !== 'number' || !(w >= 0) || w === Infinity)
    throw invalidOption(where, 'ratePerSecond', w, 'a finite number >= 0');
  if (typeof f !== 'number' || !(f > 0))
    throw invalidOption(where, 'flushIntervalMs', f, 'a number > 0, or Infinity');
  const b = checkNumber(
    where,
    'batchSize',
    input.batchSize,
    { integer: true, min: 1, infinity: true },
    Infinity,
  );
  if (f === Infinity && b === Infinity)
    throw invalidOption(where, 'batchSize', input.batchSize, 'finite when flushIntervalMs is Infinity');
  if (w === 0 || b === 1) return 0;
  if (f === Infinity) return (b - 1) / 2;
  const lambda = (w * f) / 1000;
  if (b === Infinity) return (lambda * (1 + lambda / 2)) / (1 + lambda);
  // P(N ≥ k+1) = 1 − CDF(k), with the Poisson pmf built in log space (no underflow for large λ).
  let numerator = 0;
  let denominator = 1;
  let logPmf = -lambda;
  let cdf = 0;
  const logLambda = Math.log(lambda);
  for (let k = 0; k <= b - 2; k++) {
    if (k > 0) logPmf += logLambda - Math.log(k);
    cdf += Math.exp(logPmf);
    const tail = Math.max(0, 1 - cdf);
    if (tail === 0 && k > lambda) break;
    numerator += (k + 1) * tail;
    denominator += tail;
  }
  return numerator / denominator;
}
