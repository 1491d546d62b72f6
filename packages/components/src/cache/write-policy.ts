import {
  type Counter,
  checkBoolean,
  checkDistribution,
  checkDuration,
  checkEnum,
  checkFunction,
  checkName,
  constant,
  type Distribution,
  type Duration,
  type Histogram,
  invalidArgument,
  invalidOption,
  type NetNode,
  nested,
  type Owner,
  optionKeys,
  owner,
  type RandomStream,
  requireOptions,
  type SimEvent,
  type Simulation,
} from '@dsim/core';
import type { CacheAccess, CacheStoreOptions } from './cache-access.js';
import {
  resolveWriteBehind,
  type StoreEntry,
  type StoreResult,
  type WriteBehindConfig,
  type WriteBehindMeters,
  type WriteBehindOptions,
  WriteBehindQueue,
  type WriteLoss,
} from './write-behind.js';

const ZERO = constant(0);

/**
 * How a {@link CacheWriter} writes a key:
 * - `write-through`: write the store, then the cache; the write completes after both. A failed store
 *   leaves the cache untouched. Slowest, and nothing acknowledged is ever lost.
 * - `write-around`: write the store, then delete the cache entry, at once or after an invalidation lag
 *   (an asynchronous pipeline such as Facebook's mcsqueal or a CDC stream); readers in the lag window
 *   read the old value. Cache-aside's write path ("update the database, then delete the key") is
 *   `write-around` with `invalidationLag: 0`, and keeps its classic race with a concurrent reader that
 *   missed: the reader can put the old value back after the delete (the race is on the read path).
 * - `write-behind`: update the cache and acknowledge at once; the store is written later, in batches,
 *   from a queue that a crash of its node loses.
 *
 * @example
 * ```ts
 * const mode: WriteMode = 'write-behind';
 * ```
 */
export type WriteMode = 'write-through' | 'write-around' | 'write-behind';

/**
 * The write modes, in the order of their durability.
 *
 * @example
 * ```ts
 * for (const mode of WRITE_MODES) console.log(mode);
 * ```
 */
export const WRITE_MODES: readonly WriteMode[] = Object.freeze([
  'write-through',
  'write-around',
  'write-behind',
]);

/**
 * Options of a {@link CacheWriter}.
 *
 * @example
 * ```ts
 * const options: CacheWriterOptions<Row> = {
 *   mode: 'write-behind',
 *   cache: new RemoteCache(endpoint, { servers: 'redis' }),
 *   store: (key, value) => endpoint.call('db', { op: 'put', key, value }, { timeout: 500 }),
 *   node: endpoint.node,
 *   writeBehind: { flushInterval: '1s', coalesce: true },
 * };
 * ```
 */
export interface CacheWriterOptions<V> {
  /**
   * Name for metrics, traces and the random stream.
   * @default 'writer'
   */
  name?: string;
  /** How to write: `write-through`, `write-around` or `write-behind`. */
  mode: WriteMode;
  /** The cache, in process ({@link LocalCacheAccess}) or remote ({@link RemoteCache}). */
  cache: CacheAccess<V>;
  /** Writes one key to the store (the database): e.g. an RPC to a database service. */
  store: (key: string, value: V) => SimEvent<StoreResult>;
  /**
   * Write-behind only: writes many keys in one call (Hazelcast's `storeAll`). A flush then makes one call
   * per chunk of `batchSize` entries, one chunk at a time, instead of one call per entry.
   * @default none (one `store` call per queued entry)
   */
  storeAll?: (entries: readonly StoreEntry<V>[]) => SimEvent<StoreResult>;
  /**
   * The node the writer runs on. Its timers drive flushes and retries (they stall while it is paused);
   * when it crashes, pending writes fail and the write-behind queue is lost. Writes made while it is down
   * fail with `down`.
   * @default none (timers on the simulation; nothing is ever lost)
   */
  node?: NetNode<any>;
  /**
   * TTL of the cache entries this writer stores, a finite duration > 0.
   * @default the cache's
   */
  ttl?: Duration;
  /**
   * Writes of one key take effect in the order they were made: a write starts once the previous write of
   * the same key has been answered (Hazelcast runs a key's operations on its partition thread). With
   * `false`, concurrent writes of a key overlap, and the store and the cache may apply them in different
   * orders.
   * @default true
   */
  ordered?: boolean;
  /**
   * Write-around only: time from the store's acknowledgement to the cache delete. `0`: the writer deletes
   * the key itself and the write completes after the delete (cache-aside). Greater: an asynchronous
   * pipeline deletes it (the write completes after the store), independent of the writer's node.
   * `Infinity`: never deleted (entries age out by their TTL). A duration, or a distribution in ms.
   * @default 0
   */
  invalidationLag?: Distribution | Duration;
  /**
   * Write-around only: the cache access the asynchronous invalidations go through (e.g. a `RemoteCache`
   * on the CDC pipeline's node, so they survive the writer's crash).
   * @default `cache`
   */
  invalidator?: CacheAccess<V>;
  /** Write-behind only: the queue's settings. @default see {@link WriteBehindOptions} */
  writeBehind?: WriteBehindOptions;
}

/** Every key of {@link CacheWriterOptions}. @internal */
export const CACHE_WRITER_KEYS = optionKeys<CacheWriterOptions<unknown>>()({
  name: true,
  mode: true,
  cache: true,
  store: true,
  storeAll: true,
  node: true,
  ttl: true,
  ordered: true,
  invalidationLag: true,
  invalidator: true,
  writeBehind: true,
});

/**
 * Why a write failed: `store-failed` (write-through and write-around: the store call failed; write-behind
 * over a full queue with `onFull: 'write-through'`: the store never took it), `queue-full` (write-behind,
 * `onFull: 'reject'`), `crashed` (the writer's node crashed before the answer), `down` (written while the
 * node was down).
 *
 * @example
 * ```ts
 * const retryable = (e: WriteError) => e !== 'down';
 * ```
 */
export type WriteError = 'store-failed' | 'queue-full' | 'crashed' | 'down';

/**
 * The answer to {@link CacheWriter.write}.
 *
 * @example
 * ```ts
 * writer.write('user:1', row).onProcessed((e) => {
 *   const { ok, durable, latency } = e.value!;
 * });
 * ```
 */
export interface WriteResult {
  /** Whether the write was acknowledged. */
  readonly ok: boolean;
  /** Why not, when not ok. */
  readonly error: WriteError | null;
  /**
   * Whether the store had the value when the write was acknowledged (write-through, write-around, and
   * write-behind's synchronous fallback); false for an ordinary write-behind acknowledgement.
   */
  readonly durable: boolean;
  /** Whether the cache confirmed the new value (always false for write-around, which deletes it). */
  readonly cached: boolean;
  /** Time from the write to the answer (ms). */
  readonly latency: number;
}

/**
 * Counters of a {@link CacheWriter}. At every moment:
 * - `writes = acks + failed + pending`;
 * - `accepted = stored + queued + inFlight + lost + inDoubt + dropped` (for write-through and
 *   write-around `accepted = stored`: a write is accepted when the store took it).
 *
 * @example
 * ```ts
 * const { acks, storeCalls, lost } = writer.stats;
 * const callsPerWrite = storeCalls / acks;
 * ```
 */
export interface CacheWriterStats {
  /** Calls to `write`. */
  readonly writes: number;
  /** Writes acknowledged ok. */
  readonly acks: number;
  /** Writes answered with an error. */
  readonly failed: number;
  /** Writes not answered yet. */
  readonly pending: number;
  /** Writes the writer took responsibility for (see above). */
  readonly accepted: number;
  /** Calls to `store` or `storeAll`. */
  readonly storeCalls: number;
  /** Store calls that failed (each retry counts). */
  readonly storeFailures: number;
  /** Accepted writes the store confirmed (coalesced writes count with the entry that carried them). */
  readonly stored: number;
  /** Write-behind: accepted writes waiting in the queue, and their distinct entries. */
  readonly queued: number;
  readonly queuedKeys: number;
  /** Write-behind: writes handed to a flush and not settled yet (sent, or waiting to be sent or retried). */
  readonly inFlight: number;
  /** Write-behind: accepted writes lost at crashes before they were sent, and their distinct keys. */
  readonly lost: number;
  readonly lostKeys: number;
  /** Write-behind: writes whose store call was on the wire at a crash (the store may have them). */
  readonly inDoubt: number;
  /** Write-behind: writes given up after the retries. */
  readonly dropped: number;
  /** Write-behind: flushes started. */
  readonly flushes: number;
  /** Write-behind: writes merged into an entry already queued for their key. */
  readonly coalesced: number;
  /** Write-behind: store calls retried. */
  readonly retries: number;
  /** Write-behind: writes refused because the queue was full (`onFull: 'reject'`). */
  readonly rejected: number;
  /** Write-behind: writes made synchronous because the queue was full (`onFull: 'write-through'`). */
  readonly syncFallbacks: number;
  /** Write-behind: most writes queued at once. */
  readonly peakQueued: number;
  /** Write-behind: oldest an entry was when its flush started (ms). */
  readonly maxQueueAge: number;
  /** Write-around: cache deletes issued. */
  readonly invalidations: number;
  /** Cache updates or deletes that failed (unreachable cache, refused value). */
  readonly cacheErrors: number;
}

interface PendingWrite {
  readonly out: SimEvent<WriteResult>;
  readonly started: number;
  answered: boolean;
}

/**
 * The write path of an application with a cache in front of its store: write-through, write-around
 * (with an optional invalidation lag; cache-aside's "write the database, delete the key" is lag 0) or
 * write-behind (Hazelcast-style: delay, batch size, coalescing, queue capacity, retries). The cache is a
 * {@link CacheAccess}, so it works in process or against a {@link CacheServer}.
 *
 * A write-behind writer holds acknowledged writes in a queue on its `node`: a crash of that node loses
 * exactly the writes not yet sent to the store, counted in `stats.lost` / `stats.lostKeys` and listed
 * per crash in {@link CacheWriter.losses}.
 *
 * Records under its name: counters `write.writes`, `write.acks`, `write.failed`, `write.store-calls`,
 * `write.store-failures`, `write.stored`, `write.flushes`, `write.coalesced`, `write.retries`,
 * `write.rejected`, `write.sync-fallbacks`, `write.dropped`, `write.lost`, `write.lost-keys`,
 * `write.in-doubt`, `write.invalidations`, `write.cache-errors`; gauges `write.queue` (queued writes) and
 * `write.in-flight`; histograms `write.latency` (acknowledged writes) and `write.queue-age` (age of each
 * entry when flushed). With tracing on: `@dsim.write.flush`, `@dsim.write.lost`, `@dsim.write.full`,
 * `@dsim.write.retry` and `@dsim.write.drop` records.
 *
 * @example
 * ```ts
 * const writer = new CacheWriter<string>(sim, {
 *   mode: 'write-through',
 *   cache: new RemoteCache(endpoint, { servers: 'cache' }),
 *   store: (key, value) => endpoint.call('db', { op: 'put', key, value }, { timeout: 500 }),
 * });
 * writer.write('user:1', 'Ada').onProcessed((e) => sim.log(`acknowledged after ${e.value!.latency} ms`));
 * ```
 */
export class CacheWriter<V> {
  readonly name: string;
  readonly mode: WriteMode;
  readonly ordered: boolean;
  /** Resolved write-behind settings (write-behind mode only). */
  readonly writeBehind: WriteBehindConfig | undefined;
  private readonly cache: CacheAccess<V>;
  private readonly invalidator: CacheAccess<V>;
  private readonly store: (key: string, value: V) => SimEvent<StoreResult>;
  private readonly node: NetNode<any> | undefined;
  private readonly storeOptions: CacheStoreOptions;
  private readonly lag: Distribution;
  private readonly rng: RandomStream;
  private readonly queue: WriteBehindQueue<V> | undefined;
  private readonly busy = new Map<string, Array<() => void>>();
  private readonly pending = new Set<PendingWrite>();
  private epoch = 0;
  private counts = {
    writes: 0,
    acks: 0,
    failed: 0,
    accepted: 0,
    storeCalls: 0,
    storeFailures: 0,
    stored: 0,
    rejected: 0,
    syncFallbacks: 0,
    invalidations: 0,
    cacheErrors: 0,
  };
  private readonly meters: Record<
    | 'writes'
    | 'acks'
    | 'failed'
    | 'storeCalls'
    | 'storeFailures'
    | 'stored'
    | 'rejected'
    | 'syncFallbacks'
    | 'invalidations'
    | 'cacheErrors',
    Counter
  > & { latency: Histogram };

  /**
   * @param sim - the simulation (metrics, traces, random stream)
   * @param options - the mode, the cache, the store and the mode's settings; unknown keys (also inside
   *   `writeBehind`), settings of another mode and bad values throw INVALID_ARGUMENT
   */
  constructor(
    readonly sim: Simulation,
    options: CacheWriterOptions<V>,
  ) {
    const where = owner('CacheWriter');
    requireOptions(where, options, CACHE_WRITER_KEYS);
    this.name = checkName(where, 'name', options.name, 'writer');
    this.mode = checkEnum(where, 'mode', options.mode, WRITE_MODES);
    this.cache = checkAccess(options.cache, where, 'cache');
    this.store = checkFunction(where, 'store', options.store, '(key, value) => SimEvent<{ ok }>');
    const behind = this.mode === 'write-behind';
    const around = this.mode === 'write-around';
    onlyFor(options.storeAll, behind, where, 'storeAll', 'write-behind');
    const storeAll =
      options.storeAll === undefined
        ? undefined
        : checkFunction<CacheWriterOptions<V>['storeAll']>(
            where,
            'storeAll',
            options.storeAll,
            '(entries) => SimEvent<{ ok }>',
          );
    onlyFor(options.writeBehind, behind, where, 'writeBehind', 'write-behind');
    onlyFor(options.invalidationLag, around, where, 'invalidationLag', 'write-around');
    onlyFor(options.invalidator, around, where, 'invalidator', 'write-around');
    if (
      options.node !== undefined &&
      (options.node === null ||
        typeof options.node.setTimer !== 'function' ||
        typeof options.node.onCrash !== 'function')
    )
      throw invalidOption(where, 'node', options.node, 'a NetNode (network.addNode(...))');
    this.node = options.node;
    // A finite TTL: it travels with each store, and the cache takes a number of ms.
    this.storeOptions =
      options.ttl === undefined ? {} : { ttl: checkDuration(where, 'ttl', options.ttl, { positive: true }) };
    this.ordered = checkBoolean(where, 'ordered', options.ordered, true);
    this.lag = checkDistribution(
      where,
      'invalidationLag',
      options.invalidationLag,
      'exponential({ mean: 20 })',
      { infinity: true },
      ZERO,
    );
    this.invalidator =
      options.invalidator === undefined ? this.cache : checkAccess(options.invalidator, where, 'invalidator');
    this.rng = sim.rng(`${this.name}/writer`);
    const m = sim.metrics;
    const id = this.name;
    this.meters = {
      writes: m.counter(id, 'write.writes'),
      acks: m.counter(id, 'write.acks'),
      failed: m.counter(id, 'write.failed'),
      storeCalls: m.counter(id, 'write.store-calls'),
      storeFailures: m.counter(id, 'write.store-failures'),
      stored: m.counter(id, 'write.stored'),
      rejected: m.counter(id, 'write.rejected'),
      syncFallbacks: m.counter(id, 'write.sync-fallbacks'),
      invalidations: m.counter(id, 'write.invalidations'),
      cacheErrors: m.counter(id, 'write.cache-errors'),
      latency: m.histogram(id, 'write.latency'),
    };
    if (behind) {
      this.writeBehind = resolveWriteBehind(options.writeBehind, nested(where, 'writeBehind'));
      const queueMeters: WriteBehindMeters = {
        storeCalls: this.meters.storeCalls,
        storeFailures: this.meters.storeFailures,
        stored: this.meters.stored,
        flushes: m.counter(id, 'write.flushes'),
        coalesced: m.counter(id, 'write.coalesced'),
        retries: m.counter(id, 'write.retries'),
        dropped: m.counter(id, 'write.dropped'),
        lost: m.counter(id, 'write.lost'),
        lostKeys: m.counter(id, 'write.lost-keys'),
        inDoubt: m.counter(id, 'write.in-doubt'),
        queue: m.gauge(id, 'write.queue'),
        inFlight: m.gauge(id, 'write.in-flight'),
        queueAge: m.histogram(id, 'write.queue-age'),
      };
      this.queue = new WriteBehindQueue<V>(
        sim,
        this.name,
        this.writeBehind,
        this.store,
        storeAll,
        this.node,
        queueMeters,
      );
    } else {
      this.writeBehind = undefined;
      this.queue = undefined;
    }
    this.node?.onCrash(() => this.crashed());
  }

  /** A snapshot of the counters. */
  get stats(): CacheWriterStats {
    const c = this.counts;
    const q = this.queue?.counts;
    return {
      writes: c.writes,
      acks: c.acks,
      failed: c.failed,
      pending: this.pending.size,
      accepted: q?.accepted ?? c.accepted,
      storeCalls: c.storeCalls + (q?.storeCalls ?? 0),
      storeFailures: c.storeFailures + (q?.storeFailures ?? 0),
      stored: c.stored + (q?.stored ?? 0),
      queued: q?.queued ?? 0,
      queuedKeys: q?.queuedKeys ?? 0,
      inFlight: q?.inFlight ?? 0,
      lost: q?.lost ?? 0,
      lostKeys: q?.lostKeys ?? 0,
      inDoubt: q?.inDoubt ?? 0,
      dropped: q?.dropped ?? 0,
      flushes: q?.flushes ?? 0,
      coalesced: q?.coalesced ?? 0,
      retries: q?.retries ?? 0,
      rejected: c.rejected,
      syncFallbacks: c.syncFallbacks,
      peakQueued: q?.peakQueued ?? 0,
      maxQueueAge: q?.maxQueueAge ?? 0,
      invalidations: c.invalidations,
      cacheErrors: c.cacheErrors,
    };
  }

  /** Write-behind: the writes lost at each crash of the node, oldest first (empty otherwise). */
  get losses(): readonly WriteLoss[] {
    return this.queue?.losses ?? [];
  }

  /**
   * Writes `value` under `key` in this writer's mode. The event answers when the write is acknowledged
   * or has failed; it never fails itself.
   */
  write(key: string, value: V): SimEvent<WriteResult> {
    if (typeof key !== 'string')
      throw invalidArgument(`CacheWriter ${this.name}: write(key)`, key, 'a string');
    const out = this.sim.event<WriteResult>();
    const write: PendingWrite = { out, started: this.sim.now, answered: false };
    this.counts.writes++;
    this.meters.writes.inc();
    if (this.node !== undefined && this.node.state === 'down') {
      this.answer(write, false, 'down', false, false);
      return out;
    }
    this.pending.add(write);
    const epoch = this.epoch;
    if (!this.ordered) {
      this.run(key, value, write, epoch, noop);
      return out;
    }
    const waiting = this.busy.get(key);
    if (waiting !== undefined) waiting.push(() => this.run(key, value, write, epoch, this.release(key)));
    else {
      this.busy.set(key, []);
      this.run(key, value, write, epoch, this.release(key));
    }
    return out;
  }

  /** Write-behind: starts a flush of everything queued now (or right after the running one). */
  flush(): void {
    this.queue?.requestFlush();
  }

  /** Lets the next write of `key` start. */
  private release(key: string): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const waiting = this.busy.get(key);
      if (waiting === undefined) return;
      const next = waiting.shift();
      if (next === undefined) this.busy.delete(key);
      else next();
    };
  }

  private run(key: string, value: V, write: PendingWrite, epoch: number, done: () => void): void {
    if (epoch !== this.epoch) return;
    if (this.mode === 'write-behind') this.behind(key, value, write, epoch, done);
    else this.through(key, value, write, epoch, done);
  }

  /** Write-through and write-around: the store first, then the cache. */
  private through(key: string, value: V, write: PendingWrite, epoch: number, done: () => void): void {
    this.counts.storeCalls++;
    this.meters.storeCalls.inc();
    this.store(key, value).onProcessed((e) => {
      if (epoch !== this.epoch) return; // crashed meanwhile: already answered
      if (!(e.ok && e.value?.ok === true)) {
        this.counts.storeFailures++;
        this.meters.storeFailures.inc();
        done();
        this.answer(write, false, 'store-failed', false, false);
        return;
      }
      this.counts.accepted++;
      this.counts.stored++;
      this.meters.stored.inc();
      if (this.mode === 'write-through') {
        this.cache.store(key, value, this.storeOptions).onProcessed((c) => {
          if (epoch !== this.epoch) return;
          const cached = this.cacheApplied(c, key);
          done();
          this.answer(write, true, null, true, cached);
        });
        return;
      }
      const lag = this.lag.sample(this.rng);
      if (!(lag >= 0))
        throw invalidArgument(`CacheWriter ${this.name}: invalidationLag sample`, lag, 'a number of ms >= 0');
      if (lag === 0) {
        this.invalidate(this.cache, key).onProcessed((c) => {
          if (epoch !== this.epoch) return;
          if (!(c.ok && c.value === true)) this.cacheError();
          done();
          this.answer(write, true, null, true, false);
        });
        return;
      }
      if (lag !== Infinity)
        this.sim.schedule(lag, () =>
          this.invalidate(this.invalidator, key).onProcessed((c) => {
            if (!(c.ok && c.value === true)) this.cacheError();
          }),
        );
      done();
      this.answer(write, true, null, true, false);
    });
  }

  /** Write-behind: into the queue and the cache; acknowledged once the cache has it. */
  private behind(key: string, value: V, write: PendingWrite, epoch: number, done: () => void): void {
    const queue = this.queue!;
    const config = this.writeBehind!;
    let sync = false;
    if (queue.isFull(key)) {
      if (this.sim.tracing)
        this.sim.emit('@dsim.write.full', { writer: this.name, key, action: config.onFull });
      if (config.onFull === 'reject') {
        this.counts.rejected++;
        this.meters.rejected.inc();
        done();
        this.answer(write, false, 'queue-full', false, false);
        return;
      }
      sync = true;
      this.counts.syncFallbacks++;
      this.meters.syncFallbacks.inc();
    }
    let cached: boolean | undefined;
    let stored: boolean | undefined = sync ? undefined : false;
    const settle = (): void => {
      if (epoch !== this.epoch || cached === undefined || stored === undefined) return;
      done();
      if (sync && !stored) this.answer(write, false, 'store-failed', false, cached);
      else this.answer(write, true, null, sync, cached);
    };
    queue.offer(
      key,
      value,
      sync
        ? (ok) => {
            stored = ok;
            settle();
          }
        : null,
    );
    this.cache.store(key, value, this.storeOptions).onProcessed((c) => {
      if (epoch !== this.epoch) return;
      cached = this.cacheApplied(c, key);
      settle();
    });
  }

  /** Whether a cache update took; if not, counts it and deletes the key (best effort) so no old value stays. */
  private cacheApplied(c: SimEvent<boolean>, key: string): boolean {
    if (c.ok && c.value === true) return true;
    this.cacheError();
    this.cache.invalidate(key);
    return false;
  }

  private invalidate(access: CacheAccess<V>, key: string): SimEvent<boolean> {
    this.counts.invalidations++;
    this.meters.invalidations.inc();
    return access.invalidate(key);
  }

  private cacheError(): void {
    this.counts.cacheErrors++;
    this.meters.cacheErrors.inc();
  }

  private answer(
    write: PendingWrite,
    ok: boolean,
    error: WriteError | null,
    durable: boolean,
    cached: boolean,
  ): void {
    if (write.answered) return;
    write.answered = true;
    this.pending.delete(write);
    const latency = this.sim.now - write.started;
    if (ok) {
      this.counts.acks++;
      this.meters.acks.inc();
      this.meters.latency.record(latency);
    } else {
      this.counts.failed++;
      this.meters.failed.inc();
    }
    write.out.succeed({ ok, error, durable, cached, latency });
  }

  private crashed(): void {
    this.epoch++;
    this.busy.clear();
    this.queue?.crash();
    for (const write of [...this.pending]) this.answer(write, false, 'crashed', false, false);
  }
}

function noop(): void {}

function checkAccess<V>(access: CacheAccess<V>, where: Owner, field: string): CacheAccess<V> {
  if (
    access === null ||
    typeof access !== 'object' ||
    typeof access.store !== 'function' ||
    typeof access.invalidate !== 'function'
  )
    throw invalidOption(
      where,
      field,
      access,
      'a CacheAccess (LocalCacheAccess, RemoteCache or DistributedCache)',
    );
  return access;
}

/** A setting of one mode given to a writer of another: rejected, as it would be ignored. */
function onlyFor(value: unknown, applies: boolean, where: Owner, field: string, mode: WriteMode): void {
  if (value !== undefined && !applies)
    throw invalidOption(where, field, value, `left out: it applies to mode "${mode}" only`);
}
